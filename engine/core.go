package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"stockd/engine/journal"
	"stockd/reservation"
)

// The engine reports journal trouble with the journal's sentinels, which
// the HTTP layer maps to statuses: journal.ErrUnavailable (503, nothing
// changed or acknowledged) and journal.ErrQueueFull (429, nothing changed).
var (
	errUnavailable = journal.ErrUnavailable
	errBusy        = journal.ErrQueueFull
)

// commandRecordBytes is the journal queue room a hold command asks for
// before it changes the ledger (a full queue answers 429, nothing
// changed): about what a hold of MaxLinesPerHold lines encodes to. The
// change, once made, is always queued (Committer.EnqueueAdmitted): a
// larger record (long "guid#guid" SKUs split over warehouses, kits) takes
// the queue past its bound by its excess, never fails the engine.
const commandRecordBytes = 16 << 10

// maxExpirePerTick bounds the holds one expiry pass releases (one group).
const maxExpirePerTick = 1024

// expireRecordBytes bounds one expire record (a hold id and a time).
const expireRecordBytes = 512

// core serialises every change to the ledger. Under mu a command is
// applied to the ledger and its records are enqueued to the journal, so
// journal order is apply order and record Seq equals journal LSN; the
// caller waits for durability outside mu. Lock order: core.mu, then the
// committer's own lock (taken inside Enqueue).
type core struct {
	mu     sync.Mutex
	ledger *reservation.Ledger
	commit *journal.Committer
	limits journal.CommitterConfig
	fx     reservation.Effects
	// scratch, ends and recs encode a command's records (under mu): the
	// records are encoded into scratch, then copied into one buffer of
	// exactly their size, which the journal owns until written.
	scratch []byte
	ends    []int
	recs    [][]byte
	failed  error // set when the ledger holds a change the journal lost
	changed func(context.Context, []reservation.ChannelChange, []reservation.PriceChange)
	// failures is signalled (non-blocking, capacity 1) when the journal
	// fails, to wake the engine's recovery.
	failures chan struct{}
	// gen counts recoveries. A pipelined caller (the ingest) applies batch
	// after batch without waiting; after a recovery the ledger lacks its
	// unflushed batches, so a later batch must not be applied on top (its
	// offsets would pass events the new ledger never saw).
	gen uint64
}

// errStaleGeneration: the ledger was rebuilt since the caller began; it
// must start over from what is durable.
var errStaleGeneration = fmt.Errorf("%w: the ledger was rebuilt from the journal; start again from durable state", journal.ErrUnavailable)

// Generation returns the current recovery generation.
func (c *core) Generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func (c *core) signalFailure() {
	select {
	case c.failures <- struct{}{}:
	default:
	}
}

// writableLocked reports whether a command that makes at most records
// records of at most bytes in all may change the ledger now.
func (c *core) writableLocked(records int, bytes int64) error {
	if c.failed != nil {
		return fmt.Errorf("%w: %v", errUnavailable, c.failed)
	}
	if err := c.commit.Err(); err != nil {
		c.signalFailure()
		return fmt.Errorf("%w: %v", errUnavailable, err)
	}
	n, b := c.commit.Queued()
	if n+records > c.limits.MaxQueuedRecords || b+bytes > c.limits.MaxQueuedBytes {
		return errBusy
	}
	return nil
}

// enqueueLocked encodes the records of c.fx and enqueues them. A ledger
// change the journal refuses leaves the ledger ahead of the journal: the
// core is then failed until recovery rebuilds it.
// eventPrefetchAhead is how many events ahead of the one applied a batch
// prefetches the ledger memory of (Ledger.PrefetchEvent).
const eventPrefetchAhead = 4

// maxScratchBytes bounds the encoding buffer kept between commands (an
// ingest batch's records are about 100 KiB).
const maxScratchBytes = 1 << 20

