package journal

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// CommitterConfig bounds the committer's memory and group sizes. Every field
// must be set; DefaultCommitterConfig gives the production values.
type CommitterConfig struct {
	// MaxQueuedRecords bounds records enqueued and not yet durable
	// (waiting or being written), and the tickets waiting (barriers
	// included). Beyond it Enqueue returns ErrQueueFull.
	MaxQueuedRecords int
	// MaxQueuedBytes bounds the payload bytes of those records.
	MaxQueuedBytes int64
	// MaxGroupRecords bounds the records written by one WriteBatch. One
	// Enqueue never spans two groups, so it may carry at most this many.
	MaxGroupRecords int
	// MaxGroupBytes bounds the payload bytes written by one WriteBatch.
	MaxGroupBytes int64
	// MaxWriteDuration bounds one WriteBatch through its context. A write
	// that runs out of time fails like any other (a database statement is
	// cancelled; an fdatasync cannot be interrupted and is waited for).
	MaxWriteDuration time.Duration
	// GatherWait, when positive, lets a group gather: if the previous
	// group carried more than one ticket (callers are concurrent) and
	// fewer than GatherTickets are queued, the flusher waits this long
	// before taking the queue, so that one write and one fsync serve more
	// callers, as PostgreSQL's commit_delay does. A lone caller never
	// waits. Zero (the default) takes the queue at once.
	GatherWait time.Duration
	// GatherTickets is the queue length at which a group is taken without
	// waiting (used only with GatherWait).
	GatherTickets int
	// OnGroup, if not nil, is called by the flusher goroutine after every
	// write (for metrics: flush size and latency). It must not block.
	OnGroup func(GroupStats)
}

// MaxGatherWait bounds CommitterConfig.GatherWait: a group never waits
// longer than this for company.
const MaxGatherWait = 10 * time.Millisecond

// DefaultCommitterConfig returns the production limits.
func DefaultCommitterConfig() CommitterConfig {
	return CommitterConfig{
		MaxQueuedRecords: 1 << 16,
		MaxQueuedBytes:   64 << 20,
		MaxGroupRecords:  4096,
		MaxGroupBytes:    4 << 20,
		MaxWriteDuration: 10 * time.Second,
	}
}

func (cfg CommitterConfig) validate() error {
	switch {
	case cfg.MaxQueuedRecords <= 0, cfg.MaxQueuedBytes <= 0, cfg.MaxGroupRecords <= 0, cfg.MaxGroupBytes <= 0,
		cfg.MaxWriteDuration <= 0:
		return fmt.Errorf("journal: committer limits must be positive: %+v", cfg)
	case cfg.GatherWait < 0 || cfg.GatherWait > MaxGatherWait || (cfg.GatherWait > 0 && cfg.GatherTickets < 2):
		return fmt.Errorf("journal: GatherWait must be within [0, %v] and GatherTickets at least 2 with it: %+v", MaxGatherWait, cfg)
	case cfg.MaxGroupRecords > cfg.MaxQueuedRecords, cfg.MaxGroupBytes > cfg.MaxQueuedBytes:
		return fmt.Errorf("journal: group limits exceed queue limits: %+v", cfg)
	}
	return nil
}

// GroupStats describes one group write.
type GroupStats struct {
	FirstLSN uint64
	Records  int
	Bytes    int64
	Tickets  int
	Start    time.Time     // when Backend.WriteBatch was called
	Duration time.Duration // time spent in Backend.WriteBatch
	Gathered time.Duration // time the group waited for company (GatherWait); 0 when taken at once
	Err      error
}

// Ticket tracks one Enqueue until its records are durable.
//
// Tickets complete in LSN order: when a ticket is done, every ticket issued
// before it is done too.
type Ticket struct {
	first, last uint64 // records first..last; first == last+1 for a barrier
	done        chan struct{}
	err         error // written before done is closed

	recs  [][]byte  // owned until written; nil afterwards
	one   [1][]byte // backing array of recs for a single record
	bytes int64
}

// LSN is the LSN of the ticket's last record. For a barrier (Enqueue with no
// records) it is the last LSN enqueued before it.
func (t *Ticket) LSN() uint64 { return t.last }

// FirstLSN is the LSN of the ticket's first record (LSN()+1 for a barrier).
func (t *Ticket) FirstLSN() uint64 { return t.first }

