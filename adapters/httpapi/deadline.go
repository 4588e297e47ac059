package httpapi

import (
	"context"
	"sync"
	"time"
)

// deadlineGrain is how much later than its timeout a request context may
// end: requests whose deadlines fall within one grain share one timer.
const deadlineGrain = 50 * time.Millisecond

// deadlines hands out request contexts that end timeout (up to one grain
// more) after they are made. context.WithTimeout would start and stop a
// timer and allocate three objects per request; here the requests of one
// grain share one timer and one channel, and a context costs one small
// allocation. The backend waits on such a context for its journal ticket.
type deadlines struct {
	timeout, grain time.Duration

	mu  sync.Mutex
	cur *deadlineSlot // the newest slot; requests join it while its deadline is late enough
}

// deadlineSlot is one shared deadline: done is closed at at.
type deadlineSlot struct {
	at   time.Time
	done chan struct{}
}

func newDeadlines(timeout, grain time.Duration) *deadlines {
	return &deadlines{timeout: timeout, grain: grain}
}

// slot returns a slot whose deadline is within [now+timeout, now+timeout+grain].
func (d *deadlines) slot(now time.Time) *deadlineSlot {
	want := now.Add(d.timeout)
	d.mu.Lock()
	defer d.mu.Unlock()
	if s := d.cur; s != nil && !s.at.Before(want) {
		return s
	}
	s := &deadlineSlot{at: want.Add(d.grain), done: make(chan struct{})}
	time.AfterFunc(s.at.Sub(now), func() { close(s.done) })
	d.cur = s
	return s
}

// context returns a context carrying parent's values that ends at a shared
// deadline. A parent that can end by itself gets context.WithTimeout
// instead, so its own end is never lost.
func (d *deadlines) context(parent context.Context, now time.Time) (context.Context, context.CancelFunc) {
	if parent.Done() != nil {
		return context.WithTimeout(parent, d.timeout)
	}
	return &slotContext{Context: parent, slot: d.slot(now)}, noCancel
}

func noCancel() {}

// slotContext is a context that ends with its slot. Its parent never ends
// (Done is nil), so only the slot decides Done and Err.
type slotContext struct {
	context.Context // the parent: values
	slot            *deadlineSlot
}

func (c *slotContext) Deadline() (time.Time, bool) { return c.slot.at, true }
func (c *slotContext) Done() <-chan struct{}       { return c.slot.done }

func (c *slotContext) Err() error {
	select {
	case <-c.slot.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}