func (c *core) enqueueLocked() (*journal.Ticket, error) {
	// One buffer for all the command's records (an ingest batch makes up
	// to a thousand): the journal owns it until written, so it is new
	// each time, but it is one allocation of exactly the records' size,
	// not one per record nor a guess with room to spare (which the
	// garbage collector would pay for on every hold).
	var recs [][]byte
	if n := len(c.fx.Records); n > 0 {
		c.scratch, c.ends = c.scratch[:0], c.ends[:0]
		for i := range c.fx.Records {
			c.scratch = reservation.AppendRecord(c.scratch, &c.fx.Records[i])
			c.ends = append(c.ends, len(c.scratch))
		}
		buf := make([]byte, len(c.scratch))
		copy(buf, c.scratch)
		start := 0
		for _, end := range c.ends {
			c.recs = append(c.recs, buf[start:end:end])
			start = end
		}
		recs = c.recs // Enqueue keeps the records, not this slice
		if cap(c.scratch) > maxScratchBytes {
			c.scratch, c.ends = nil, nil
		}
	}
	// room was checked before the change was made (writableLocked)
	t, err := c.commit.EnqueueAdmitted(recs...)
	clear(c.recs)
	c.recs = c.recs[:0]
	if err != nil {
		if len(recs) > 0 {
			c.failed = fmt.Errorf("journal refused an applied change: %w", err)
			c.signalFailure()
		}
		return nil, fmt.Errorf("%w: %v", errUnavailable, err)
	}
	if got, want := t.LSN(), c.ledger.Seq(); len(recs) > 0 && got != want {
		panic(fmt.Sprintf("engine: journal LSN %d != ledger seq %d", got, want))
	}
	return t, nil
}

// changesLocked copies the channel and price changes of c.fx for delivery
// after the records are durable.
func (c *core) changesLocked() changeSet {
	if c.changed == nil || (len(c.fx.Changes) == 0 && len(c.fx.Prices) == 0) {
		return changeSet{}
	}
	return changeSet{
		channels: append([]reservation.ChannelChange(nil), c.fx.Changes...),
		prices:   append([]reservation.PriceChange(nil), c.fx.Prices...),
	}
}

type changeSet struct {
	channels []reservation.ChannelChange
	prices   []reservation.PriceChange
}

// wait blocks until t is durable, then delivers cs. A write failure fails
// the core: the ledger holds state that the journal does not.
func (c *core) wait(ctx context.Context, commit *journal.Committer, t *journal.Ticket, cs changeSet) error {
	if err := t.Wait(ctx); err != nil {
		if errors.Is(err, journal.ErrUnavailable) || errors.Is(err, journal.ErrClosed) {
			c.fail(commit, err)
			return fmt.Errorf("%w: %v", errUnavailable, err)
		}
		return err // ctx ended: the change may still become durable
	}
	if c.changed != nil && (len(cs.channels) > 0 || len(cs.prices) > 0) {
		c.changed(ctx, cs.channels, cs.prices)
	}
	return nil
}

// fail marks the core failed if commit is still its committer (a
// recovery may already have replaced it).
func (c *core) fail(commit *journal.Committer, err error) {
	c.mu.Lock()
	if c.failed == nil && c.commit == commit {
		c.failed = err
	}
	c.mu.Unlock()
	c.signalFailure()
}

// Failed returns the error that stopped writes, or nil.
func (c *core) Failed() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failed != nil {
		return c.failed
	}
	return c.commit.Err()
}

// update runs one ledger command under the lock and waits for its records.
func (c *core) update(ctx context.Context, records int, bytes int64, apply func(l *reservation.Ledger, fx *reservation.Effects) error) error {
	p, err := c.begin(records, bytes, apply)
	if err != nil {
		return err
	}
	return p.wait(ctx)
}

// pending is a command applied to the ledger whose records are on their
// way to the journal.
type pending struct {
	c      *core
	commit *journal.Committer
	ticket *journal.Ticket
	cs     changeSet
}

// wait blocks until the records are durable and delivers the changes.
func (p pending) wait(ctx context.Context) error {
	return p.c.wait(ctx, p.commit, p.ticket, p.cs)
}

