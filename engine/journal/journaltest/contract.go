package journaltest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"stockd/engine/journal"
)

// Opener opens a backend over one storage location. Every call opens the
// same data; the suite closes (or abandons after a failure) the previous
// backend before calling it again.
type Opener func() (journal.Backend, error)

// RunBackendContract runs the backend contract. newStore creates a new,
// empty storage location for one subtest and returns its Opener.
func RunBackendContract(t *testing.T, newStore func(tb testing.TB) Opener) {
	t.Helper()
	cases := []struct {
		name string
		run  func(t *testing.T, open Opener)
	}{
		{"Empty", testEmpty},
		{"AppendReplay", testAppendReplay},
		{"ReplayFromMiddle", testReplayFromMiddle},
		{"ReplayStopsOnError", testReplayStopsOnError},
		{"ReplayCancelled", testReplayCancelled},
		{"WriteBatchWrongLSN", testWriteBatchWrongLSN},
		{"LargeRecords", testLargeRecords},
		{"Reopen", testReopen},
		{"Truncate", testTruncate},
		{"TruncateBeyondLast", testTruncateBeyondLast},
		{"Snapshots", testSnapshots},
		{"SnapshotBeyondLast", testSnapshotBeyondLast},
		{"CommitterConcurrent", testCommitterConcurrent},
		{"CommitterTicketsInOrder", testCommitterTicketsInOrder},
		{"CommitterBarrier", testCommitterBarrier},
		{"CommitterQueueFull", testCommitterQueueFull},
		{"CommitterTooLarge", testCommitterTooLarge},
		{"CommitterCloseFlushes", testCommitterCloseFlushes},
		{"CommitterCloseCancelled", testCommitterCloseCancelled},
		{"CommitterFailureNothingWritten", func(t *testing.T, open Opener) { testCommitterFailure(t, open, false) }},
		{"CommitterFailureAfterWrite", func(t *testing.T, open Opener) { testCommitterFailure(t, open, true) }},
		{"ReplayAndTruncateDuringWrites", testReplayAndTruncateDuringWrites},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.run(t, newStore(t))
		})
	}
}

// Record is the deterministic test payload for lsn: 0 to 96 bytes that
// start with the LSN when long enough.
func Record(lsn uint64) []byte {
	rec := make([]byte, lsn%97)
	for i := range rec {
		rec[i] = byte(lsn*31 + uint64(i))
	}
	if len(rec) >= 8 {
		binary.LittleEndian.PutUint64(rec, lsn)
	}
	return rec
}

// Records returns Record(first), …, Record(first+n-1).
func Records(first uint64, n int) [][]byte {
	recs := make([][]byte, n)
	for i := range recs {
		recs[i] = Record(first + uint64(i))
	}
	return recs
}

// MustOpen opens a backend and closes it at the end of the test unless the
// test closed it first.
func MustOpen(tb testing.TB, open Opener) journal.Backend {
	tb.Helper()
	b, err := open()
	if err != nil {
		tb.Fatalf("open backend: %v", err)
	}
	tb.Cleanup(func() { _ = b.Close() })
	return b
}

// MustClose closes a backend.
func MustClose(tb testing.TB, b journal.Backend) {
	tb.Helper()
	if err := b.Close(); err != nil {
		tb.Fatalf("close backend: %v", err)
	}
}

// MustWrite writes Records(b.LastLSN()+1, n) as one batch.
func MustWrite(tb testing.TB, b journal.Backend, n int) {
	tb.Helper()
	first := b.LastLSN() + 1
	if err := b.WriteBatch(context.Background(), first, Records(first, n)); err != nil {
		tb.Fatalf("WriteBatch(%d, %d records): %v", first, n, err)
	}
	if got, want := b.LastLSN(), first+uint64(n)-1; got != want {
		tb.Fatalf("LastLSN after write = %d, want %d", got, want)
	}
}

