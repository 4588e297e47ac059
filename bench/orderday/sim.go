package main

import (
	"container/heap"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"stockd/engine/intake"
	"stockd/feeds"
	"stockd/reservation"
)

// Result is what a day produced.
type Result struct {
	Params Params
	// Buyers, Accepted and Lost per channel (a lost buyer found nothing).
	Buyers, Accepted, Lost [numChannels]int
	AcceptedUnits          [numChannels]int64
	// Oversold counts units a channel accepted when the real stock (1C's
	// shelf less every order taken anywhere) was already gone.
	Oversold [numChannels]int64
	// RecordedShort counts units of marketplace orders the intake recorded
	// beyond what the ledger still had for the channel (the SKU became
	// short): the ledger's own view of the same mistakes.
	RecordedShort [numChannels]int64
	// Exposure is Σ over SKUs and time of the units a channel showed
	// beyond the real stock, in unit·hours.
	Exposure [numChannels]float64
	// Cancelled marketplace orders; Pushes and PushedItems per marketplace.
	Cancelled   int
	Pushes      [numChannels]int
	PushedItems [numChannels]int
	Receipts    int
	OneCEvents  int
	ShortAtEnd  int
	Elapsed     time.Duration
	Days        int
}

// add sums r into t (Params are r's).
func (t *Result) add(r Result) {
	t.Params = r.Params
	t.Days++
	for c := range numChannels {
		t.Buyers[c] += r.Buyers[c]
		t.Accepted[c] += r.Accepted[c]
		t.Lost[c] += r.Lost[c]
		t.AcceptedUnits[c] += r.AcceptedUnits[c]
		t.Oversold[c] += r.Oversold[c]
		t.RecordedShort[c] += r.RecordedShort[c]
		t.Exposure[c] += r.Exposure[c]
		t.Pushes[c] += r.Pushes[c]
		t.PushedItems[c] += r.PushedItems[c]
	}
	t.Cancelled += r.Cancelled
	t.Receipts += r.Receipts
	t.OneCEvents += r.OneCEvents
	t.ShortAtEnd += r.ShortAtEnd
	t.Elapsed += r.Elapsed
}

// mOrder is a marketplace order.
type mOrder struct {
	id        string
	channel   int
	sku       int
	qty       int64
	recorded  bool
	cancelled bool
	exported  bool
}

// skuState is the truth and the marketplaces' view of one SKU.
type skuState struct {
	name      string
	real      int64 // on the shelf less every accepted order
	book      int64 // 1C's free stock: the shelf less the orders 1C took
	reorderAt int64
	batch     int64
	inbound   bool
	sellable  [numChannels]int64 // what each marketplace will still sell
	excess    [numChannels]int64 // shown beyond real, since last
	last      time.Duration
	lastOneC  time.Duration // arrival of the last 1C figure (one partition)
}

// sim is one day over the real ledger and the real feeds policy and dirty
// sets. It is single-threaded: virtual time moves from event to event.
type sim struct {
	p      Params
	rng    *rand.Rand
	zipf   *rand.Zipf
	now    time.Duration
	start  time.Time
	events eventQueue
	seq    uint64

	ledger *reservation.Ledger
	fx     reservation.Effects
	skus   []skuState
	policy feeds.StockPolicy
	push   [numChannels]*pushWorker

	pending   [numChannels][]*mOrder // accepted, not yet seen by the intake
	toRelease [numChannels][]*mOrder // cancelled after the intake recorded them
	toExport  []holdRef              // confirmed holds 1C has not taken
	orderSeq  int
	oneCSeq   uint64
	res       Result
}

type holdRef struct {
	id    string
	sku   int
	qty   int64
	order *mOrder // nil for a website order
}

func newSim(p Params) (*sim, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	cfg := reservation.Config{Limits: reservation.DefaultLimits()}
	for _, name := range channelNames {
		cfg.Channels = append(cfg.Channels, reservation.ChannelConfig{Name: name, Warehouses: []string{warehouse},
			Strategy: reservation.StrategyPriority})
	}
	l, err := reservation.New(cfg)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(p.Seed, p.Seed^0x9e3779b97f4a7c15))
	s := &sim{p: p, rng: rng, zipf: rand.NewZipf(rng, p.ZipfS, 1, uint64(p.SKUs-1)),
		start: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), ledger: l,
		policy: feeds.StockPolicy{Percent: 100, Buffer: p.Buffer}, res: Result{Params: p}}
	s.stock()
	for c := chOzon; c < numChannels; c++ {
		s.push[c] = newPushWorker(rulesFor(c), p.PushLatency)
		for i := range s.skus {
			q := s.policy.ChannelQty(s.avail(i, c))
			s.skus[i].sellable[c] = q
			s.push[c].acked[i] = q
		}
		s.at(time.Duration(s.rng.Int64N(int64(p.Poll[c]))), evPoll, c, nil)
	}
	for c := range numChannels {
		s.nextBuyer(c)
	}
	s.at(p.ExchangeEvery, evExchange, 0, nil)
	for i := range s.skus {
		s.touch(i)
	}
	return s, nil
}

