package journal_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"stockd/engine/journal"
	"stockd/engine/journal/journaltest"
)

func TestMemBackendContract(t *testing.T) {
	journaltest.RunBackendContract(t, func(tb testing.TB) journaltest.Opener {
		var current *journal.MemBackend
		return func() (journal.Backend, error) {
			if current == nil {
				current = journal.NewMemBackend(journal.DefaultMemOptions())
				return current, nil
			}
			next, err := current.Reopen()
			if err != nil {
				return nil, err
			}
			current = next
			return current, nil
		}
	})
}

func TestMemBackendCrashLosesUnsynced(t *testing.T) {
	ctx := context.Background()
	m := journal.NewMemBackend(journal.DefaultMemOptions())
	journaltest.MustWrite(t, m, 5)
	m.FailNextSyncs(1)
	err := m.WriteBatch(ctx, 6, journaltest.Records(6, 4))
	if !errors.Is(err, journal.ErrInjectedFault) {
		t.Fatalf("WriteBatch with a failing sync: err = %v, want ErrInjectedFault", err)
	}
	if got, want := m.LastLSN(), uint64(5); got != want {
		t.Fatalf("LastLSN after a failed sync = %d, want %d", got, want)
	}
	if err := m.WriteBatch(ctx, 6, journaltest.Records(6, 1)); err == nil {
		t.Fatalf("WriteBatch after a failed sync: err = nil, want a refusal")
	}
	m.CrashKeeping(2)
	if err := m.WriteBatch(ctx, 6, journaltest.Records(6, 1)); !errors.Is(err, journal.ErrClosed) {
		t.Fatalf("WriteBatch on a crashed handle: err = %v, want ErrClosed", err)
	}
	m2, err := m.Reopen()
	if err != nil {
		t.Fatalf("Reopen: %v", err)
	}
	if got, want := m2.LastLSN(), uint64(7); got != want {
		t.Fatalf("LastLSN after CrashKeeping(2) = %d, want %d", got, want)
	}
	journaltest.CheckRecords(t, m2, 1, 7)

	m2.FailNextSyncs(1)
	_ = m2.WriteBatch(ctx, 8, journaltest.Records(8, 3))
	m2.Crash()
	m3, err := m2.Reopen()
	if err != nil {
		t.Fatalf("Reopen: %v", err)
	}
	journaltest.CheckRecords(t, m3, 1, 7)
	if _, err := m3.Reopen(); err == nil {
		t.Fatalf("Reopen while a handle is open: err = nil, want an error")
	}
}

func TestMemBackendCloseKeepsUnsynced(t *testing.T) {
	m := journal.NewMemBackend(journal.DefaultMemOptions())
	m.FailNextSyncs(1)
	_ = m.WriteBatch(context.Background(), 1, journaltest.Records(1, 3))
	if err := m.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	m2, err := m.Reopen()
	if err != nil {
		t.Fatalf("Reopen: %v", err)
	}
	journaltest.CheckRecords(t, m2, 1, 3)
}

func TestMemBackendFailNextWrites(t *testing.T) {
	ctx := context.Background()
	m := journal.NewMemBackend(journal.DefaultMemOptions())
	m.FailNextWrites(2)
	for i := range 2 {
		if err := m.WriteBatch(ctx, 1, journaltest.Records(1, 1)); !errors.Is(err, journal.ErrInjectedFault) {
			t.Fatalf("write %d: err = %v, want ErrInjectedFault", i, err)
		}
	}
	journaltest.MustWrite(t, m, 1) // a failed write (not sync) leaves the handle usable
	m.FailNextSnapshots(1)
	if err := m.SaveSnapshot(ctx, 1, []byte("s")); !errors.Is(err, journal.ErrInjectedFault) {
		t.Fatalf("SaveSnapshot: err = %v, want ErrInjectedFault", err)
	}
	if _, _, err := m.LoadSnapshot(ctx); !errors.Is(err, journal.ErrNoSnapshot) {
		t.Fatalf("LoadSnapshot after a failed save: err = %v, want ErrNoSnapshot", err)
	}
	if got, want := m.WriteCount(), 3; got != want {
		t.Fatalf("WriteCount = %d, want %d", got, want)
	}
}

// TestMemBackendCrashSimulation runs seeded rounds of commits, injected
// faults and crashes, checking after each recovery that every acknowledged
// record survived, that the journal is a dense prefix of what was enqueued,
// and that the snapshot plus replay rebuilds the same state.
func TestMemBackendCrashSimulation(t *testing.T) {
	for seed := int64(1); seed <= 20; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { runCrashSimulation(t, seed) })
	}
}

func runCrashSimulation(t *testing.T, seed int64) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	m := journal.NewMemBackend(journal.DefaultMemOptions())
	var acked uint64 // highest LSN acknowledged to a caller
	for round := range 30 {
		c, err := journal.NewCommitter(m, journaltest.TestConfig())
		if err != nil {
			t.Fatalf("seed %d round %d: NewCommitter: %v", seed, round, err)
		}
		switch rng.IntN(4) {
		case 0:
			m.FailNextSyncs(1)
		case 1:
			m.FailNextWrites(1)
		}
		var tickets []*journal.Ticket
		for range rng.IntN(200) {
			lsn := c.LastLSN() + 1
			tk, err := c.Enqueue(journaltest.Record(lsn))
			if err != nil {
				break
			}
			tickets = append(tickets, tk)
		}
		for _, tk := range tickets {
			if tk.Wait(ctx) == nil {
				acked = max(acked, tk.LSN())
			}
		}
		if rng.IntN(3) == 0 && m.LastLSN() > 0 {
			snap := rng.Uint64N(m.LastLSN() + 1)
			if err := m.SaveSnapshot(ctx, snap, binary.LittleEndian.AppendUint64(nil, snap)); err == nil {
				_ = m.Truncate(ctx, snap)
			}
		}
		_ = c.Close(ctx)
		m.CrashKeeping(rng.IntN(3))
		if m, err = m.Reopen(); err != nil {
			t.Fatalf("seed %d round %d: Reopen: %v", seed, round, err)
		}
		if m.LastLSN() < acked {
			t.Fatalf("seed %d round %d: LastLSN %d after crash, but LSN %d was acknowledged", seed, round, m.LastLSN(), acked)
		}
		from := uint64(1)
		if lsn, data, err := m.LoadSnapshot(ctx); err == nil {
			if binary.LittleEndian.Uint64(data) != lsn {
				t.Fatalf("seed %d round %d: snapshot at %d holds %x", seed, round, lsn, data)
			}
			from = lsn + 1
		}
		journaltest.CheckRecords(t, m, from, m.LastLSN())
	}
}