// ReplayAll returns the LSNs and copies of the records from fromLSN on.
func ReplayAll(tb testing.TB, b journal.Backend, fromLSN uint64) ([]uint64, [][]byte) {
	tb.Helper()
	var lsns []uint64
	var recs [][]byte
	err := b.Replay(context.Background(), fromLSN, func(lsn uint64, rec []byte) error {
		lsns = append(lsns, lsn)
		recs = append(recs, bytes.Clone(rec))
		return nil
	})
	if err != nil {
		tb.Fatalf("Replay(%d): %v", fromLSN, err)
	}
	return lsns, recs
}

// CheckRecords replays from fromLSN and checks that it yields exactly
// Record(fromLSN) … Record(lastLSN).
func CheckRecords(tb testing.TB, b journal.Backend, fromLSN, lastLSN uint64) {
	tb.Helper()
	lsns, recs := ReplayAll(tb, b, fromLSN)
	fromLSN = max(fromLSN, 1)
	if got, want := uint64(len(lsns)), lastLSN+1-fromLSN; got != want {
		tb.Fatalf("Replay(%d) gave %d records, want %d (through LSN %d)", fromLSN, got, want, lastLSN)
	}
	for i, lsn := range lsns {
		if want := fromLSN + uint64(i); lsn != want {
			tb.Fatalf("Replay(%d) record %d has LSN %d, want %d", fromLSN, i, lsn, want)
		}
		if !bytes.Equal(recs[i], Record(lsn)) {
			tb.Fatalf("Replay(%d) LSN %d = %x, want %x", fromLSN, lsn, recs[i], Record(lsn))
		}
	}
}

func testEmpty(t *testing.T, open Opener) {
	b := MustOpen(t, open)
	if got := b.LastLSN(); got != 0 {
		t.Fatalf("LastLSN of empty journal = %d, want 0", got)
	}
	CheckRecords(t, b, 1, 0)
	CheckRecords(t, b, 0, 0)
	if _, _, err := b.LoadSnapshot(context.Background()); !errors.Is(err, journal.ErrNoSnapshot) {
		t.Fatalf("LoadSnapshot of empty journal: err = %v, want ErrNoSnapshot", err)
	}
}

func testAppendReplay(t *testing.T, open Opener) {
	b := MustOpen(t, open)
	for _, n := range []int{1, 2, 97, 1, 500, 3} {
		MustWrite(t, b, n)
	}
	CheckRecords(t, b, 1, 604)
}

func testReplayFromMiddle(t *testing.T, open Opener) {
	b := MustOpen(t, open)
	MustWrite(t, b, 50)
	MustWrite(t, b, 50)
	CheckRecords(t, b, 37, 100)
	CheckRecords(t, b, 100, 100)
	CheckRecords(t, b, 101, 100)
	CheckRecords(t, b, 1000, 999) // past the end: nothing
}

