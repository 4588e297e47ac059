package reservation

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"
)

// model is the simulation's oracle: plain maps, no incremental state.
// Held stock, availability, channel quantities and short SKUs are
// recomputed from the holds on every question.
type model struct {
	cfg      Config
	lim      Limits
	known    map[string]bool // SKUs the ledger has interned
	free     map[[2]string]int64
	stamp    map[[2]string][2]int64 // at, seq of the applied stock.set
	deleted  map[string]bool
	kits     map[string][]KitComponent
	holds    map[string]*mHold
	closed   []string // replay window, oldest first
	dedupe   []string // stock.adjust ids, oldest first
	offsets  map[Partition]int64
	prices   map[[2]string]Price
	warehous map[string]bool
	heldMemo map[[2]string]int64 // recomputed from the holds after any change to them
}

type mHold struct {
	req       ReserveRequest
	state     HoldState
	createdAt int64
	expiresAt int64
	allocs    []Allocation
}

func newModel(cfg Config) *model {
	cfg, err := cfg.validate()
	if err != nil {
		panic(err)
	}
	m := &model{cfg: cfg, lim: cfg.Limits, known: map[string]bool{}, free: map[[2]string]int64{},
		stamp: map[[2]string][2]int64{}, deleted: map[string]bool{}, kits: map[string][]KitComponent{},
		holds: map[string]*mHold{}, offsets: map[Partition]int64{}, prices: map[[2]string]Price{}, warehous: map[string]bool{}}
	for _, s := range cfg.SafetyStock {
		if s.SKU != "" {
			m.known[s.SKU] = true
		}
		m.warehous[s.Warehouse] = true
	}
	for _, c := range cfg.Channels {
		for _, wh := range c.Warehouses {
			m.warehous[wh] = true
		}
	}
	return m
}

func (m *model) clone() *model {
	c := *m
	c.known, c.free, c.stamp = maps.Clone(m.known), maps.Clone(m.free), maps.Clone(m.stamp)
	c.deleted, c.kits, c.offsets, c.prices = maps.Clone(m.deleted), maps.Clone(m.kits), maps.Clone(m.offsets), maps.Clone(m.prices)
	c.warehous = maps.Clone(m.warehous)
	c.holds = map[string]*mHold{}
	for id, h := range m.holds {
		hc := *h
		hc.allocs = slices.Clone(h.allocs)
		c.holds[id] = &hc
	}
	c.closed, c.dedupe = slices.Clone(m.closed), slices.Clone(m.dedupe)
	c.heldMemo = nil
	return &c
}

func (m *model) safety(sku, wh string) int64 {
	v := int64(0)
	for _, s := range m.cfg.SafetyStock {
		if s.Warehouse == wh && s.SKU == "" {
			v = s.Qty
		}
	}
	for _, s := range m.cfg.SafetyStock {
		if s.Warehouse == wh && s.SKU == sku {
			v = s.Qty
		}
	}
	return v
}

func (m *model) held(sku, wh string) int64 {
	if m.heldMemo == nil {
		m.heldMemo = map[[2]string]int64{}
		for _, h := range m.holds {
			if h.state.Active() {
				for _, a := range h.allocs {
					if !a.HandedOff {
						m.heldMemo[[2]string{a.SKU, a.Warehouse}] += a.Qty
					}
				}
			}
		}
	}
	return m.heldMemo[[2]string{sku, wh}]
}

func (m *model) avail(sku, wh string) int64 {
	if m.deleted[sku] {
		return 0
	}
	return max(0, m.free[[2]string{sku, wh}]-m.held(sku, wh)-m.safety(sku, wh))
}

func (m *model) channel(name string) (ChannelConfig, bool) {
	for _, c := range m.cfg.Channels {
		if c.Name == name {
			return c, true
		}
	}
	return ChannelConfig{}, false
}

func (m *model) sumAvail(sku string, ch ChannelConfig) int64 {
	var sum int64
	for _, wh := range ch.Warehouses {
		sum += m.avail(sku, wh)
	}
	return sum
}

func (m *model) chanQty(sku, channel string) int64 {
	ch, _ := m.channel(channel)
	if m.deleted[sku] {
		return 0
	}
	kit, ok := m.kits[sku]
	if !ok {
		return m.sumAvail(sku, ch)
	}
	q := int64(-1)
	for _, c := range kit {
		if v := m.sumAvail(c.SKU, ch) / c.Qty; q < 0 || v < q {
			q = v
		}
	}
	return q
}

