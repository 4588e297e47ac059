package filejournal

import (
	"context"
	"errors"
	"io"
	"testing"

	"stockd/engine/journal"
	"stockd/engine/journal/journaltest"
)

// TestWriteFailureRefusesLaterWrites breaks the active segment's file
// descriptor: the failed write is not retried, later writes are refused,
// and reopening recovers every durable record. The failure hits the
// group's write (inside the preallocated region) or the preallocation.
func TestWriteFailureRefusesLaterWrites(t *testing.T) {
	for _, c := range []struct {
		name     string
		prealloc int64
	}{
		{"group write", DefaultOptions().PreallocateBytes},
		{"preallocation", 64}, // records 1..5 take 115 bytes, 6..7 pass 128
		{"append", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts := DefaultOptions()
			opts.PreallocateBytes = c.prealloc
			testWriteFailure(t, opts)
		})
	}
}

func testWriteFailure(t *testing.T, opts Options) {
	ctx := context.Background()
	dir := t.TempDir()
	j, err := Open(ctx, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	journaltest.MustWrite(t, j, 5)
	if err := j.active.Close(); err != nil {
		t.Fatal(err)
	}
	if err := j.WriteBatch(ctx, 6, journaltest.Records(6, 2)); err == nil {
		t.Fatalf("WriteBatch on a broken descriptor: err = nil, want an error")
	}
	err = j.WriteBatch(ctx, 6, journaltest.Records(6, 2))
	if !errors.Is(err, journal.ErrUnavailable) {
		t.Fatalf("WriteBatch after a failure: err = %v, want ErrUnavailable", err)
	}
	if got := j.LastLSN(); got != 5 {
		t.Fatalf("LastLSN after a failed write = %d, want 5", got)
	}
	journaltest.CheckRecords(t, j, 1, 5)
	_ = j.Close()

	j, err = Open(ctx, dir, opts)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer j.Close()
	journaltest.CheckRecords(t, j, 1, 5)
	journaltest.MustWrite(t, j, 2)
}

// TestGroupIsOneWrite checks the encoding: a group is one buffer with
// consecutive frames and group positions 0..n-1.
func TestGroupIsOneWrite(t *testing.T) {
	recs := journaltest.Records(7, 5)
	var buf []byte
	for i, r := range recs {
		buf = appendFrame(buf, 7+uint64(i), uint32(i), r)
	}
	fr := newFrameReader(bytesReader(buf), int64(len(buf)), 7, 64)
	for i := range recs {
		lsn, rec, err := fr.next()
		if err != nil || lsn != 7+uint64(i) || string(rec) != string(recs[i]) || fr.lastSeen.groupPos != uint32(i) {
			t.Fatalf("frame %d: lsn %d pos %d err %v", i, lsn, fr.lastSeen.groupPos, err)
		}
	}
}

type sliceReader struct {
	b   []byte
	off int
}

func bytesReader(b []byte) *sliceReader { return &sliceReader{b: b} }

func (r *sliceReader) Read(p []byte) (int, error) {
	if r.off == len(r.b) {
		return 0, io.EOF
	}
	n := copy(p, r.b[r.off:])
	r.off += n
	return n, nil
}