func testReplayStopsOnError(t *testing.T, open Opener) {
	b := MustOpen(t, open)
	MustWrite(t, b, 20)
	stop := errors.New("stop here")
	var seen []uint64
	err := b.Replay(context.Background(), 1, func(lsn uint64, _ []byte) error {
		seen = append(seen, lsn)
		if lsn == 5 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("Replay err = %v, want the callback's error", err)
	}
	if got, want := len(seen), 5; got != want {
		t.Fatalf("callback ran %d times, want %d", got, want)
	}
}

func testReplayCancelled(t *testing.T, open Opener) {
	b := MustOpen(t, open)
	MustWrite(t, b, 20)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := 0
	err := b.Replay(ctx, 1, func(uint64, []byte) error { calls++; return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Replay with a cancelled context: err = %v after %d calls, want context.Canceled", err, calls)
	}
}

func testWriteBatchWrongLSN(t *testing.T, open Opener) {
	b := MustOpen(t, open)
	MustWrite(t, b, 3)
	for _, first := range []uint64{0, 1, 3, 5} {
		err := b.WriteBatch(context.Background(), first, Records(first, 1))
		if !errors.Is(err, journal.ErrLSN) {
			t.Fatalf("WriteBatch at %d with LastLSN 3: err = %v, want ErrLSN", first, err)
		}
	}
	MustWrite(t, b, 2)
	CheckRecords(t, b, 1, 5)
}

func testLargeRecords(t *testing.T, open Opener) {
	b := MustOpen(t, open)
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	recs := [][]byte{big, {}, big[:12345], nil}
	if err := b.WriteBatch(context.Background(), 1, recs); err != nil {
		t.Fatalf("WriteBatch of large records: %v", err)
	}
	_, got := ReplayAll(t, b, 1)
	if len(got) != len(recs) {
		t.Fatalf("replayed %d records, want %d", len(got), len(recs))
	}
	for i := range recs {
		if !bytes.Equal(got[i], recs[i]) {
			t.Fatalf("record %d: got %d bytes, want %d", i+1, len(got[i]), len(recs[i]))
		}
	}
}

func testReopen(t *testing.T, open Opener) {
	b := MustOpen(t, open)
	MustWrite(t, b, 10)
	MustWrite(t, b, 5)
	MustClose(t, b)
	b = MustOpen(t, open)
	if got, want := b.LastLSN(), uint64(15); got != want {
		t.Fatalf("LastLSN after reopen = %d, want %d", got, want)
	}
	CheckRecords(t, b, 1, 15)
	MustWrite(t, b, 7)
	MustClose(t, b)
	b = MustOpen(t, open)
	CheckRecords(t, b, 1, 22)
}

func testTruncate(t *testing.T, open Opener) {
	ctx := context.Background()
	b := MustOpen(t, open)
	for range 10 {
		MustWrite(t, b, 10)
	}
	if err := b.Truncate(ctx, 55); err != nil {
		t.Fatalf("Truncate(55): %v", err)
	}
	if got, want := b.LastLSN(), uint64(100); got != want {
		t.Fatalf("LastLSN after Truncate = %d, want %d", got, want)
	}
	CheckRecords(t, b, 56, 100)
	checkReplayFromStartAfterTruncate(t, b, 100)
	MustClose(t, b)

	b = MustOpen(t, open)
	CheckRecords(t, b, 56, 100)
	if err := b.Truncate(ctx, 100); err != nil {
		t.Fatalf("Truncate(100): %v", err)
	}
	if err := b.Truncate(ctx, 20); err != nil { // already dropped: no-op
		t.Fatalf("Truncate(20) after Truncate(100): %v", err)
	}
	CheckRecords(t, b, 101, 100)
	MustClose(t, b)

	b = MustOpen(t, open)
	if got, want := b.LastLSN(), uint64(100); got != want {
		t.Fatalf("LastLSN after truncating everything and reopening = %d, want %d", got, want)
	}
	MustWrite(t, b, 5)
	CheckRecords(t, b, 101, 105)
}

// checkReplayFromStartAfterTruncate accepts either answer a backend may give
// after dropping a prefix: ErrTruncated, or every record (nothing dropped
// yet, as when the file backend keeps the segment).
func checkReplayFromStartAfterTruncate(tb testing.TB, b journal.Backend, last uint64) {
	tb.Helper()
	var first uint64
	err := b.Replay(context.Background(), 1, func(lsn uint64, _ []byte) error {
		if first == 0 {
			first = lsn
		}
		return nil
	})
	switch {
	case errors.Is(err, journal.ErrTruncated):
		if first != 0 {
			tb.Fatalf("Replay(1) after Truncate called back (LSN %d) before returning ErrTruncated", first)
		}
	case err != nil:
		tb.Fatalf("Replay(1) after Truncate: %v", err)
	default:
		CheckRecords(tb, b, 1, last)
	}
}

func testTruncateBeyondLast(t *testing.T, open Opener) {
	b := MustOpen(t, open)
	MustWrite(t, b, 5)
	if err := b.Truncate(context.Background(), 6); !errors.Is(err, journal.ErrLSN) {
		t.Fatalf("Truncate(6) with LastLSN 5: err = %v, want ErrLSN", err)
	}
	CheckRecords(t, b, 1, 5)
}

func testSnapshots(t *testing.T, open Opener) {
	ctx := context.Background()
	b := MustOpen(t, open)
	MustWrite(t, b, 30)
	saves := []struct {
		lsn  uint64
		data []byte
	}{{0, []byte{}}, {10, []byte("ten")}, {20, bytes.Repeat([]byte("twenty"), 100000)}}
	for _, s := range saves {
		if err := b.SaveSnapshot(ctx, s.lsn, s.data); err != nil {
			t.Fatalf("SaveSnapshot(%d): %v", s.lsn, err)
		}
		checkSnapshot(t, b, s.lsn, s.data)
	}
	MustClose(t, b)
	b = MustOpen(t, open)
	checkSnapshot(t, b, 20, saves[2].data)
	if err := b.SaveSnapshot(ctx, 30, nil); err != nil {
		t.Fatalf("SaveSnapshot(30, nil): %v", err)
	}
	checkSnapshot(t, b, 30, []byte{})
	if err := b.Truncate(ctx, 30); err != nil {
		t.Fatalf("Truncate(30): %v", err)
	}
	MustClose(t, b)
	b = MustOpen(t, open)
	checkSnapshot(t, b, 30, []byte{})
	CheckRecords(t, b, 31, 30)
}

func checkSnapshot(tb testing.TB, b journal.Backend, wantLSN uint64, wantData []byte) {
	tb.Helper()
	lsn, data, err := b.LoadSnapshot(context.Background())
	if err != nil {
		tb.Fatalf("LoadSnapshot: %v", err)
	}
	if lsn != wantLSN || !bytes.Equal(data, wantData) {
		tb.Fatalf("LoadSnapshot = (%d, %d bytes), want (%d, %d bytes)", lsn, len(data), wantLSN, len(wantData))
	}
}

func testSnapshotBeyondLast(t *testing.T, open Opener) {
	b := MustOpen(t, open)
	MustWrite(t, b, 5)
	if err := b.SaveSnapshot(context.Background(), 6, []byte("x")); !errors.Is(err, journal.ErrLSN) {
		t.Fatalf("SaveSnapshot(6) with LastLSN 5: err = %v, want ErrLSN", err)
	}
	if _, _, err := b.LoadSnapshot(context.Background()); !errors.Is(err, journal.ErrNoSnapshot) {
		t.Fatalf("LoadSnapshot after a refused save: err = %v, want ErrNoSnapshot", err)
	}
}

// TestConfig is a committer configuration with small groups, so that the
// suite exercises group boundaries.
func TestConfig() journal.CommitterConfig {
	return journal.CommitterConfig{
		MaxQueuedRecords: 4096,
		MaxQueuedBytes:   8 << 20,
		MaxGroupRecords:  64,
		MaxGroupBytes:    1 << 20,
		MaxWriteDuration: time.Minute,
	}
}

// MustCommitter starts a committer over b and closes it at the end of the
// test.
func MustCommitter(tb testing.TB, b journal.Backend, cfg journal.CommitterConfig) *journal.Committer {
	tb.Helper()
	c, err := journal.NewCommitter(b, cfg)
	if err != nil {
		tb.Fatalf("NewCommitter: %v", err)
	}
	tb.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

func testCommitterConcurrent(t *testing.T, open Opener) {
	const writers, perWriter = 16, 100
	b := MustOpen(t, open)
	c := MustCommitter(t, b, TestConfig())
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				rec := binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, uint32(w)), uint32(i))
				if err := c.Commit(context.Background(), rec); err != nil {
					errs <- fmt.Errorf("writer %d commit %d: %w", w, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := c.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	lsns, recs := ReplayAll(t, b, 1)
	if got, want := len(lsns), writers*perWriter; got != want {
		t.Fatalf("replayed %d records, want %d", got, want)
	}
	next := make([]uint32, writers)
	for i, lsn := range lsns {
		if lsn != uint64(i+1) {
			t.Fatalf("record %d has LSN %d: LSNs are not dense", i, lsn)
		}
		w, seq := binary.LittleEndian.Uint32(recs[i]), binary.LittleEndian.Uint32(recs[i][4:])
		if seq != next[w] {
			t.Fatalf("LSN %d: writer %d record %d, want record %d (each writer's records in order)", lsn, w, seq, next[w])
		}
		next[w]++
	}
}

func testCommitterTicketsInOrder(t *testing.T, open Opener) {
	const n = 500
	b := MustOpen(t, open)
	c := MustCommitter(t, b, TestConfig())
	tickets := make([]*journal.Ticket, n)
	for i := range tickets {
		lsn := uint64(i + 1)
		tk, err := c.Enqueue(Record(lsn))
		if err != nil {
			t.Fatalf("Enqueue %d: %v", lsn, err)
		}
		if tk.LSN() != lsn || tk.FirstLSN() != lsn {
			t.Fatalf("ticket %d has LSNs %d..%d, want %d", i, tk.FirstLSN(), tk.LSN(), lsn)
		}
		tickets[i] = tk
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := n - 1; i >= 0; i-- {
		wg.Go(func() {
			if err := tickets[i].Wait(context.Background()); err != nil {
				errs <- fmt.Errorf("ticket %d: %w", i, err)
				return
			}
			if d := c.DurableLSN(); d < tickets[i].LSN() {
				errs <- fmt.Errorf("ticket %d done with DurableLSN %d", i, d)
			}
			for j := range i {
				select {
				case <-tickets[j].Done():
				default:
					errs <- fmt.Errorf("ticket %d done before earlier ticket %d", i, j)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	CheckRecords(t, b, 1, n)
}

func testCommitterBarrier(t *testing.T, open Opener) {
	b := MustOpen(t, open)
	c := MustCommitter(t, b, TestConfig())
	idle, err := c.Enqueue()
	if err != nil {
		t.Fatalf("barrier on an idle committer: %v", err)
	}
	select {
	case <-idle.Done():
	default:
		t.Fatalf("barrier on an idle committer is not done")
	}
	var last *journal.Ticket
	for lsn := uint64(1); lsn <= 100; lsn++ {
		if last, err = c.Enqueue(Record(lsn)); err != nil {
			t.Fatalf("Enqueue %d: %v", lsn, err)
		}
	}
	barrier, err := c.Enqueue()
	if err != nil {
		t.Fatalf("barrier: %v", err)
	}
	if got, want := barrier.LSN(), uint64(100); got != want {
		t.Fatalf("barrier LSN = %d, want %d", got, want)
	}
	if err := barrier.Wait(context.Background()); err != nil {
		t.Fatalf("barrier Wait: %v", err)
	}
	select {
	case <-last.Done():
	default:
		t.Fatalf("barrier done before the record enqueued before it")
	}
	if got := c.DurableLSN(); got < 100 {
		t.Fatalf("DurableLSN after barrier = %d, want 100", got)
	}
}

func testCommitterQueueFull(t *testing.T, open Opener) {
	b := MustOpen(t, open)
	gate := newGatedBackend(b)
	cfg := TestConfig()
	cfg.MaxQueuedRecords, cfg.MaxGroupRecords = 8, 4
	c := MustCommitter(t, gate, cfg)
	var tickets []*journal.Ticket
	for lsn := uint64(1); lsn <= 8; lsn++ {
		tk, err := c.Enqueue(Record(lsn))
		if err != nil {
			t.Fatalf("Enqueue %d of 8 allowed: %v", lsn, err)
		}
		tickets = append(tickets, tk)
	}
	if _, err := c.Enqueue(Record(9)); !errors.Is(err, journal.ErrQueueFull) {
		t.Fatalf("Enqueue past MaxQueuedRecords: err = %v, want ErrQueueFull", err)
	}
	if got, _ := c.Queued(); got != 8 {
		t.Fatalf("Queued records = %d, want 8", got)
	}
	close(gate.release)
	for i, tk := range tickets {
		if err := tk.Wait(context.Background()); err != nil {
			t.Fatalf("ticket %d after release: %v", i, err)
		}
	}
	if err := c.Commit(context.Background(), Record(9)); err != nil {
		t.Fatalf("Commit after the queue drained: %v", err)
	}
	CheckRecords(t, b, 1, 9)

	cfg.MaxQueuedRecords, cfg.MaxQueuedBytes, cfg.MaxGroupBytes = 100, 100, 100
	if err := c.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	gate2 := newGatedBackend(b)
	c2 := MustCommitter(t, gate2, cfg)
	if _, err := c2.Enqueue(make([]byte, 60)); err != nil {
		t.Fatalf("Enqueue 60 of 100 bytes: %v", err)
	}
	if _, err := c2.Enqueue(make([]byte, 41)); !errors.Is(err, journal.ErrQueueFull) {
		t.Fatalf("Enqueue past MaxQueuedBytes: err = %v, want ErrQueueFull", err)
	}
	close(gate2.release)
}

func testCommitterTooLarge(t *testing.T, open Opener) {
	b := MustOpen(t, open)
	cfg := TestConfig()
	c := MustCommitter(t, b, cfg)
	if _, err := c.Enqueue(Records(1, cfg.MaxGroupRecords+1)...); !errors.Is(err, journal.ErrTooLarge) {
		t.Fatalf("Enqueue of MaxGroupRecords+1: err = %v, want ErrTooLarge", err)
	}
	if _, err := c.Enqueue(make([]byte, cfg.MaxGroupBytes+1)); !errors.Is(err, journal.ErrTooLarge) {
		t.Fatalf("Enqueue of MaxGroupBytes+1: err = %v, want ErrTooLarge", err)
	}
	if err := c.Commit(context.Background(), Records(1, cfg.MaxGroupRecords)...); err != nil {
		t.Fatalf("Commit of MaxGroupRecords: %v", err)
	}
	CheckRecords(t, b, 1, uint64(cfg.MaxGroupRecords))
}

func testCommitterCloseFlushes(t *testing.T, open Opener) {
	b := MustOpen(t, open)
	c := MustCommitter(t, b, TestConfig())
	var tickets []*journal.Ticket
	for lsn := uint64(1); lsn <= 300; lsn++ {
		tk, err := c.Enqueue(Record(lsn))
		if err != nil {
			t.Fatalf("Enqueue %d: %v", lsn, err)
		}
		tickets = append(tickets, tk)
	}
	if err := c.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for i, tk := range tickets {
		if err := tk.Err(); err != nil {
			t.Fatalf("ticket %d after Close: %v", i, err)
		}
		select {
		case <-tk.Done():
		default:
			t.Fatalf("ticket %d not done after Close", i)
		}
	}
	if _, err := c.Enqueue(Record(301)); !errors.Is(err, journal.ErrClosed) {
		t.Fatalf("Enqueue after Close: err = %v, want ErrClosed", err)
	}
	MustClose(t, b)
	b = MustOpen(t, open)
	CheckRecords(t, b, 1, 300)
}

func testCommitterCloseCancelled(t *testing.T, open Opener) {
	b := MustOpen(t, open)
	gate := newGatedBackend(b)
	c := MustCommitter(t, gate, TestConfig())
	if err := c.Commit(context.Background()); err != nil {
		t.Fatalf("barrier: %v", err)
	}
	first, err := c.Enqueue(Record(1))
	if err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	second, err := c.Enqueue(Record(2))
	if err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Close(ctx); err == nil {
		t.Fatalf("Close with a cancelled context while a write hangs: err = nil, want an error")
	}
	for i, tk := range []*journal.Ticket{first, second} {
		if err := tk.Wait(context.Background()); !errors.Is(err, journal.ErrUnavailable) {
			t.Fatalf("ticket %d after a cancelled Close: err = %v, want ErrUnavailable", i, err)
		}
	}
	if got := b.LastLSN(); got != 0 {
		t.Fatalf("LastLSN after the write was cancelled = %d, want 0", got)
	}
}

func testCommitterFailure(t *testing.T, open Opener, afterWrite bool) {
	ctx := context.Background()
	b := MustOpen(t, open)
	faulty := newFaultyBackend(b)
	c := MustCommitter(t, faulty, TestConfig())
	for lsn := uint64(1); lsn <= 10; lsn++ {
		if err := c.Commit(ctx, Record(lsn)); err != nil {
			t.Fatalf("Commit %d: %v", lsn, err)
		}
	}
	faulty.failNext(afterWrite)
	var tickets []*journal.Ticket
	for lsn := uint64(11); lsn <= 40; lsn++ {
		tk, err := c.Enqueue(Record(lsn))
		if err != nil {
			break // the failure may already have reached the committer
		}
		tickets = append(tickets, tk)
	}
	for i, tk := range tickets {
		if err := tk.Wait(ctx); !errors.Is(err, journal.ErrUnavailable) {
			t.Fatalf("ticket for LSN %d after a write failure: err = %v, want ErrUnavailable", 11+i, err)
		}
	}
	if c.Healthy() || !errors.Is(c.Err(), journal.ErrUnavailable) {
		t.Fatalf("after a write failure: Healthy %v, Err %v; want false and ErrUnavailable", c.Healthy(), c.Err())
	}
	if err := c.Commit(ctx, Record(41)); !errors.Is(err, journal.ErrUnavailable) {
		t.Fatalf("Commit in the failed state: err = %v, want ErrUnavailable", err)
	}
	if got, want := faulty.writesAfterFailure(), 0; got != want {
		t.Fatalf("writes after the failure = %d, want %d", got, want)
	}
	if err := c.Close(ctx); !errors.Is(err, journal.ErrUnavailable) {
		t.Fatalf("Close of a failed committer: err = %v, want ErrUnavailable", err)
	}
	_ = b.Close()

	// Recovery: every acknowledged record is there; unacknowledged ones may
	// be, as a dense prefix.
	b = MustOpen(t, open)
	last := b.LastLSN()
	if last < 10 || last > 40 {
		t.Fatalf("LastLSN after recovery = %d, want 10..40", last)
	}
	if !afterWrite && last != 10 {
		t.Fatalf("LastLSN after recovery from a write that wrote nothing = %d, want 10", last)
	}
	CheckRecords(t, b, 1, last)
	c2 := MustCommitter(t, b, TestConfig())
	if err := c2.Commit(ctx, Record(last+1)); err != nil {
		t.Fatalf("Commit after recovery: %v", err)
	}
	CheckRecords(t, b, 1, last+1)
}

func testReplayAndTruncateDuringWrites(t *testing.T, open Opener) {
	ctx := context.Background()
	b := MustOpen(t, open)
	c := MustCommitter(t, b, TestConfig())
	const total = 2000
	done := make(chan error, 1)
	go func() {
		for lsn := uint64(1); lsn <= total; lsn++ {
			if _, err := c.Enqueue(Record(lsn)); err != nil {
				if errors.Is(err, journal.ErrQueueFull) {
					if err := c.Commit(ctx); err != nil {
						done <- err
						return
					}
					lsn--
					continue
				}
				done <- err
				return
			}
		}
		done <- c.Commit(ctx)
	}()
	var truncated uint64
	for finished := false; !finished; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("writer: %v", err)
			}
			finished = true
		default:
		}
		last := b.LastLSN()
		if last > truncated+100 {
			if err := b.Truncate(ctx, last-50); err != nil {
				t.Fatalf("Truncate(%d) during writes: %v", last-50, err)
			}
			truncated = last - 50
		}
		next := truncated + 1
		err := b.Replay(ctx, next, func(lsn uint64, rec []byte) error {
			if lsn != next || !bytes.Equal(rec, Record(lsn)) {
				return fmt.Errorf("replay during writes: LSN %d (%d bytes), want LSN %d", lsn, len(rec), next)
			}
			next++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	CheckRecords(t, b, truncated+1, total)
}