func (m *model) short() []string {
	var out []string
	for sku := range m.known {
		for wh := range m.warehous {
			if m.free[[2]string{sku, wh}] < m.held(sku, wh) {
				out = append(out, sku)
				break
			}
		}
	}
	slices.Sort(out)
	return out
}

func (m *model) activeHolds() int {
	n := 0
	for _, h := range m.holds {
		if h.state.Active() {
			n++
		}
	}
	return n
}

func (m *model) holdsOf(sku string) int {
	n := 0
	for _, h := range m.holds {
		if h.state.Active() && slices.ContainsFunc(h.allocs, func(a Allocation) bool { return a.SKU == sku && !a.HandedOff }) {
			n++
		}
	}
	return n
}

// reserve mirrors Ledger.Reserve; it returns the number of records made.
func (m *model) reserve(req ReserveRequest, now int64) (ReserveResult, int, error) {
	if err := m.checkRequest(req); err != nil {
		return ReserveResult{}, 0, err
	}
	if h, ok := m.holds[req.ID]; ok {
		if !reflectEqualRequest(h.req, req) {
			return ReserveResult{}, 0, ErrIdempotencyConflict
		}
		return ReserveResult{Replayed: true, State: h.state, ExpiresAt: timeOf(h.expiresAt)}, 0, nil
	}
	ch, ok := m.channel(req.Channel)
	if !ok {
		return ReserveResult{}, 0, ErrUnknownChannel
	}
	if m.activeHolds() >= m.lim.MaxActiveHolds {
		return ReserveResult{}, 0, &LimitError{Name: "MaxActiveHolds"}
	}
	type part struct {
		line int
		sku  string
		qty  int64
	}
	var parts []part
	var order []string
	demand := map[string]int64{}
	for i, ln := range req.Lines {
		comps := m.kits[ln.SKU]
		if comps == nil {
			comps = []KitComponent{{SKU: ln.SKU, Qty: 1}}
		}
		for _, c := range comps {
			if _, ok := demand[c.SKU]; !ok {
				order = append(order, c.SKU)
			}
			demand[c.SKU] += ln.Qty * c.Qty
			parts = append(parts, part{i, c.SKU, ln.Qty * c.Qty})
		}
	}
	for _, sku := range order {
		if m.holdsOf(sku) >= m.lim.MaxHoldsPerSKU {
			return ReserveResult{}, 0, &LimitError{Name: "MaxHoldsPerSKU"}
		}
	}
	chunks := map[string][]Allocation{}
	enough := true
	for _, sku := range order {
		c, ok := m.allocate(sku, demand[sku], ch, req.Force)
		chunks[sku] = c
		enough = enough && ok
	}
	if !enough {
		e := &InsufficientError{}
		for _, ln := range req.Lines {
			e.Lines = append(e.Lines, LineShortage{SKU: ln.SKU, Requested: ln.Qty, Available: m.chanQty(ln.SKU, req.Channel)})
		}
		return ReserveResult{}, 0, e
	}
	h := &mHold{req: req, state: HoldHeld, createdAt: now}
	for _, p := range parts {
		for need := p.qty; need > 0; {
			c := &chunks[p.sku][0]
			q := min(c.Qty, need)
			h.allocs = append(h.allocs, Allocation{Line: p.line, SKU: p.sku, Warehouse: c.Warehouse, Qty: q})
			need -= q
			if c.Qty -= q; c.Qty == 0 {
				chunks[p.sku] = chunks[p.sku][1:]
			}
		}
	}
	m.setExpiry(h, req, now)
	for _, ln := range req.Lines {
		m.known[ln.SKU] = true
	}
	m.holds[req.ID] = h
	m.heldMemo = nil
	return ReserveResult{State: h.state, ExpiresAt: timeOf(h.expiresAt)}, 1, nil
}

func reflectEqualRequest(a, b ReserveRequest) bool {
	return a.ID == b.ID && a.Channel == b.Channel && a.TTL == b.TTL && a.Force == b.Force && slices.Equal(a.Lines, b.Lines)
}

func (m *model) setExpiry(h *mHold, req ReserveRequest, now int64) {
	switch {
	case req.Force:
		h.state = HoldConfirmed
		if req.TTL > 0 {
			h.expiresAt = now + int64(req.TTL)
		}
	case req.TTL > 0:
		h.expiresAt = now + int64(req.TTL)
	default:
		h.expiresAt = now + int64(m.cfg.DefaultHoldTTL)
	}
}