// stock gives each SKU its demand-sized replenishment policy and its
// first stock, applied to the ledger as 1C's figures.
func (s *sim) stock() {
	s.skus = make([]skuState, s.p.SKUs)
	// Expected buyers per SKU over the day from the Zipf weights.
	var norm float64
	for k := 1; k <= s.p.SKUs; k++ {
		norm += 1 / math.Pow(float64(k), s.p.ZipfS)
	}
	leadMean := (s.p.LeadTimeMin + s.p.LeadTimeMax).Hours() / 2
	for i := range s.skus {
		perDay := float64(s.p.Orders) * (1 / math.Pow(float64(i+1), s.p.ZipfS)) / norm * 1.2 // units: 1.2 a buyer
		st := &s.skus[i]
		st.name = fmt.Sprintf("sku-%05d", i)
		st.reorderAt = int64(math.Ceil(perDay * leadMean / 24 / 2)) // covers half the lead time
		st.batch = max(2, int64(math.Ceil(perDay/2)))
		st.real = st.batch + st.reorderAt
		st.book = st.real
		s.applyStock(i, st.book, nil)
	}
}

// Event kinds.
const (
	evBuyer = iota
	evPoll
	evPushSend
	evPushApply
	evExchange
	evOneC
	evReceipt
	evCancel
)

type event struct {
	at      time.Duration
	seq     uint64
	kind    int
	channel int
	data    any
}

