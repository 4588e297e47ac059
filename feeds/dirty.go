package feeds

import (
	"container/heap"
	"container/list"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// Priority orders pending changes: lower values are sent first.
type Priority uint8

// The priorities, most urgent first: a channel that shows stock we no
// longer have is the costliest error, a price change the cheapest.
const (
	PriorityToZero Priority = iota
	PriorityDecrease
	PriorityIncrease
	PriorityPrice
	numPriorities
)

func (p Priority) String() string {
	switch p {
	case PriorityToZero:
		return "to_zero"
	case PriorityDecrease:
		return "decrease"
	case PriorityIncrease:
		return "increase"
	case PriorityPrice:
		return "price"
	}
	return fmt.Sprintf("priority(%d)", uint8(p))
}

// StockPriority classifies a stock change from the last acknowledged value.
func StockPriority(lastAcked, next int64) Priority {
	switch {
	case next == 0:
		return PriorityToZero
	case next < lastAcked:
		return PriorityDecrease
	default:
		return PriorityIncrease
	}
}

// MaxDirtyOffers is the default bound on the offers one dirty set tracks.
const MaxDirtyOffers = 1 << 22

// ErrDirtySetFull means a dirty set holds MaxDirtyOffers keys already.
var ErrDirtySetFull = errors.New("feeds: dirty set full")

// DirtySet is a channel's set of offers whose value must be sent again:
// one entry per key whatever the number of changes (coalescing), taken in
// priority order and, within a priority, oldest first. Keys on a
// per-item cooldown wait until it ends. Not safe for concurrent use.
type DirtySet struct {
	max      int
	entries  map[string]*dirtyEntry
	queues   [numPriorities]list.List // of *dirtyEntry, ready to send
	cooling  coolHeap                 // keys that may not be sent yet
	cooldown map[string]time.Time     // key → time it may be sent again
}

type dirtyEntry struct {
	key      string
	priority Priority
	since    time.Time // first unsent change
	elem     *list.Element
	coolIdx  int // index in cooling, -1 when ready
	// links are the sampled span contexts of the latest changes the key
	// carries (at most MaxLinksPerKey, oldest dropped); nil when none was
	// traced, so tracing off costs nothing.
	links []trace.SpanContext
}

// MaxLinksPerKey bounds the span contexts a pending key keeps: the push
// batch that carries the key links to the latest changes it coalesced.
const MaxLinksPerKey = 4

// Pending is one key taken for sending.
type Pending struct {
	Key      string
	Priority Priority
	Since    time.Time // when the oldest change it carries was made
	// Links are the sampled span contexts of the changes it carries
	// (MarkLinked), latest last.
	Links []trace.SpanContext
}

// NewDirtySet returns an empty set bounded to maxOffers keys.
func NewDirtySet(maxOffers int) *DirtySet {
	return &DirtySet{max: maxOffers, entries: make(map[string]*dirtyEntry), cooldown: make(map[string]time.Time)}
}

// Mark records that key changed at now with priority p (computed by the
// caller from the latest desired value). A key already pending keeps its
// oldest change time and takes the new priority.
func (d *DirtySet) Mark(key string, p Priority, now time.Time) error {
	if p >= numPriorities {
		panic("feeds: invalid priority")
	}
	if e, ok := d.entries[key]; ok {
		if e.coolIdx < 0 && e.priority != p {
			d.queues[e.priority].Remove(e.elem)
			e.elem = d.queues[p].PushBack(e)
		}
		e.priority = p
		return nil
	}
	if len(d.entries) >= d.max {
		return fmt.Errorf("%w (%d keys)", ErrDirtySetFull, d.max)
	}
	e := &dirtyEntry{key: key, priority: p, since: now, coolIdx: -1}
	d.entries[key] = e
	if until, ok := d.cooldown[key]; ok && now.Before(until) {
		heap.Push(&d.cooling, coolItem{entry: e, until: until})
		return nil
	}
	delete(d.cooldown, key)
	e.elem = d.queues[p].PushBack(e)
	return nil
}

// MarkLinked is Mark that also keeps sc, the span context of the change
// (a reserve request, an applied 1C batch), for the push batch's span to
// link to. A zero sc (the change was not sampled) is not kept.
func (d *DirtySet) MarkLinked(key string, p Priority, now time.Time, sc trace.SpanContext) error {
	if err := d.Mark(key, p, now); err != nil {
		return err
	}
	if sc.IsValid() {
		e := d.entries[key]
		e.links = appendLink(e.links, sc)
	}
	return nil
}

// appendLink adds sc unless it is there already, dropping the oldest past
// MaxLinksPerKey.
func appendLink(links []trace.SpanContext, sc trace.SpanContext) []trace.SpanContext {
	for _, l := range links {
		if l.Equal(sc) {
			return links
		}
	}
	if len(links) >= MaxLinksPerKey {
		links = append(links[:0], links[len(links)-MaxLinksPerKey+1:]...)
	}
	return append(links, sc)
}

// Requeue puts back a key whose send failed, keeping its original change
// time unless a newer Mark already re-added it.
func (d *DirtySet) Requeue(pd Pending, now time.Time) error {
	if e, ok := d.entries[pd.Key]; ok {
		if pd.Since.Before(e.since) {
			e.since = pd.Since
		}
		for _, sc := range pd.Links {
			e.links = appendLink(e.links, sc)
		}
		return nil
	}
	if err := d.Mark(pd.Key, pd.Priority, now); err != nil {
		return err
	}
	e := d.entries[pd.Key]
	e.since, e.links = pd.Since, pd.Links
	if e.coolIdx < 0 { // it was taken first, so it goes first again
		d.queues[e.priority].MoveToFront(e.elem)
	}
	return nil
}

// CoolDown keeps key from being taken before until (Ozon allows one stock
// update per item per cooldown). A key already pending and ready — marked
// again while its previous value was in flight — is held back too; an
// earlier until than one in force does not shorten it.
func (d *DirtySet) CoolDown(key string, until time.Time) {
	if cur, ok := d.cooldown[key]; ok && cur.After(until) {
		until = cur
	}
	d.cooldown[key] = until
	e, ok := d.entries[key]
	if !ok {
		return
	}
	if e.coolIdx >= 0 {
		d.cooling[e.coolIdx].until = until
		heap.Fix(&d.cooling, e.coolIdx)
		return
	}
	d.queues[e.priority].Remove(e.elem)
	e.elem = nil
	heap.Push(&d.cooling, coolItem{entry: e, until: until})
}

// Cooling reports whether key is held back, and until when.
func (d *DirtySet) Cooling(key string, now time.Time) (time.Time, bool) {
	until, ok := d.cooldown[key]
	if !ok || !now.Before(until) {
		return time.Time{}, false
	}
	return until, true
}

// Pending reports whether key waits to be sent (ready or cooling).
func (d *DirtySet) Pending(key string) bool {
	_, ok := d.entries[key]
	return ok
}

// Take removes and returns up to n ready keys, most urgent first. Keys
// whose cooldown has ended by now become ready first.
func (d *DirtySet) Take(n int, now time.Time) []Pending {
	d.promote(now)
	out := make([]Pending, 0, min(n, len(d.entries)))
	for p := range d.queues {
		q := &d.queues[p]
		for len(out) < n && q.Len() > 0 {
			e := q.Remove(q.Front()).(*dirtyEntry)
			delete(d.entries, e.key)
			out = append(out, Pending{Key: e.key, Priority: e.priority, Since: e.since, Links: e.links})
		}
	}
	return out
}

// promote moves keys whose cooldown ended to their ready queue.
func (d *DirtySet) promote(now time.Time) {
	for d.cooling.Len() > 0 && !now.Before(d.cooling[0].until) {
		it := heap.Pop(&d.cooling).(coolItem)
		delete(d.cooldown, it.entry.key)
		it.entry.elem = d.queues[it.entry.priority].PushBack(it.entry)
	}
}

// PruneCooldowns forgets ended cooldowns of keys that are not pending; the
// push worker calls it now and then so the map stays the size of the
// keys actually cooling.
func (d *DirtySet) PruneCooldowns(now time.Time) {
	for key, until := range d.cooldown {
		if _, pending := d.entries[key]; !pending && !now.Before(until) {
			delete(d.cooldown, key)
		}
	}
}

// NextReady is when the earliest cooling key may be sent; ok is false when
// none is cooling.
func (d *DirtySet) NextReady() (time.Time, bool) {
	if d.cooling.Len() == 0 {
		return time.Time{}, false
	}
	return d.cooling[0].until, true
}

// Len is the number of pending keys, ready or cooling.
func (d *DirtySet) Len() int { return len(d.entries) }

// ReadyByPriority counts ready keys per priority (queue depth).
func (d *DirtySet) ReadyByPriority() [numPriorities]int {
	var n [numPriorities]int
	for p := range d.queues {
		n[p] = d.queues[p].Len()
	}
	return n
}

// Oldest is the change time of the oldest pending key: the channel's
// freshness is now minus this. It scans every pending key (a millisecond
// per 100,000): call it for metrics, not per change.
func (d *DirtySet) Oldest() (time.Time, bool) {
	var oldest time.Time
	found := false
	for _, e := range d.entries {
		if !found || e.since.Before(oldest) {
			oldest, found = e.since, true
		}
	}
	return oldest, found
}

type coolItem struct {
	entry *dirtyEntry
	until time.Time
}

type coolHeap []coolItem

func (h coolHeap) Len() int           { return len(h) }
func (h coolHeap) Less(i, j int) bool { return h[i].until.Before(h[j].until) }
func (h coolHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].entry.coolIdx, h[j].entry.coolIdx = i, j
}
func (h *coolHeap) Push(x any) {
	it := x.(coolItem)
	it.entry.coolIdx = len(*h)
	*h = append(*h, it)
}
func (h *coolHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	it.entry.coolIdx = -1
	return it
}
