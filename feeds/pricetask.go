package feeds

import (
	"context"
	"errors"
	"time"

	"stockd/adapters/marketsim"
	"stockd/adapters/wildberries"
	"stockd/feeds/ackstore"
)

var _ PriceTasks = (*wildberries.Client)(nil)

// PriceTasks reads how an asynchronous price upload ended (Wildberries
// processes price uploads later; *wildberries.Client implements it).
// done is false while the marketplace still processes the upload. Once
// it is done, refused lists the items it did not set (ItemRejected with
// its reason, OfferID the price key); every other item of the upload was
// set. A retriable error means ask again later; any other error (the
// upload is unknown or was cancelled) means nothing is known, and the
// items are sent again.
type PriceTasks interface {
	PriceTask(ctx context.Context, taskID string) (done bool, refused []marketsim.ItemResult, err error)
}

// Price upload polling. The polls share the prices limit with the
// uploads (the client waits on the same bucket), so they are spaced out:
// the first after PriceTaskFirstPoll, then each twice as late as the one
// before, at most PriceTaskMaxPoll apart.
const (
	// DefaultMaxPriceTasks bounds the uploads of a channel awaiting
	// their verdict; at the bound the price worker sends nothing new
	// until one is settled.
	DefaultMaxPriceTasks = 8
	PriceTaskFirstPoll   = 2 * time.Second
	PriceTaskMaxPoll     = 30 * time.Second
	// MaxPriceTaskAge is how long an upload may go without a verdict;
	// past it the upload is given up and its items are sent again (a
	// value already set is answered "already set", which acknowledges
	// it).
	MaxPriceTaskAge = time.Hour
)

// priceTask is one accepted upload whose items await the marketplace's
// verdict: they are neither acknowledged nor pending, and a new change
// of one of them waits for the verdict (one upload per key at a time, so
// an older verdict never overwrites a newer value).
type priceTask struct {
	id       string
	items    []item
	accepted time.Time
	nextPoll time.Time
	interval time.Duration
}

// taskQueue is a channel's outstanding uploads, oldest first, and the
// upload carrying each price key. Guarded by chanState.mu.
type taskQueue struct {
	tasks []*priceTask
	byKey map[string]*priceTask
}

// awaitsVerdict reports whether an accepted item is settled later by
// its upload's verdict rather than acknowledged now.
func (st *chanState) awaitsVerdict(m Method, r marketsim.ItemResult) bool {
	return m == MethodPrice && st.ch.Tasks != nil && r.Status == marketsim.ItemAccepted && r.TaskID != ""
}

// awaitLocked files an accepted item under its upload (a duplicate
// upload answers with the id of the first, so items may join it).
func (st *chanState) awaitLocked(it item, taskID string, now time.Time) {
	q := &st.tasks
	if q.byKey == nil {
		q.byKey = make(map[string]*priceTask)
	}
	var t *priceTask
	for _, cand := range q.tasks {
		if cand.id == taskID {
			t = cand
			break
		}
	}
	if t == nil {
		t = &priceTask{id: taskID, accepted: now, nextPoll: now.Add(PriceTaskFirstPoll), interval: PriceTaskFirstPoll}
		q.tasks = append(q.tasks, t)
	}
	t.items = append(t.items, it)
	q.byKey[it.pd.Key] = t
}

// tasksFullLocked reports whether the price worker must wait for a
// verdict before it sends more.
func (st *chanState) tasksFullLocked(m Method) bool {
	return m == MethodPrice && st.ch.Tasks != nil && len(st.tasks.tasks) >= st.h.cfg.MaxPriceTasks
}

// nextPollLocked is when the earliest upload is due a poll.
func (st *chanState) nextPollLocked(m Method) (time.Time, bool) {
	if m != MethodPrice || len(st.tasks.tasks) == 0 {
		return time.Time{}, false
	}
	next := st.tasks.tasks[0].nextPoll
	for _, t := range st.tasks.tasks[1:] {
		if t.nextPoll.Before(next) {
			next = t.nextPoll
		}
	}
	return next, true
}

