package main

import (
	"strconv"
	"time"

	"stockd/feeds"
)

// pushWorker is one marketplace's stock worker as the feeds hub runs it:
// the real DirtySet (coalescing, to-zero first, Ozon's per-item cooldown),
// the value read from the ledger at send time, one request in flight, and
// requests spaced by the client's limiter.
type pushWorker struct {
	rules     pushRules
	latency   time.Duration
	dirty     *feeds.DirtySet
	acked     map[int]int64
	inflight  map[int]bool
	busy      bool
	scheduled bool
	nextSend  time.Duration
}

type pushItem struct {
	sku int
	qty int64
}

func newPushWorker(rules pushRules, latency time.Duration) *pushWorker {
	return &pushWorker{rules: rules, latency: latency, dirty: feeds.NewDirtySet(feeds.MaxDirtyOffers),
		acked: make(map[int]int64), inflight: make(map[int]bool)}
}

// mark is the hub's reaction to a changed channel quantity.
func (s *sim) mark(c, i int, qty int64) {
	w := s.push[c]
	desired := s.policy.ChannelQty(qty)
	key := strconv.Itoa(i)
	acked, known := w.acked[i]
	if known && acked == desired && !w.inflight[i] && !w.dirty.Pending(key) {
		return
	}
	p := feeds.PriorityDecrease // unknown: the marketplace may show more
	if known {
		p = feeds.StockPriority(acked, desired)
	} else if desired == 0 {
		p = feeds.PriorityToZero
	}
	if err := w.dirty.Mark(key, p, s.clock()); err != nil {
		panic(err)
	}
	s.wake(c)
}

// forget is feeds.Hub.Forget: the intake recorded or released an order of
// SKU i on marketplace c, which changed its own figure; the figure is
// sent again whatever was acknowledged.
func (s *sim) forget(c, i int) {
	w := s.push[c]
	delete(w.acked, i)
	key := strconv.Itoa(i)
	if !w.dirty.Pending(key) {
		if err := w.dirty.Mark(key, feeds.PriorityDecrease, s.clock()); err != nil {
			panic(err)
		}
	}
	s.wake(c)
}

func (s *sim) wake(c int) {
	w := s.push[c]
	if w.busy || w.scheduled {
		return
	}
	w.scheduled = true
	s.at(max(s.now, w.nextSend), evPushSend, c, nil)
}

// pushSend builds and sends one batch.
func (s *sim) pushSend(c int) {
	w := s.push[c]
	w.scheduled = false
	if w.busy {
		return
	}
	pend := w.dirty.Take(w.rules.batch, s.clock())
	if len(pend) == 0 {
		if t, ok := w.dirty.NextReady(); ok {
			w.scheduled = true
			s.at(max(s.now, t.Sub(s.start)), evPushSend, c, nil)
		}
		return
	}
	items := make([]pushItem, 0, len(pend))
	for _, pd := range pend {
		i, err := strconv.Atoi(pd.Key)
		if err != nil {
			panic(err)
		}
		v := s.policy.ChannelQty(s.avail(i, c))
		if a, ok := w.acked[i]; ok && v == a {
			continue // the acknowledged value already
		}
		w.inflight[i] = true
		items = append(items, pushItem{sku: i, qty: v})
	}
	if len(items) == 0 {
		s.wake(c)
		return
	}
	w.busy = true
	s.res.Pushes[c]++
	s.res.PushedItems[c] += len(items)
	gap := w.rules.minGap
	if w.rules.itemsPerSec > 0 {
		gap = max(gap, time.Duration(float64(len(items))/w.rules.itemsPerSec*float64(time.Second)))
	}
	w.nextSend = s.now + max(gap, w.latency)
	s.at(s.now+w.latency, evPushApply, c, items)
}

// pushApply is the marketplace taking the figures: what it will sell is
// the figure sent (its own awaiting orders are outside it).
func (s *sim) pushApply(c int, items []pushItem) {
	w := s.push[c]
	for _, it := range items {
		s.skus[it.sku].sellable[c] = it.qty
		w.acked[it.sku] = it.qty
		delete(w.inflight, it.sku)
		if w.rules.cooldown > 0 {
			w.dirty.CoolDown(strconv.Itoa(it.sku), s.clock().Add(w.rules.cooldown))
		}
		s.touch(it.sku)
	}
	w.busy = false
	s.wake(c)
}