func (m *model) checkRequest(req ReserveRequest) error {
	if len(req.Lines) > m.lim.MaxLinesPerHold {
		return &LimitError{Name: "MaxLinesPerHold"}
	}
	for _, ln := range req.Lines {
		if ln.Qty > m.lim.MaxQtyPerLine {
			return &LimitError{Name: "MaxQtyPerLine"}
		}
	}
	if req.TTL > m.lim.MaxHoldTTL {
		return &LimitError{Name: "MaxHoldTTL"}
	}
	return nil
}

// allocate: warehouses in strategy order; without split the first that
// has it all; forced shortfalls go to the first warehouse in that order.
func (m *model) allocate(sku string, need int64, ch ChannelConfig, force bool) ([]Allocation, bool) {
	whs := slices.Clone(ch.Warehouses)
	if ch.Strategy == StrategyMostStock {
		slices.SortStableFunc(whs, func(a, b string) int { return cmp.Compare(m.avail(sku, b), m.avail(sku, a)) })
	}
	if !ch.AllowSplit {
		for _, wh := range whs {
			if m.avail(sku, wh) >= need {
				return []Allocation{{Warehouse: wh, Qty: need}}, true
			}
		}
		return []Allocation{{Warehouse: whs[0], Qty: need}}, force
	}
	var out []Allocation
	rem := need
	for _, wh := range whs {
		if q := min(m.avail(sku, wh), rem); q > 0 {
			out = append(out, Allocation{Warehouse: wh, Qty: q})
			rem -= q
		}
	}
	if rem > 0 && len(out) > 0 && out[0].Warehouse == whs[0] {
		out[0].Qty += rem
	} else if rem > 0 {
		out = append([]Allocation{{Warehouse: whs[0], Qty: rem}}, out...)
	}
	return out, rem == 0 || force
}

func (m *model) retain(id string) {
	m.closed = append(m.closed, id)
	if len(m.closed) > m.lim.MaxRetainedHolds {
		delete(m.holds, m.closed[0])
		m.closed = m.closed[1:]
	}
}

func (m *model) end(id string, state HoldState) {
	m.heldMemo = nil
	m.holds[id].state = state
	m.retain(id)
}

func (m *model) consume(id, sku string) {
	m.heldMemo = nil
	h := m.holds[id]
	left := false
	for i := range h.allocs {
		if sku == "" || h.allocs[i].SKU == sku {
			h.allocs[i].HandedOff = true
		}
		left = left || !h.allocs[i].HandedOff
	}
	if !left {
		m.end(id, HoldHandedOff)
	}
}

func (m *model) confirm(id string, ttl time.Duration, now int64) (int, error) {
	if ttl > m.lim.MaxHoldTTL {
		return 0, &LimitError{Name: "MaxHoldTTL"}
	}
	h, ok := m.holds[id]
	switch {
	case !ok:
		return 0, ErrHoldNotFound
	case h.state == HoldHandedOff:
		return 0, nil
	case !h.state.Active():
		return 0, ErrHoldNotActive
	}
	exp := int64(0)
	if ttl > 0 {
		exp = now + int64(ttl)
	}
	if h.state == HoldConfirmed && h.expiresAt == exp {
		return 0, nil
	}
	h.state, h.expiresAt = HoldConfirmed, exp
	return 1, nil
}

func (m *model) release(id string) (int, error) {
	h, ok := m.holds[id]
	switch {
	case !ok:
		return 0, ErrHoldNotFound
	case h.state == HoldHandedOff:
		return 0, ErrHoldHandedOff
	case !h.state.Active():
		return 0, nil
	}
	m.end(id, HoldReleased)
	return 1, nil
}

func (m *model) handoff(id string) (int, error) {
	h, ok := m.holds[id]
	switch {
	case !ok:
		return 0, ErrHoldNotFound
	case h.state == HoldHandedOff:
		return 0, nil
	case !h.state.Active():
		return 0, ErrHoldNotActive
	}
	m.consume(id, "")
	return 1, nil
}

func (m *model) expire(now int64, maxHolds int) []string {
	var due []*mHold
	for _, h := range m.holds {
		if h.state.Active() && h.expiresAt != 0 && h.expiresAt <= now {
			due = append(due, h)
		}
	}
	slices.SortFunc(due, func(a, b *mHold) int {
		return cmp.Or(cmp.Compare(a.expiresAt, b.expiresAt), cmp.Compare(a.req.ID, b.req.ID))
	})
	var ids []string
	for _, h := range due[:min(len(due), maxHolds)] {
		ids = append(ids, h.req.ID)
		m.end(h.req.ID, HoldExpired)
	}
	return ids
}