// Done is closed when the records are durable or have failed.
func (t *Ticket) Done() <-chan struct{} { return t.done }

// Err is nil once the records are durable; after Done it reports a failure
// wrapping ErrUnavailable. Before Done it returns nil.
func (t *Ticket) Err() error {
	select {
	case <-t.done:
		return t.err
	default:
		return nil
	}
}

// Wait blocks until the records are durable (nil), failed (an error wrapping
// ErrUnavailable) or ctx ends. After ctx ends the outcome is unknown: the
// records may still become durable.
func (t *Ticket) Wait(ctx context.Context) error {
	select {
	case <-t.done:
		return t.err
	default:
	}
	select {
	case <-t.done:
		return t.err
	case <-ctx.Done():
		return fmt.Errorf("journal: waiting for LSN %d: %w", t.last, ctx.Err())
	}
}

// Committer is the group committer in front of a Backend, in the manner of
// pebble's commit pipeline: callers enqueue records in sequence, one flusher
// goroutine writes everything queued so far as one group with one
// WriteBatch, then completes the group's tickets in LSN order.
//
// Invariants, under mu: LSNs are dense (nextLSN-1 is the last enqueued);
// queue holds tickets not yet taken by the flusher, in LSN order; at most one
// group is in flight; once err is set it never clears and nothing more is
// written. The Committer does not own the Backend: close the Committer first,
// then the Backend.
type Committer struct {
	backend Backend
	cfg     CommitterConfig

	// ctx is passed to the backend; cancelled when Close gives up waiting.
	ctx    context.Context
	cancel context.CancelFunc

	mu            sync.Mutex
	nextLSN       uint64
	queue         []*Ticket
	inflight      bool
	lastTickets   int           // tickets in the group taken last (GatherWait)
	gathering     bool          // the flusher waits for company: Enqueue signals gatherFull at GatherTickets
	gathered      time.Duration // the flusher's: how long the group in hand waited
	queuedRecords int           // enqueued and not yet durable, in flight included
	queuedBytes   int64         // their payload bytes
	err           error         // sticky failure
	closing       bool

	durable     atomic.Uint64 // LSN of the last durable record
	wake        chan struct{} // capacity 1: work or Close for the flusher
	gatherFull  chan struct{} // capacity 1: GatherTickets queued while the flusher gathers
	flusherDone chan struct{}
	doneTicket  chan struct{} // closed; shared by barriers with nothing to wait for
}

// NewCommitter starts a committer (and its flusher goroutine) that appends
// after b.LastLSN(). Nothing else may write to b while it runs. Stop it with
// Close.
func NewCommitter(b Backend, cfg CommitterConfig) (*Committer, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Committer{
		backend:     b,
		cfg:         cfg,
		ctx:         ctx,
		cancel:      cancel,
		nextLSN:     b.LastLSN() + 1,
		wake:        make(chan struct{}, 1),
		gatherFull:  make(chan struct{}, 1),
		flusherDone: make(chan struct{}),
		doneTicket:  make(chan struct{}),
	}
	close(c.doneTicket)
	c.durable.Store(b.LastLSN())
	go c.flush()
	return c, nil
}

// Enqueue assigns the next LSNs to recs and queues them for the next group.
// It never blocks on I/O. The caller must not modify the records' bytes
// until the ticket is done; the slice recs itself (which record is where)
// is copied and may be reused as soon as Enqueue returns. Errors:
// ErrQueueFull (nothing queued; retry later, HTTP 429), ErrTooLarge (more
// than one group can hold), an error wrapping ErrUnavailable after a write
// failure, ErrClosed after Close.
//
// Enqueue with no records is a barrier: its ticket completes when every
// record enqueued before it is durable (for replies that depend on state
// changed by earlier, possibly not yet durable, records).
func (c *Committer) Enqueue(recs ...[]byte) (*Ticket, error) {
	return c.enqueue(false, recs)
}

// EnqueueAdmitted is Enqueue for records whose room the caller checked
// (with Queued, under a lock every enqueuer of this committer holds)
// before making them, from an estimate of their size: the state they
// record has changed already, so they are queued even where they take the
// queue past MaxQueuedRecords or MaxQueuedBytes, which is then exceeded by
// at most the estimate's shortfall, and the next admission check sees it.
// ErrTooLarge, ErrUnavailable and ErrClosed apply as to Enqueue.
func (c *Committer) EnqueueAdmitted(recs ...[]byte) (*Ticket, error) {
	return c.enqueue(true, recs)
}