// begin applies one command under the lock and enqueues its records
// without waiting, so a caller can pipeline commands (the ingest applies
// the next batch while the previous one is flushed).
func (c *core) begin(records int, bytes int64, apply func(l *reservation.Ledger, fx *reservation.Effects) error) (pending, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.writableLocked(records, bytes); err != nil {
		return pending{}, err
	}
	c.fx.Reset()
	if err := apply(c.ledger, &c.fx); err != nil {
		if len(c.fx.Records) > 0 {
			panic("engine: ledger made records for a refused command")
		}
		return pending{}, err
	}
	// With no records (a replay, a release of a released hold) the enqueue
	// is a barrier: the reply may depend on records still in flight.
	t, err := c.enqueueLocked()
	if err != nil {
		return pending{}, err
	}
	return pending{c: c, commit: c.commit, ticket: t, cs: c.changesLocked()}, nil
}

// Reserve creates (or replays) a hold and returns a copy of it once the
// record that created it is durable.
func (c *core) Reserve(ctx context.Context, req reservation.ReserveRequest, now time.Time) (reservation.Hold, reservation.ReserveResult, error) {
	var res reservation.ReserveResult
	var h reservation.Hold
	err := c.update(ctx, 1, commandRecordBytes, func(l *reservation.Ledger, fx *reservation.Effects) error {
		var err error
		res, err = l.Reserve(req, now, fx)
		if err == nil {
			l.Hold(req.ID, &h)
		}
		return err
	})
	return h, res, err
}

// Confirm confirms a hold; ttl 0 means no expiry.
func (c *core) Confirm(ctx context.Context, id string, ttl time.Duration, now time.Time) (reservation.Hold, error) {
	return c.holdCommand(ctx, id, func(l *reservation.Ledger, fx *reservation.Effects) error {
		return l.Confirm(id, ttl, now, fx)
	})
}

// Release releases a hold (idempotent).
func (c *core) Release(ctx context.Context, id string, now time.Time) (reservation.Hold, error) {
	return c.holdCommand(ctx, id, func(l *reservation.Ledger, fx *reservation.Effects) error {
		return l.Release(id, now, fx)
	})
}

// Handoff marks a hold as carried by 1C.
func (c *core) Handoff(ctx context.Context, id string, now time.Time) (reservation.Hold, error) {
	return c.holdCommand(ctx, id, func(l *reservation.Ledger, fx *reservation.Effects) error {
		return l.Handoff(id, now, fx)
	})
}

func (c *core) holdCommand(ctx context.Context, id string, cmd func(*reservation.Ledger, *reservation.Effects) error) (reservation.Hold, error) {
	var h reservation.Hold
	err := c.update(ctx, 1, commandRecordBytes, func(l *reservation.Ledger, fx *reservation.Effects) error {
		if err := cmd(l, fx); err != nil {
			return err
		}
		l.Hold(id, &h)
		return nil
	})
	return h, err
}

// Expire releases holds past their expiry by the engine's clock and
// journals it, so replay never reads a clock. It waits until the records
// are durable.
func (c *core) Expire(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := c.update(ctx, maxExpirePerTick, maxExpirePerTick*expireRecordBytes, func(l *reservation.Ledger, fx *reservation.Effects) error {
		n = l.Expire(now, maxExpirePerTick, fx)
		return nil
	})
	return n, err
}

// Read runs fn with the ledger under the lock, for replies. The state it
// sees may include changes that are not durable yet; a reply that depends
// on them waits for Barrier.
func (c *core) Read(fn func(l *reservation.Ledger)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fn(c.ledger)
}

// Barrier waits until everything enqueued so far is durable. A failed
// core answers ErrUnavailable at once: its ledger may hold a change the
// journal refused, which recovery will drop, so nothing read from it may
// be shown as durable.
func (c *core) Barrier(ctx context.Context) error {
	c.mu.Lock()
	if c.failed != nil {
		err := c.failed
		c.mu.Unlock()
		return fmt.Errorf("%w: %v", errUnavailable, err)
	}
	t, err := c.commit.Enqueue()
	c.mu.Unlock()
	switch {
	case errors.Is(err, journal.ErrQueueFull):
		return errBusy // 429: retry shortly
	case err != nil:
		return fmt.Errorf("%w: %v", errUnavailable, err)
	}
	return t.Wait(ctx)
}