// event mirrors ApplyEvent; it returns the number of records made.
func (m *model) event(ev Event, src Source) (Outcome, int, error) {
	p := Partition{src.Topic, src.Partition}
	if last, ok := m.offsets[p]; src.Topic != "" && ok && src.Offset <= last {
		return OutcomeAlreadyApplied, 0, nil
	}
	out, err := m.eventBody(ev)
	if src.Topic != "" {
		m.offsets[p] = src.Offset
	}
	return out, 1, err
}

func (m *model) eventBody(ev Event) (Outcome, error) {
	switch ev.Type {
	case EventStockSet, EventStockAdjust:
		return m.stock(ev), nil
	case EventPriceSet:
		m.known[ev.SKU] = true
		k, p := [2]string{ev.SKU, ev.PriceType}, Price{Amount: ev.Price, Currency: ev.Currency}
		if old, ok := m.prices[k]; ok && old == p {
			return OutcomeNoop, nil
		}
		m.prices[k] = p
		return OutcomeApplied, nil
	case EventItemUpsert:
		return m.upsert(ev)
	case EventItemDelete:
		if !m.known[ev.SKU] || m.deleted[ev.SKU] {
			return OutcomeNoop, nil
		}
		m.deleted[ev.SKU] = true
		delete(m.kits, ev.SKU)
		return OutcomeApplied, nil
	case EventReservationHandoff:
		h, ok := m.holds[ev.ReservationID]
		if !ok || !h.state.Active() {
			return OutcomeNoop, nil
		}
		m.consume(ev.ReservationID, "")
		return OutcomeApplied, nil
	}
	panic(fmt.Sprintf("model: event type %v", ev.Type))
}

func (m *model) stock(ev Event) Outcome {
	if ev.Type == EventStockAdjust && slices.Contains(m.dedupe, ev.ID) {
		return OutcomeDuplicate
	}
	m.known[ev.SKU], m.warehous[ev.Warehouse] = true, true
	k := [2]string{ev.SKU, ev.Warehouse}
	out := OutcomeApplied
	if ev.Type == EventStockSet {
		at := ev.At.UnixNano()
		if st, ok := m.stamp[k]; ok && (at < st[0] || at == st[0] && int64(ev.Seq) <= st[1]) {
			out = OutcomeStale
		} else {
			m.free[k], m.stamp[k] = ev.Qty, [2]int64{at, int64(ev.Seq)}
		}
	} else {
		m.dedupe = append(m.dedupe, ev.ID)
		if len(m.dedupe) > m.lim.MaxAdjustDedupeIDs {
			m.dedupe = m.dedupe[1:]
		}
		m.free[k] += ev.Delta
	}
	for _, id := range ev.Handoff {
		if h, ok := m.holds[id]; ok && h.state.Active() {
			m.consume(id, ev.SKU)
		}
	}
	return out
}

func (m *model) upsert(ev Event) (Outcome, error) {
	kit := mergedKit(ev.Kit)
	isComponent := false
	for _, comps := range m.kits {
		isComponent = isComponent || slices.ContainsFunc(comps, func(c KitComponent) bool { return c.SKU == ev.SKU })
	}
	if len(kit) > 0 && isComponent {
		return OutcomeRejected, eventErr("kit", "component")
	}
	if len(kit) > m.lim.MaxKitComponents {
		return OutcomeRejected, &LimitError{Name: "MaxKitComponents"}
	}
	for _, c := range kit {
		if _, isKit := m.kits[c.SKU]; isKit {
			return OutcomeRejected, eventErr("kit.sku", "nested")
		}
		n := 0
		for kitSKU, comps := range m.kits {
			if kitSKU != ev.SKU && slices.ContainsFunc(comps, func(o KitComponent) bool { return o.SKU == c.SKU }) {
				n++
			}
		}
		if n >= m.lim.MaxKitsPerComponent {
			return OutcomeRejected, &LimitError{Name: "MaxKitsPerComponent"}
		}
	}
	m.known[ev.SKU] = true
	for _, c := range kit {
		m.known[c.SKU] = true
	}
	delete(m.deleted, ev.SKU)
	if len(kit) == 0 {
		delete(m.kits, ev.SKU)
	} else {
		m.kits[ev.SKU] = kit
	}
	return OutcomeApplied, nil
}