func (c *Committer) enqueue(admitted bool, recs [][]byte) (*Ticket, error) {
	var bytes int64
	for _, r := range recs {
		bytes += int64(len(r))
	}
	if len(recs) > c.cfg.MaxGroupRecords || bytes > c.cfg.MaxGroupBytes {
		return nil, fmt.Errorf("%w: %d records, %d bytes in one enqueue (MaxGroupRecords %d, MaxGroupBytes %d)",
			ErrTooLarge, len(recs), bytes, c.cfg.MaxGroupRecords, c.cfg.MaxGroupBytes)
	}
	c.mu.Lock()
	if err := c.stateErrLocked(); err != nil {
		c.mu.Unlock()
		return nil, err
	}
	if len(recs) == 0 && len(c.queue) == 0 && !c.inflight {
		t := &Ticket{first: c.nextLSN, last: c.nextLSN - 1, done: c.doneTicket}
		c.mu.Unlock()
		return t, nil
	}
	if !admitted && (c.queuedRecords+len(recs) > c.cfg.MaxQueuedRecords || c.queuedBytes+bytes > c.cfg.MaxQueuedBytes ||
		len(c.queue) >= c.cfg.MaxQueuedRecords) {
		c.mu.Unlock()
		return nil, ErrQueueFull
	}
	t := &Ticket{
		first: c.nextLSN,
		last:  c.nextLSN + uint64(len(recs)) - 1,
		done:  make(chan struct{}),
		bytes: bytes,
	}
	// Copy the slice header so the variadic argument does not escape
	// (one allocation less per call for the common single record).
	if len(recs) == 1 {
		t.one[0] = recs[0]
		t.recs = t.one[:]
	} else {
		t.recs = append([][]byte(nil), recs...)
	}
	c.nextLSN += uint64(len(recs))
	c.queuedRecords += len(recs)
	c.queuedBytes += bytes
	c.queue = append(c.queue, t)
	full := c.gathering && len(c.queue) >= c.cfg.GatherTickets
	if full {
		c.gathering = false // one signal per gather
	}
	c.mu.Unlock()
	if full {
		select {
		case c.gatherFull <- struct{}{}:
		default:
		}
	}
	c.signal()
	return t, nil
}

// Commit enqueues recs and waits until they are durable: the convenience
// form for callers that block. See Enqueue and Ticket.Wait for the errors.
func (c *Committer) Commit(ctx context.Context, recs ...[]byte) error {
	t, err := c.Enqueue(recs...)
	if err != nil {
		return err
	}
	return t.Wait(ctx)
}

// DurableLSN is the LSN of the last durable record.
func (c *Committer) DurableLSN() uint64 { return c.durable.Load() }

// LastLSN is the LSN of the last enqueued record.
func (c *Committer) LastLSN() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nextLSN - 1
}

// Queued reports the records and payload bytes enqueued and not yet durable.
func (c *Committer) Queued() (records int, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.queuedRecords, c.queuedBytes
}

// Err is nil while the committer works; after a write failure it is the
// error (wrapping ErrUnavailable) that every later Enqueue returns.
func (c *Committer) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Healthy reports whether the committer accepts and writes records.
func (c *Committer) Healthy() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err == nil && !c.closing
}

// Close stops accepting records, waits until everything already enqueued
// is written (or ctx ends: the write in flight is cancelled and the rest
// fail), and stops the flusher. It returns nil when every enqueued record
// became durable. It does not close the Backend.
func (c *Committer) Close(ctx context.Context) error {
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	c.signal()
	var waitErr error
	select {
	case <-c.flusherDone:
	case <-ctx.Done():
		waitErr = fmt.Errorf("journal: close: %w", ctx.Err())
		c.cancel()
		<-c.flusherDone
	}
	c.cancel()
	if err := c.Err(); err != nil {
		return err
	}
	return waitErr
}

func (c *Committer) stateErrLocked() error {
	if c.err != nil {
		return c.err
	}
	if c.closing {
		return ErrClosed
	}
	return nil
}

func (c *Committer) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// flush is the flusher goroutine: one group at a time, in LSN order.
func (c *Committer) flush() {
	defer close(c.flusherDone)
	var group []*Ticket
	var recs [][]byte
	for {
		var ok bool
		group, ok = c.nextGroup(group[:0])
		if !ok {
			return
		}
		recs = recs[:0]
		for _, t := range group {
			recs = append(recs, t.recs...)
		}
		if !c.writeGroup(group, recs) {
			return
		}
		clear(recs)
		clear(group)
	}
}

