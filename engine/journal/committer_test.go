package journal_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"stockd/engine/journal"
	"stockd/engine/journal/journaltest"
)

func TestCommitterConfigValidation(t *testing.T) {
	m := journal.NewMemBackend(journal.DefaultMemOptions())
	bad := []journal.CommitterConfig{
		{},
		{MaxQueuedRecords: 10, MaxQueuedBytes: 10, MaxGroupRecords: 11, MaxGroupBytes: 10, MaxWriteDuration: time.Second},
		{MaxQueuedRecords: 10, MaxQueuedBytes: 10, MaxGroupRecords: 10, MaxGroupBytes: 11, MaxWriteDuration: time.Second},
		{MaxQueuedRecords: 10, MaxQueuedBytes: 10, MaxGroupRecords: 10, MaxGroupBytes: 10},
		{MaxQueuedRecords: 10, MaxQueuedBytes: 10, MaxGroupRecords: 0, MaxGroupBytes: 10, MaxWriteDuration: time.Second},
		{MaxQueuedRecords: 10, MaxQueuedBytes: 10, MaxGroupRecords: 10, MaxGroupBytes: 10, MaxWriteDuration: time.Second,
			GatherWait: time.Millisecond, GatherTickets: 1},
		{MaxQueuedRecords: 10, MaxQueuedBytes: 10, MaxGroupRecords: 10, MaxGroupBytes: 10, MaxWriteDuration: time.Second,
			GatherWait: time.Second, GatherTickets: 8},
	}
	for _, cfg := range bad {
		if _, err := journal.NewCommitter(m, cfg); err == nil {
			t.Errorf("NewCommitter(%+v): err = nil, want an error", cfg)
		}
	}
	c, err := journal.NewCommitter(m, journal.DefaultCommitterConfig())
	if err != nil {
		t.Fatalf("NewCommitter(default): %v", err)
	}
	if err := c.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// TestCommitterGroups checks that concurrent callers share writes and that
// OnGroup sees every record once.
func TestCommitterGroups(t *testing.T) {
	opts := journal.DefaultMemOptions()
	opts.SyncLatency = time.Millisecond
	m := journal.NewMemBackend(opts)
	var mu sync.Mutex
	var records, groups int
	cfg := journaltest.TestConfig()
	cfg.OnGroup = func(g journal.GroupStats) {
		mu.Lock()
		defer mu.Unlock()
		records += g.Records
		groups++
		if g.Err != nil || g.Records > cfg.MaxGroupRecords {
			t.Errorf("group %+v", g)
		}
	}
	c := journaltest.MustCommitter(t, m, cfg)
	const callers, each = 32, 20
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			for range each {
				if err := c.Commit(context.Background(), []byte("r")); err != nil {
					t.Errorf("Commit: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := c.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if got, want := records, callers*each; got != want {
		t.Fatalf("OnGroup saw %d records, want %d", got, want)
	}
	if got := m.WriteCount(); got != groups || got >= callers*each {
		t.Fatalf("WriteCount = %d with %d groups for %d records: want one write per group and fewer writes than records", got, groups, records)
	}
}

func TestCommitterSyncFailureFailsLaterTickets(t *testing.T) {
	m := journal.NewMemBackend(journal.DefaultMemOptions())
	c := journaltest.MustCommitter(t, m, journaltest.TestConfig())
	m.FailNextSyncs(1)
	var tickets []*journal.Ticket
	for lsn := uint64(1); lsn <= 200; lsn++ {
		tk, err := c.Enqueue(journaltest.Record(lsn))
		if err != nil {
			if !errors.Is(err, journal.ErrUnavailable) {
				t.Fatalf("Enqueue %d: err = %v, want nil or ErrUnavailable", lsn, err)
			}
			break
		}
		tickets = append(tickets, tk)
	}
	for _, tk := range tickets {
		err := tk.Wait(context.Background())
		if !errors.Is(err, journal.ErrUnavailable) || !errors.Is(err, journal.ErrInjectedFault) {
			t.Fatalf("ticket %d: err = %v, want ErrUnavailable wrapping the cause", tk.LSN(), err)
		}
	}
	if got := c.DurableLSN(); got != 0 {
		t.Fatalf("DurableLSN = %d, want 0", got)
	}
	m.Crash()
	m2, err := m.Reopen()
	if err != nil {
		t.Fatalf("Reopen: %v", err)
	}
	if got := m2.LastLSN(); got != 0 {
		t.Fatalf("LastLSN after crash = %d, want 0: nothing was synced", got)
	}
}

func TestTicketWaitContext(t *testing.T) {
	m := journal.NewMemBackend(journal.DefaultMemOptions())
	c := journaltest.MustCommitter(t, m, journaltest.TestConfig())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tk, err := c.Enqueue([]byte("x"))
	if err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	select {
	case <-tk.Done():
		if err := tk.Wait(ctx); err != nil {
			t.Fatalf("Wait on a done ticket with a cancelled context: %v", err)
		}
	default:
		if err := tk.Wait(ctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait with a cancelled context: err = %v, want nil or context.Canceled", err)
		}
	}
	if err := tk.Wait(context.Background()); err != nil {
		t.Fatalf("Wait: %v", err)
	}
}

// TestCommitterWriteTimeout checks MaxWriteDuration: a write that outlives
// it fails the committer instead of hanging it.
func TestCommitterWriteTimeout(t *testing.T) {
	opts := journal.DefaultMemOptions()
	opts.SyncLatency = time.Hour
	m := journal.NewMemBackend(opts)
	cfg := journaltest.TestConfig()
	cfg.MaxWriteDuration = time.Millisecond
	c := journaltest.MustCommitter(t, m, cfg)
	err := c.Commit(context.Background(), []byte("x"))
	if !errors.Is(err, journal.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Commit with a hanging write: err = %v, want ErrUnavailable wrapping DeadlineExceeded", err)
	}
}

// TestCommitterBarriersAreBounded checks that barriers, which carry no
// records, still count against MaxQueuedRecords while the queue is stuck.
func TestCommitterBarriersAreBounded(t *testing.T) {
	cfg := journaltest.TestConfig()
	cfg.MaxQueuedRecords, cfg.MaxGroupRecords = 4, 4
	c := stuckCommitter(t, cfg)
	if _, err := c.Enqueue([]byte("stuck")); err != nil {
		t.Fatal(err)
	}
	queued := 0
	for range 10 {
		if _, err := c.Enqueue(); err != nil {
			if !errors.Is(err, journal.ErrQueueFull) {
				t.Fatalf("barrier: err = %v, want ErrQueueFull", err)
			}
			break
		}
		queued++
	}
	// The flusher may already have taken some barriers into the stuck group
	// (in flight), and a full queue waits behind it: at most twice the limit.
	if queued > 2*cfg.MaxQueuedRecords {
		t.Fatalf("queued %d barriers behind a stuck write, want at most %d", queued, 2*cfg.MaxQueuedRecords)
	}
}

// TestCommitterGather: a group waits GatherWait for company exactly when
// the group before it carried more than one ticket, and callers that come
// meanwhile share its write.
func TestCommitterGather(t *testing.T) {
	opts := journal.DefaultMemOptions()
	opts.SyncLatency = 20 * time.Millisecond
	m := journal.NewMemBackend(opts)
	var mu sync.Mutex
	var groups []journal.GroupStats
	cfg := journaltest.TestConfig()
	cfg.GatherWait, cfg.GatherTickets = journal.MaxGatherWait, 8
	cfg.OnGroup = func(g journal.GroupStats) {
		mu.Lock()
		defer mu.Unlock()
		groups = append(groups, g)
	}
	enqueued := 0
	// lastGroup returns the last group once OnGroup has seen every record
	// enqueued (it runs after the tickets complete).
	lastGroup := func() journal.GroupStats {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
			mu.Lock()
			seen := 0
			for _, g := range groups {
				seen += g.Records
			}
			if seen == enqueued {
				g := groups[len(groups)-1]
				mu.Unlock()
				return g
			}
			mu.Unlock()
			if time.Now().After(deadline) {
				t.Fatalf("OnGroup saw %d of %d records", seen, enqueued)
			}
		}
	}
	c := journaltest.MustCommitter(t, m, cfg)
	enqueue := func() *journal.Ticket {
		t.Helper()
		tk, err := c.Enqueue([]byte("r"))
		if err != nil {
			t.Fatal(err)
		}
		enqueued++
		return tk
	}
	wait := func(tks ...*journal.Ticket) {
		t.Helper()
		for _, tk := range tks {
			if err := tk.Wait(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Concurrent callers: bursts until the last group carried two or more.
	for attempt := 0; ; attempt++ {
		if attempt == 20 {
			t.Fatal("no burst of three ended with a group of more than one ticket")
		}
		wait(enqueue(), enqueue(), enqueue())
		if lastGroup().Tickets > 1 {
			break
		}
	}
	start := time.Now()
	t4 := enqueue()
	t5 := enqueue()
	together := time.Since(start) < time.Millisecond // t5 came well within the wait
	wait(t4)
	if took := time.Since(start); took < cfg.GatherWait+opts.SyncLatency {
		t.Errorf("t4 durable after %v, want at least GatherWait %v + the write %v", took, cfg.GatherWait, opts.SyncLatency)
	}
	wait(t5)
	if g := lastGroup(); together && g.Tickets != 2 {
		t.Errorf("t4 and t5 were not gathered into one group: last group %+v", g)
	}
	// Lone callers: the first waits (the group before had two), then none.
	for range 3 {
		wait(enqueue())
	}
	if err := c.Close(context.Background()); err != nil { // OnGroup has seen every group
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for i, g := range groups {
		want := i > 0 && groups[i-1].Tickets > 1
		if got := g.Gathered > 0; got != want {
			t.Errorf("group %d (%d tickets, previous %d): gathered %v, want %v", i, g.Tickets, groups[max(i-1, 0)].Tickets, g.Gathered, want)
		}
		if g.Gathered > 0 && g.Gathered < cfg.GatherWait {
			t.Errorf("group %d gathered for %v, less than GatherWait %v", i, g.Gathered, cfg.GatherWait)
		}
	}
	if n := len(groups); groups[n-1].Gathered != 0 || groups[n-2].Gathered != 0 {
		t.Errorf("lone callers waited: %+v", groups[n-3:])
	}
}

// TestCommitterGatherEndsWhenFull: a gather ends as soon as GatherTickets
// are queued, not at GatherWait.
func TestCommitterGatherEndsWhenFull(t *testing.T) {
	m := journal.NewMemBackend(journal.DefaultMemOptions())
	groups := make(chan journal.GroupStats, 1024)
	cfg := journaltest.TestConfig()
	cfg.GatherWait, cfg.GatherTickets = journal.MaxGatherWait, 4
	cfg.OnGroup = func(g journal.GroupStats) {
		select {
		case groups <- g:
		default:
		}
	}
	c := journaltest.MustCommitter(t, m, cfg)
	defer c.Close(context.Background())
	enqueue := func() *journal.Ticket {
		t.Helper()
		tk, err := c.Enqueue([]byte("r"))
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	waitAll := func(tks []*journal.Ticket) journal.GroupStats {
		t.Helper()
		for _, tk := range tks {
			if err := tk.Wait(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		var last journal.GroupStats
		for seen := 0; seen < len(tks); seen += last.Tickets {
			select {
			case last = <-groups:
			case <-time.After(10 * time.Second):
				t.Fatal("no group reported")
			}
		}
		return last
	}
	for attempt := 0; attempt < 20; attempt++ {
		// A burst, so that the next group gathers.
		if g := waitAll([]*journal.Ticket{enqueue(), enqueue(), enqueue()}); g.Tickets < 2 {
			continue
		}
		// One caller, then, once the flusher gathers, three more: the
		// fourth fills the group.
		tks := []*journal.Ticket{enqueue()}
		time.Sleep(cfg.GatherWait / 5)
		tks = append(tks, enqueue(), enqueue(), enqueue())
		g := waitAll(tks)
		if g.Gathered == 0 || g.Tickets != len(tks) {
			continue // the flusher did not gather these four together; try again
		}
		if g.Gathered >= cfg.GatherWait {
			t.Fatalf("a full group waited %v, the whole GatherWait %v", g.Gathered, cfg.GatherWait)
		}
		return
	}
	t.Fatal("no attempt gathered four tickets into one group")
}

// TestEnqueueSliceReusable: Enqueue copies which records it got, so the
// caller may refill the slice at once (the engine reuses one per command)
// while the records themselves are written as they were.
func TestEnqueueSliceReusable(t *testing.T) {
	m := journal.NewMemBackend(journal.DefaultMemOptions())
	c := journaltest.MustCommitter(t, m, journaltest.TestConfig())
	recs := [][]byte{[]byte("a1"), []byte("a2")}
	t1, err := c.Enqueue(recs...)
	if err != nil {
		t.Fatal(err)
	}
	recs[0], recs[1] = []byte("b1"), []byte("b2")
	t2, err := c.Enqueue(recs[:1]...)
	if err != nil {
		t.Fatal(err)
	}
	recs[0] = []byte("c1")
	for _, tk := range []*journal.Ticket{t1, t2} {
		if err := tk.Wait(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	if err := m.Replay(t.Context(), 1, func(_ uint64, rec []byte) error { got = append(got, string(rec)); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"a1", "a2", "b1"}; !slices.Equal(got, want) {
		t.Fatalf("journal holds %q, want %q", got, want)
	}
	if err := c.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestCommitterEnqueueAdmitted: records whose room was checked before are
// queued past the queue's bounds, where Enqueue refuses them.
func TestCommitterEnqueueAdmitted(t *testing.T) {
	cfg := journaltest.TestConfig()
	cfg.MaxQueuedRecords, cfg.MaxGroupRecords = 4, 4
	cfg.MaxQueuedBytes, cfg.MaxGroupBytes = 1024, 1024
	c := stuckCommitter(t, cfg)
	big := make([]byte, 700)
	if _, err := c.Enqueue(big); err != nil { // in flight, stuck
		t.Fatal(err)
	}
	if _, err := c.Enqueue(big); !errors.Is(err, journal.ErrQueueFull) {
		t.Fatalf("Enqueue past MaxQueuedBytes: %v, want ErrQueueFull", err)
	}
	if _, err := c.EnqueueAdmitted(big); err != nil {
		t.Fatalf("EnqueueAdmitted past MaxQueuedBytes: %v", err)
	}
	if n, b := c.Queued(); n != 2 || b != 1400 {
		t.Fatalf("queued %d records, %d bytes; want 2, 1400", n, b)
	}
	if _, err := c.EnqueueAdmitted(make([]byte, 2000)); !errors.Is(err, journal.ErrTooLarge) {
		t.Fatalf("EnqueueAdmitted over MaxGroupBytes: %v, want ErrTooLarge", err)
	}
}

// stuckCommitter is a committer whose first write never completes (an
// hour's sync), closed at the test's end.
func stuckCommitter(t *testing.T, cfg journal.CommitterConfig) *journal.Committer {
	t.Helper()
	opts := journal.DefaultMemOptions()
	opts.SyncLatency = time.Hour
	c, err := journal.NewCommitter(journal.NewMemBackend(opts), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = c.Close(ctx)
	})
	return c
}