// heldByTaskLocked puts back a key whose previous value still awaits its
// upload's verdict, to be taken again after the upload's next poll.
func (st *chanState) heldByTaskLocked(m Method, pd Pending, now time.Time) bool {
	if m != MethodPrice {
		return false
	}
	t, ok := st.tasks.byKey[pd.Key]
	if !ok {
		return false
	}
	st.dirty[m].CoolDown(pd.Key, t.nextPoll)
	st.requeueLocked(m, pd, now)
	return true
}

// pollDueTask polls the oldest upload whose poll is due and settles it
// if its verdict came; it reports whether it polled.
func (st *chanState) pollDueTask(ctx context.Context, m Method) bool {
	if m != MethodPrice || st.ch.Tasks == nil {
		return false
	}
	now := st.h.cfg.Now()
	st.mu.Lock()
	var due *priceTask
	for _, t := range st.tasks.tasks {
		if !now.Before(t.nextPoll) {
			due = t
			break
		}
	}
	st.mu.Unlock()
	if due == nil {
		return false
	}
	done, refused, err := st.ch.Tasks.PriceTask(ctx, due.id)
	if ctx.Err() != nil {
		return true // closing: the items stay unacknowledged
	}
	now = st.h.cfg.Now()
	st.mu.Lock()
	st.counters[m].taskPolls++
	var acks []ackstore.Entry
	var acked []item
	switch retriable, hint := marketsim.IsRetriable(err); {
	case err != nil && retriable && now.Sub(due.accepted) < MaxPriceTaskAge:
		st.noteErrLocked(err, now)
		st.reschedule(due, now, hint)
	case err != nil, !done && now.Sub(due.accepted) >= MaxPriceTaskAge:
		if err == nil {
			err = errors.New("feeds: price upload " + due.id + " has no verdict after MaxPriceTaskAge")
		}
		st.noteErrLocked(err, now)
		st.abandonLocked(m, due, now)
	case !done:
		st.reschedule(due, now, 0)
	default:
		acks, acked = st.settleTaskLocked(m, due, refused, now)
	}
	st.mu.Unlock()
	if len(acks) > 0 {
		st.storeAcks(acks)
	}
	if fn := st.h.cfg.Acked; fn != nil {
		for _, it := range acked {
			fn(AckEvent{Channel: st.name, Method: m, Offer: it.offer.PriceID, Price: it.price.price, Since: it.pd.Since, At: now})
		}
	}
	notify(st.wake[m])
	return true
}

func (st *chanState) reschedule(t *priceTask, now time.Time, hint time.Duration) {
	t.interval = min(2*t.interval, PriceTaskMaxPoll)
	t.nextPoll = now.Add(max(t.interval, hint))
}

// settleTaskLocked applies an upload's verdict: refused items are
// quarantined with the marketplace's reason, the others acknowledged.
func (st *chanState) settleTaskLocked(m Method, t *priceTask, refused []marketsim.ItemResult, now time.Time) ([]ackstore.Entry, []item) {
	byOffer := make(map[string]marketsim.ItemResult, len(refused))
	for _, r := range refused {
		byOffer[r.OfferID] = r
	}
	c := &st.counters[m]
	acks := make([]ackstore.Entry, 0, len(t.items))
	acked := make([]item, 0, len(t.items))
	for _, it := range t.items {
		if r, ok := byOffer[it.offer.PriceID]; ok {
			c.rejected++
			st.quarantineItemLocked(m, it, r.Code, r.Message, now)
			continue
		}
		c.acked++
		acks = append(acks, st.ackLocked(m, it, now))
		acked = append(acked, it)
	}
	st.removeTaskLocked(t)
	return acks, acked
}

// abandonLocked gives an upload up: its items are sent again.
func (st *chanState) abandonLocked(m Method, t *priceTask, now time.Time) {
	st.removeTaskLocked(t)
	for _, it := range t.items {
		st.counters[m].retries++
		st.requeueLocked(m, it.pd, now)
	}
}

func (st *chanState) removeTaskLocked(t *priceTask) {
	q := &st.tasks
	for i, cand := range q.tasks {
		if cand == t {
			q.tasks = append(q.tasks[:i], q.tasks[i+1:]...)
			break
		}
	}
	for _, it := range t.items {
		if q.byKey[it.pd.Key] == t {
			delete(q.byKey, it.pd.Key)
		}
	}
}