// eventRecordOverhead is the fixed part of an event record (kind, seq,
// source topic, partition and offset).
const eventRecordOverhead = 512

// SourcedEvent is a decoded 1C event with the Kafka position it came from.
type SourcedEvent struct {
	Event  reservation.Event
	Source reservation.Source
	Skip   bool // undecodable: sent to the DLQ, only the offset advances
}

// EventResult is what applying one event did.
type EventResult struct {
	Outcome reservation.Outcome
	Err     error // why an event was rejected
}

// ApplyEvents applies a batch of 1C events in order as one journal group
// and waits until it is durable. An event with Skip set only advances its
// offset (it went to the DLQ). Events whose offset was applied before
// change nothing, so redelivery after a crash takes effect once.
//
// rawBytes is the size of the events as received; an event's record is
// not larger than twice its JSON plus a fixed part.
func (c *core) ApplyEvents(ctx context.Context, events []SourcedEvent, rawBytes int64, results []EventResult) ([]EventResult, error) {
	results, p, err := c.BeginEvents(c.Generation(), events, rawBytes, results)
	if err != nil {
		return results, err
	}
	return results, p.wait(ctx)
}

// BeginEvents is ApplyEvents without the wait: the caller waits on the
// returned pending before it acknowledges anything.
//
// gen is the generation the caller started in (Generation); a batch from an
// earlier generation is refused with an error wrapping journal.ErrUnavailable.
func (c *core) BeginEvents(gen uint64, events []SourcedEvent, rawBytes int64, results []EventResult) ([]EventResult, pending, error) {
	results, p, _, err := c.beginEventsAt(gen, len(events), func(i int) *SourcedEvent { return &events[i] }, rawBytes, false, results)
	return results, p, err
}

// beginEventsAt is BeginEvents over n events that at returns in place (the
// ingest's fetched messages carry theirs: a batch is applied without
// copying each event out).
//
// With stopAtRejected, an event the ledger rejects (a limit, a kit rule)
// is not applied and ends the batch: the events before it are applied as
// one group, its result (OutcomeRejected and why) is the last of results,
// and stopped is its index (-1 when none was rejected). The ledger is as
// if it had not been offered; the ingest sends it to the DLQ, then
// applies it again as a skip.
func (c *core) beginEventsAt(gen uint64, n int, at func(int) *SourcedEvent, rawBytes int64, stopAtRejected bool,
	results []EventResult) (_ []EventResult, _ pending, stopped int, _ error) {
	results, stopped = results[:0], -1
	est := 2*rawBytes + int64(n)*eventRecordOverhead
	p, err := c.begin(n, est, func(l *reservation.Ledger, fx *reservation.Effects) error {
		if c.gen != gen {
			return errStaleGeneration
		}
		for i := range n {
			ev := at(i)
			if ev.Skip {
				err := l.SkipEvent(ev.Source, fx)
				results = append(results, EventResult{Outcome: reservation.OutcomeNoop, Err: err})
				continue
			}
			if j := i + eventPrefetchAhead; j < n {
				l.PrefetchEvent(&at(j).Event, eventPrefetchAhead)
			}
			if !stopAtRejected {
				out, err := l.ApplyEvent(&ev.Event, ev.Source, fx)
				results = append(results, EventResult{Outcome: out, Err: err})
				continue
			}
			out, err := l.ApplyEventUnlessRejected(&ev.Event, ev.Source, fx)
			results = append(results, EventResult{Outcome: out, Err: err})
			if out == reservation.OutcomeRejected {
				stopped = i
				break
			}
		}
		return nil
	})
	return results, p, stopped, err
}
