package journal

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// ErrInjectedFault is the cause of every failure that MemBackend injects.
var ErrInjectedFault = errors.New("journal: injected fault")

// MemOptions configures a MemBackend.
type MemOptions struct {
	// SyncLatency is added to every WriteBatch, modelling a device's flush
	// time in benchmarks and simulations. Zero for none.
	SyncLatency time.Duration
	// MaxSnapshotsKept is how many snapshots the store keeps (newest first);
	// at least 1.
	MaxSnapshotsKept int
}

// DefaultMemOptions returns options with no latency and two snapshots kept.
func DefaultMemOptions() MemOptions {
	return MemOptions{SyncLatency: 0, MaxSnapshotsKept: 2}
}

// MemBackend is a crashable in-memory Backend for tests and simulations.
//
// A MemBackend is a handle on an in-memory store that outlives it, as a
// directory outlives a process: Reopen opens a new handle on the same store
// after Close or Crash. The store tells durable records from records written
// whose sync failed (FailNextSyncs): Crash loses the latter, CrashKeeping
// keeps a prefix of them (as a disk may persist part of a failed write), and
// Reopen after Close keeps them (they sit in the page cache). Faults are set
// on the store and apply to whichever handle writes next.
type MemBackend struct {
	store *memStore
	gen   uint64 // the store generation this handle belongs to
}

type memRecord struct {
	lsn uint64
	rec []byte
}

type memSnapshot struct {
	lsn  uint64
	data []byte
}

// memStore is the "disk". Invariants under mu: records hold LSNs firstLSN,
// firstLSN+1, … densely; records[:synced] are durable; snapshots are sorted by
// LSN, newest last, at most opts.MaxSnapshotsKept of them.
type memStore struct {
	opts MemOptions

	mu        sync.Mutex
	gen       uint64 // bumped by Close and Crash: older handles are dead
	open      bool   // a handle of generation gen is open
	failed    error  // the open handle's sync failed: it refuses writes
	records   []memRecord
	firstLSN  uint64 // LSN of records[0], or of the next record when empty
	synced    int
	snapshots []memSnapshot

	failWrites, failSyncs, failSnapshots int
	writes                               int
}

// NewMemBackend returns an open handle on a new, empty store.
func NewMemBackend(opts MemOptions) *MemBackend {
	if opts.MaxSnapshotsKept < 1 {
		opts.MaxSnapshotsKept = 1
	}
	s := &memStore{opts: opts, gen: 1, open: true, firstLSN: 1}
	return &MemBackend{store: s, gen: 1}
}

var _ Backend = (*MemBackend)(nil)

// Reopen opens a new handle on the same store, as a restarted process
// would. Records present become durable. It fails while another handle is
// open (Close or Crash it first).
func (m *MemBackend) Reopen() (*MemBackend, error) {
	s := m.store
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open {
		return nil, errors.New("journal: mem backend: store is open in another handle")
	}
	s.gen++
	s.open = true
	s.failed = nil
	s.synced = len(s.records)
	return &MemBackend{store: s, gen: s.gen}, nil
}

// Crash kills the open handle (its calls fail with ErrClosed) and loses
// every record whose sync did not complete.
func (m *MemBackend) Crash() { m.CrashKeeping(0) }

// CrashKeeping is Crash that keeps the first n records whose sync did not
// complete (fewer if there are fewer).
func (m *MemBackend) CrashKeeping(n int) {
	s := m.store
	s.mu.Lock()
	defer s.mu.Unlock()
	keep := min(s.synced+max(n, 0), len(s.records))
	clear(s.records[keep:])
	s.records = s.records[:keep]
	s.synced = keep
	s.gen++
	s.open = false
	s.failed = nil
}

// SetSyncLatency changes SyncLatency for the next WriteBatch calls.
func (m *MemBackend) SetSyncLatency(d time.Duration) {
	m.store.mu.Lock()
	defer m.store.mu.Unlock()
	m.store.opts.SyncLatency = d
}

// FailNextWrites makes the next n WriteBatch calls fail before writing
// anything.
func (m *MemBackend) FailNextWrites(n int) {
	m.store.mu.Lock()
	defer m.store.mu.Unlock()
	m.store.failWrites = n
}

// FailNextSyncs makes the next n WriteBatch calls write their records but
// fail the sync: the records are not durable (Crash loses them), the call
// returns an error, and the handle refuses further writes.
func (m *MemBackend) FailNextSyncs(n int) {
	m.store.mu.Lock()
	defer m.store.mu.Unlock()
	m.store.failSyncs = n
}

// FailNextSnapshots makes the next n SaveSnapshot calls fail, saving nothing.
func (m *MemBackend) FailNextSnapshots(n int) {
	m.store.mu.Lock()
	defer m.store.mu.Unlock()
	m.store.failSnapshots = n
}

// WriteCount is the number of WriteBatch calls that reached the store.
func (m *MemBackend) WriteCount() int {
	m.store.mu.Lock()
	defer m.store.mu.Unlock()
	return m.store.writes
}

// lockLive locks the store and checks that this handle is the open one.
// On error the store is unlocked.
func (m *MemBackend) lockLive() error {
	m.store.mu.Lock()
	if !m.store.open || m.store.gen != m.gen {
		m.store.mu.Unlock()
		return fmt.Errorf("%w: mem backend handle is closed or crashed", ErrClosed)
	}
	return nil
}