// nextGroup waits for queued tickets and moves a group of them, bounded by
// MaxGroupRecords and MaxGroupBytes, from the queue into group. It reports
// false when the flusher should stop: closing with an empty queue, or
// failed.
func (c *Committer) nextGroup(group []*Ticket) ([]*Ticket, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.queue) == 0 {
		if c.closing || c.err != nil {
			return group, false
		}
		c.mu.Unlock()
		<-c.wake
		c.mu.Lock()
	}
	if c.err != nil {
		return group, false
	}
	if c.cfg.GatherWait > 0 && c.lastTickets > 1 && len(c.queue) < c.cfg.GatherTickets && !c.closing {
		// Wait for company: GatherWait at most, less once GatherTickets
		// are queued (Enqueue signals gatherFull then).
		c.gathering = true
		select { // a signal that came too late for the previous gather
		case <-c.gatherFull:
		default:
		}
		c.mu.Unlock()
		c.gathered = c.gather()
		c.mu.Lock()
		c.gathering = false
		if c.err != nil {
			return group, false
		}
	}
	var n int
	var bytes int64
	taken := 0
	for _, t := range c.queue {
		nr := len(t.recs)
		if taken > 0 && (n+nr > c.cfg.MaxGroupRecords || bytes+t.bytes > c.cfg.MaxGroupBytes) {
			break
		}
		n += nr
		bytes += t.bytes
		group = append(group, t)
		taken++
	}
	rest := copy(c.queue, c.queue[taken:])
	clear(c.queue[rest:])
	c.queue = c.queue[:rest]
	c.inflight = true
	c.lastTickets = taken
	return group, true
}

// writeGroup writes one group and completes its tickets in order. It
// reports false after a failure, which also fails every queued ticket.
func (c *Committer) writeGroup(group []*Ticket, recs [][]byte) bool {
	first := group[0].first
	var bytes int64
	for _, t := range group {
		bytes += t.bytes
	}
	start := time.Now()
	var err error
	if len(recs) > 0 {
		ctx, cancel := context.WithTimeout(c.ctx, c.cfg.MaxWriteDuration)
		err = c.backend.WriteBatch(ctx, first, recs)
		cancel()
	}
	stats := GroupStats{FirstLSN: first, Records: len(recs), Bytes: bytes, Tickets: len(group),
		Start: start, Duration: time.Since(start), Gathered: c.gathered, Err: err}
	c.gathered = 0
	if err != nil {
		c.fail(group, first, first+uint64(len(recs))-1, err)
		c.report(stats)
		return false
	}
	if len(recs) > 0 {
		last := first + uint64(len(recs)) - 1
		if got := c.backend.LastLSN(); got != last {
			panic(fmt.Sprintf("journal: backend LastLSN %d after writing records %d..%d", got, first, last))
		}
		c.durable.Store(last)
	}
	for _, t := range group {
		t.recs, t.one[0] = nil, nil
		close(t.done)
	}
	c.mu.Lock()
	c.queuedRecords -= len(recs)
	c.queuedBytes -= bytes
	c.inflight = false
	c.mu.Unlock()
	c.report(stats)
	return true
}

func (c *Committer) report(stats GroupStats) {
	if c.cfg.OnGroup != nil {
		c.cfg.OnGroup(stats)
	}
}

// fail puts the committer into the failed state and fails the group and
// every queued ticket after it, in LSN order.
func (c *Committer) fail(group []*Ticket, first, last uint64, cause error) {
	err := fmt.Errorf("%w: write of LSN %d..%d: %w", ErrUnavailable, first, last, cause)
	if errors.Is(cause, ErrUnavailable) {
		err = fmt.Errorf("journal: write of LSN %d..%d: %w", first, last, cause)
	}
	c.mu.Lock()
	c.err = err
	rest := c.queue
	c.queue = nil
	c.inflight = false
	c.mu.Unlock()
	for _, t := range group {
		t.recs, t.one[0], t.err = nil, nil, err
		close(t.done)
	}
	for _, t := range rest {
		t.recs, t.one[0], t.err = nil, nil, err
		close(t.done)
	}
}