type eventQueue []*event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	return q[i].at < q[j].at || q[i].at == q[j].at && q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(*event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

func (s *sim) at(at time.Duration, kind, channel int, data any) {
	s.seq++
	heap.Push(&s.events, &event{at: at, seq: s.seq, kind: kind, channel: channel, data: data})
}

// run plays the day.
func (s *sim) run() (Result, error) {
	began := time.Now()
	for s.events.Len() > 0 {
		ev := heap.Pop(&s.events).(*event)
		if ev.at > s.p.Day {
			break
		}
		s.now = ev.at
		if err := s.handle(ev); err != nil {
			return s.res, fmt.Errorf("at %v: %w", s.now, err)
		}
	}
	s.now = s.p.Day
	for i := range s.skus {
		s.touch(i)
	}
	s.res.ShortAtEnd = len(s.ledger.Short(nil))
	s.res.Elapsed = time.Since(began)
	return s.res, nil
}

func (s *sim) handle(ev *event) error {
	switch ev.kind {
	case evBuyer:
		return s.buyer(ev.channel)
	case evPoll:
		return s.poll(ev.channel)
	case evPushSend:
		s.pushSend(ev.channel)
	case evPushApply:
		s.pushApply(ev.channel, ev.data.([]pushItem))
	case evExchange:
		return s.exchange()
	case evOneC:
		f := ev.data.(oneCFigure)
		s.applyStock(f.sku, f.qty, f.handoff)
		s.touch(f.sku)
	case evReceipt:
		s.receipt(ev.data.(int))
	case evCancel:
		return s.cancel(ev.data.(*mOrder))
	}
	return nil
}

// nextBuyer schedules the channel's next buyer (Poisson arrivals).
func (s *sim) nextBuyer(c int) {
	rate := s.p.Share[c] * float64(s.p.Orders) / s.p.Day.Seconds()
	if rate <= 0 {
		return
	}
	gap := time.Duration(s.rng.ExpFloat64() / rate * float64(time.Second))
	s.at(s.now+gap+1, evBuyer, c, nil)
}

func (s *sim) qty() int64 {
	switch r := s.rng.Float64(); {
	case r < 0.85:
		return 1
	case r < 0.97:
		return 2
	}
	return 3
}

func (s *sim) buyer(c int) error {
	s.nextBuyer(c)
	s.res.Buyers[c]++
	i, q := int(s.zipf.Uint64()), s.qty()
	st := &s.skus[i]
	if c == chSite {
		return s.siteOrder(i, q)
	}
	if st.sellable[c] < q {
		s.res.Lost[c]++
		return nil
	}
	st.sellable[c] -= q // the marketplace reserves its own order
	s.orderSeq++
	o := &mOrder{id: strconv.Itoa(s.orderSeq), channel: c, sku: i, qty: q}
	s.accept(c, i, q)
	s.pending[c] = append(s.pending[c], o)
	if s.rng.Float64() < s.p.CancelShare {
		s.at(s.now+time.Minute+time.Duration(s.rng.Int64N(int64(s.p.CancelWithin))), evCancel, c, o)
	}
	s.touch(i)
	return nil
}

// siteOrder is a checkout: a hold through the ledger, then confirmed.
func (s *sim) siteOrder(i int, q int64) error {
	s.orderSeq++
	id := "site-" + strconv.Itoa(s.orderSeq)
	_, err := s.ledger.Reserve(reservation.ReserveRequest{ID: id, Channel: "site",
		Lines: []reservation.Line{{SKU: s.skus[i].name, Qty: q}}}, s.clock(), &s.fx)
	if errors.Is(err, reservation.ErrInsufficientStock) {
		s.res.Lost[chSite]++
		return nil
	}
	if err != nil {
		return err
	}
	s.effects()
	if err := s.ledger.Confirm(id, 0, s.clock(), &s.fx); err != nil {
		return err
	}
	s.effects()
	s.accept(chSite, i, q)
	s.toExport = append(s.toExport, holdRef{id: id, sku: i, qty: q})
	s.touch(i)
	return nil
}

// accept takes q units of SKU i off the real stock for channel c.
func (s *sim) accept(c, i int, q int64) {
	st := &s.skus[i]
	s.res.Accepted[c]++
	s.res.AcceptedUnits[c] += q
	if over := q - max(st.real, 0); over > 0 {
		s.res.Oversold[c] += over
	}
	st.real -= q
	if st.real <= st.reorderAt && !st.inbound {
		st.inbound = true
		lead := s.p.LeadTimeMin + time.Duration(s.rng.Int64N(int64(s.p.LeadTimeMax-s.p.LeadTimeMin)+1))
		s.at(s.now+lead, evReceipt, 0, i)
	}
}

// poll is the intake: every order the marketplace accepted so far becomes
// a forced hold, and cancelled ones are released.
func (s *sim) poll(c int) error {
	s.at(s.now+s.p.Poll[c], evPoll, c, nil)
	for _, o := range s.pending[c] {
		if o.cancelled {
			continue
		}
		name := s.skus[o.sku].name
		avail, err := s.ledger.Available(name, channelNames[c])
		if err != nil {
			return err
		}
		if short := o.qty - avail; short > 0 {
			s.res.RecordedShort[c] += short
		}
		id := intake.HoldID(feeds.Kind(channelNames[c]), o.id)
		if _, err := s.ledger.Reserve(reservation.ReserveRequest{ID: id, Channel: channelNames[c],
			Lines: []reservation.Line{{SKU: name, Qty: o.qty}}, Force: true}, s.clock(), &s.fx); err != nil {
			return err
		}
		s.effects()
		o.recorded = true
		s.toExport = append(s.toExport, holdRef{id: id, sku: o.sku, qty: o.qty, order: o})
		if s.p.Forget {
			s.forget(c, o.sku)
		}
		s.touch(o.sku)
	}
	s.pending[c] = s.pending[c][:0]
	for _, o := range s.toRelease[c] {
		err := s.ledger.Release(intake.HoldID(feeds.Kind(channelNames[c]), o.id), s.clock(), &s.fx)
		if err != nil && !errors.Is(err, reservation.ErrHoldHandedOff) {
			return err
		}
		s.effects()
		if s.p.Forget {
			s.forget(c, o.sku)
		}
		s.touch(o.sku)
	}
	s.toRelease[c] = s.toRelease[c][:0]
	return nil
}

// cancel: the buyer cancels a marketplace order; its units are back.
func (s *sim) cancel(o *mOrder) error {
	st := &s.skus[o.sku]
	o.cancelled = true
	s.res.Cancelled++
	st.real += o.qty
	st.sellable[o.channel] += o.qty
	if o.recorded {
		s.toRelease[o.channel] = append(s.toRelease[o.channel], o)
	}
	if o.exported { // 1C took it: 1C un-books it and sends its figure
		st.book += o.qty
		s.sendFigure(o.sku, nil)
	}
	s.touch(o.sku)
	return nil
}

// exchange is 1C taking the confirmed orders (mode=query, mode=success):
// it books them and sends, per SKU, a figure that names them.
func (s *sim) exchange() error {
	s.at(s.now+s.p.ExchangeEvery, evExchange, 0, nil)
	handoff := map[int][]string{}
	var h reservation.Hold
	for _, r := range s.toExport {
		if !s.ledger.Hold(r.id, &h) || h.State != reservation.HoldConfirmed {
			continue // released before 1C took it
		}
		s.skus[r.sku].book -= r.qty
		handoff[r.sku] = append(handoff[r.sku], r.id)
		if r.order != nil {
			r.order.exported = true
		}
	}
	s.toExport = s.toExport[:0]
	for i := range s.skus { // in SKU order: deterministic
		ids, ok := handoff[i]
		if !ok {
			continue
		}
		for len(ids) > 0 {
			n := min(len(ids), reservation.MaxHandoffIDs)
			s.sendFigure(i, ids[:n])
			ids = ids[n:]
		}
	}
	return nil
}

type oneCFigure struct {
	sku     int
	qty     int64
	handoff []string
}

// sendFigure sends 1C's current free stock of SKU i; it arrives after the
// 1C delay, never before the SKU's previous figure (one partition).
func (s *sim) sendFigure(i int, handoff []string) {
	st := &s.skus[i]
	delay := max(s.p.OneCMinDelay, time.Duration(s.rng.ExpFloat64()*float64(s.p.OneCDelay)))
	arrive := max(s.now+delay, st.lastOneC)
	st.lastOneC = arrive
	s.at(arrive, evOneC, 0, oneCFigure{sku: i, qty: st.book, handoff: handoff})
}

func (s *sim) receipt(i int) {
	st := &s.skus[i]
	st.inbound = false
	st.real += st.batch
	st.book += st.batch
	s.res.Receipts++
	s.sendFigure(i, nil)
	s.touch(i)
}

// applyStock applies a stock.set as the ingest does; figures are stamped
// in send order, so a late one is stale.
func (s *sim) applyStock(i int, qty int64, handoff []string) {
	s.oneCSeq++
	ev := reservation.Event{V: 1, ID: "ev-" + strconv.FormatUint(s.oneCSeq, 10), Source: "ut11", Seq: s.oneCSeq,
		At: s.clock(), Type: reservation.EventStockSet, SKU: s.skus[i].name, Warehouse: warehouse,
		Qty: max(qty, 0), Handoff: handoff}
	if _, err := s.ledger.ApplyEvent(&ev, reservation.Source{}, &s.fx); err != nil {
		panic(fmt.Sprintf("orderday: stock.set refused: %v", err))
	}
	s.res.OneCEvents++
	s.effects()
}

// effects hands the ledger's channel changes to the push side, as the
// engine hands them to the hub once they are durable.
func (s *sim) effects() {
	for _, ch := range s.fx.Changes {
		for c := chOzon; c < numChannels; c++ {
			if ch.Channel == channelNames[c] && s.push[c] != nil { // nil: the first stock, synced in newSim
				s.mark(c, s.index(ch.SKU), ch.Qty)
			}
		}
	}
	s.fx.Reset()
}

func (s *sim) index(name string) int {
	n, err := strconv.Atoi(name[len("sku-"):])
	if err != nil {
		panic("orderday: sku name " + name)
	}
	return n
}

func (s *sim) clock() time.Time { return s.start.Add(s.now) }

func (s *sim) avail(i, c int) int64 {
	n, err := s.ledger.Available(s.skus[i].name, channelNames[c])
	if err != nil {
		panic(err)
	}
	return n
}

// touch integrates what each channel showed beyond the real stock since
// the SKU last changed, and takes the new figures.
func (s *sim) touch(i int) {
	st := &s.skus[i]
	dt := (s.now - st.last).Hours()
	real := max(st.real, 0)
	for c := range numChannels {
		s.res.Exposure[c] += float64(st.excess[c]) * dt
		shown := st.sellable[c]
		if c == chSite {
			shown = s.avail(i, chSite)
		}
		st.excess[c] = max(0, shown-real)
	}
	st.last = s.now
}