// lastDurableLocked is the LSN of the last durable record.
func (s *memStore) lastDurableLocked() uint64 { return s.firstLSN + uint64(s.synced) - 1 }

// WriteBatch implements Backend.
func (m *MemBackend) WriteBatch(ctx context.Context, firstLSN uint64, recs [][]byte) error {
	if err := m.sleep(ctx); err != nil {
		return err
	}
	if err := m.lockLive(); err != nil {
		return err
	}
	s := m.store
	defer s.mu.Unlock()
	s.writes++
	switch {
	case s.failed != nil:
		return fmt.Errorf("journal: mem backend refuses writes after a failed sync: %w", s.failed)
	case firstLSN != s.lastDurableLocked()+1:
		return fmt.Errorf("%w: write at %d, last LSN %d", ErrLSN, firstLSN, s.lastDurableLocked())
	case s.failWrites > 0:
		s.failWrites--
		return fmt.Errorf("journal: mem backend write: %w", ErrInjectedFault)
	}
	for i, r := range recs {
		s.records = append(s.records, memRecord{lsn: firstLSN + uint64(i), rec: slices.Clone(r)})
	}
	if s.failSyncs > 0 {
		s.failSyncs--
		s.failed = fmt.Errorf("journal: mem backend sync: %w", ErrInjectedFault)
		return s.failed
	}
	s.synced = len(s.records)
	return nil
}

func (m *MemBackend) sleep(ctx context.Context) error {
	m.store.mu.Lock()
	latency := m.store.opts.SyncLatency
	m.store.mu.Unlock()
	if latency <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(latency)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Replay implements Backend.
func (m *MemBackend) Replay(ctx context.Context, fromLSN uint64, fn func(lsn uint64, rec []byte) error) error {
	if err := m.lockLive(); err != nil {
		return err
	}
	s := m.store
	fromLSN = max(fromLSN, 1)
	last := s.lastDurableLocked()
	if fromLSN < s.firstLSN {
		s.mu.Unlock()
		return fmt.Errorf("%w: replay from %d, first retained LSN %d", ErrTruncated, fromLSN, s.firstLSN)
	}
	var recs []memRecord
	if fromLSN <= last {
		recs = s.records[fromLSN-s.firstLSN : s.synced : s.synced]
	}
	s.mu.Unlock()
	for _, r := range recs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(r.lsn, r.rec); err != nil {
			return err
		}
	}
	return nil
}

// Truncate implements Backend.
func (m *MemBackend) Truncate(ctx context.Context, throughLSN uint64) error {
	if err := m.lockLive(); err != nil {
		return err
	}
	s := m.store
	defer s.mu.Unlock()
	if throughLSN > s.lastDurableLocked() {
		return fmt.Errorf("%w: truncate through %d, last LSN %d", ErrLSN, throughLSN, s.lastDurableLocked())
	}
	if throughLSN < s.firstLSN {
		return nil
	}
	n := int(throughLSN - s.firstLSN + 1)
	s.records = slices.Clone(s.records[n:])
	s.synced -= n
	s.firstLSN = throughLSN + 1
	return nil
}

// LastLSN implements Backend.
func (m *MemBackend) LastLSN() uint64 {
	m.store.mu.Lock()
	defer m.store.mu.Unlock()
	return m.store.lastDurableLocked()
}

// SaveSnapshot implements Backend.
func (m *MemBackend) SaveSnapshot(ctx context.Context, lsn uint64, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := m.lockLive(); err != nil {
		return err
	}
	s := m.store
	defer s.mu.Unlock()
	if lsn > s.lastDurableLocked() {
		return fmt.Errorf("%w: snapshot at %d, last LSN %d", ErrLSN, lsn, s.lastDurableLocked())
	}
	if s.failSnapshots > 0 {
		s.failSnapshots--
		return fmt.Errorf("journal: mem backend snapshot: %w", ErrInjectedFault)
	}
	s.snapshots = slices.DeleteFunc(s.snapshots, func(sn memSnapshot) bool { return sn.lsn == lsn })
	s.snapshots = append(s.snapshots, memSnapshot{lsn: lsn, data: slices.Clone(data)})
	slices.SortFunc(s.snapshots, func(a, b memSnapshot) int { return cmp.Compare(a.lsn, b.lsn) })
	if extra := len(s.snapshots) - s.opts.MaxSnapshotsKept; extra > 0 {
		s.snapshots = slices.Delete(s.snapshots, 0, extra)
	}
	return nil
}

// LoadSnapshot implements Backend.
func (m *MemBackend) LoadSnapshot(ctx context.Context) (uint64, []byte, error) {
	if err := m.lockLive(); err != nil {
		return 0, nil, err
	}
	s := m.store
	defer s.mu.Unlock()
	if len(s.snapshots) == 0 {
		return 0, nil, ErrNoSnapshot
	}
	sn := s.snapshots[len(s.snapshots)-1]
	return sn.lsn, slices.Clone(sn.data), nil
}

// Close implements Backend. Records whose sync failed stay in the store (a
// Crash after Close can still lose them).
func (m *MemBackend) Close() error {
	if err := m.lockLive(); err != nil {
		return err
	}
	m.store.open = false
	m.store.gen++
	m.store.mu.Unlock()
	return nil
}
