package reservation

import (
	"fmt"
	"slices"
)

// planScratch is reused by every Reserve: planning allocates nothing once
// the slices have grown to the largest basket seen.
type planScratch struct {
	lineIDs []uint32   // SKU id per request line
	unknown []string   // SKUs a forced hold will intern, in order
	parts   []linePart // (line, SKU) demand after kit expansion
	demand  []demand   // summed per SKU, in order of first appearance
	chunks  []chunk    // per demand, the warehouses it is taken from
	cursor  []cursor
	allocs  []holdAlloc
	order   []int   // channel sources in strategy order
	avail   []int64 // per channel source
}

type linePart struct {
	line   uint16
	sku    uint32
	demand int
	qty    int64
}

type demand struct {
	sku    uint32
	qty    int64
	lo, hi int // chunks[lo:hi]
}

type chunk struct {
	wh  uint16
	qty int64
}

type cursor struct {
	chunk int
	used  int64
}

// maxDemand bounds one component's summed demand in one basket.
const maxDemand = 1_000_000_000_000_000

func (p *planScratch) reset() {
	p.lineIDs, p.unknown, p.parts = p.lineIDs[:0], p.unknown[:0], p.parts[:0]
	p.demand, p.chunks, p.allocs = p.demand[:0], p.chunks[:0], p.allocs[:0]
}

// planHold expands kits, sums demand per component and allocates each
// component to warehouses by the channel's strategy. It changes nothing in
// the ledger; on success plan.allocs holds the allocations per line.
func (l *Ledger) planHold(req *ReserveRequest, ch *channel) error {
	p := &l.plan
	p.reset()
	for i, ln := range req.Lines {
		id := l.planSKU(ln.SKU)
		p.lineIDs = append(p.lineIDs, id)
		if err := l.expandLine(uint16(i), id, ln.Qty); err != nil {
			return err
		}
	}
	if err := l.checkHoldsPerSKU(); err != nil {
		return err
	}
	if req.Force {
		if err := l.roomForSKUs(len(p.unknown), req.ID); err != nil {
			return err
		}
	}
	enough := true
	for i := range p.demand {
		if !l.allocDemand(&p.demand[i], ch, req.Force) {
			enough = false
		}
	}
	if !enough {
		return l.insufficient(req, ch)
	}
	p.distribute()
	return nil
}

// planSKU returns the SKU's id, or the id it will get if a forced hold
// interns it (unknown SKUs have no stock).
func (l *Ledger) planSKU(name string) uint32 {
	if id, ok := l.skuIDs[name]; ok {
		return id
	}
	p := &l.plan
	for i, u := range p.unknown {
		if u == name {
			return uint32(len(l.skus) + i)
		}
	}
	p.unknown = append(p.unknown, name)
	return uint32(len(l.skus) + len(p.unknown) - 1)
}

func (l *Ledger) known(sku uint32) bool { return int(sku) < len(l.skus) }

func (l *Ledger) expandLine(line uint16, sku uint32, qty int64) error {
	if l.known(sku) && l.skus[sku].flags&skuKit != 0 {
		for _, c := range l.kitComps(sku) {
			if err := l.addPart(line, c.sku, qty*c.qty); err != nil {
				return err
			}
		}
		return nil
	}
	return l.addPart(line, sku, qty)
}

func (l *Ledger) addPart(line uint16, sku uint32, qty int64) error {
	p := &l.plan
	d := -1
	for i := range p.demand {
		if p.demand[i].sku == sku {
			d = i
			break
		}
	}
	if d < 0 {
		d = len(p.demand)
		var dm *demand
		p.demand, dm = extend(p.demand)
		*dm = demand{sku: sku}
	}
	p.demand[d].qty += qty
	if p.demand[d].qty > maxDemand {
		return requestErr("lines", fmt.Sprintf("demand for one SKU exceeds %d", int64(maxDemand)))
	}
	var part *linePart
	p.parts, part = extend(p.parts)
	*part = linePart{line: line, sku: sku, demand: d, qty: qty}
	return nil
}

func (l *Ledger) checkHoldsPerSKU() error {
	for _, d := range l.plan.demand {
		if l.known(d.sku) && int(l.skus[d.sku].holds) >= l.lim.MaxHoldsPerSKU {
			return limitErr("MaxHoldsPerSKU", int64(l.lim.MaxHoldsPerSKU), int64(l.skus[d.sku].holds)+1, l.skus[d.sku].name)
		}
	}
	return nil
}

// allocDemand appends the demand's chunks. Without enough stock it appends
// nothing and reports false, unless force, which puts what is missing on
// the strategy's first warehouse.
func (l *Ledger) allocDemand(d *demand, ch *channel, force bool) bool {
	p := &l.plan
	p.avail = slices.Grow(p.avail[:0], len(ch.sources))[:len(ch.sources)]
	clear(p.avail)
	if l.known(d.sku) && l.skus[d.sku].flags&skuDeleted == 0 {
		pg, i := int(d.sku>>cellPageBits), d.sku&(cellPageSize-1)
		for k, wh := range ch.sources {
			if pages := l.cols[wh]; pg < len(pages) && pages[pg] != nil {
				p.avail[k] = l.availIn(&pages[pg][i], wh)
			}
		}
	}
	p.strategyOrder(ch.strategy)
	d.lo = len(p.chunks)
	ok := p.take(d, ch, force)
	d.hi = len(p.chunks)
	return ok
}

// strategyOrder fills p.order: priority keeps the configured order;
// most_stock sorts by availability, highest first, ties in configured order.
func (p *planScratch) strategyOrder(s Strategy) {
	n := len(p.avail)
	p.order = slices.Grow(p.order[:0], n)[:n]
	order := p.order
	for i := range order {
		order[i] = i
	}
	if s != StrategyMostStock {
		return
	}
	avail := p.avail[:n]
	for i := 1; i < n; i++ {
		for j := i; j > 0 && avail[order[j]] > avail[order[j-1]]; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
}

func (p *planScratch) take(d *demand, ch *channel, force bool) bool {
	first := ch.sources[p.order[0]]
	if !ch.split {
		for _, i := range p.order {
			if p.avail[i] >= d.qty {
				p.addChunk(ch.sources[i], d.qty)
				return true
			}
		}
		if force {
			p.addChunk(first, d.qty)
		}
		return force
	}
	rem := d.qty
	for _, i := range p.order {
		if q := min(p.avail[i], rem); q > 0 {
			p.addChunk(ch.sources[i], q)
			rem -= q
		}
	}
	switch {
	case rem == 0:
		return true
	case !force:
		p.chunks = p.chunks[:d.lo]
		return false
	case len(p.chunks) > d.lo && p.chunks[d.lo].wh == first:
		p.chunks[d.lo].qty += rem
	default:
		p.chunks = append(p.chunks, chunk{})
		copy(p.chunks[d.lo+1:], p.chunks[d.lo:])
		p.chunks[d.lo] = chunk{wh: first, qty: rem}
	}
	return true
}

func (p *planScratch) addChunk(wh uint16, qty int64) {
	var c *chunk
	p.chunks, c = extend(p.chunks)
	*c = chunk{wh: wh, qty: qty}
}

func (p *planScratch) addAlloc(sku uint32, wh, line uint16, qty int64) {
	var a *holdAlloc
	p.allocs, a = extend(p.allocs)
	*a = holdAlloc{sku: sku, wh: wh, line: line, qty: qty}
}

// distribute hands each component's chunks to the lines that need it, in
// line order, giving allocations per (line, SKU, warehouse).
func (p *planScratch) distribute() {
	if len(p.chunks) == len(p.demand) {
		// one warehouse per component: each part is one allocation
		for _, part := range p.parts {
			ch := p.chunks[p.demand[part.demand].lo]
			p.addAlloc(part.sku, ch.wh, part.line, part.qty)
		}
		return
	}
	p.cursor = p.cursor[:0]
	for _, d := range p.demand {
		p.cursor = append(p.cursor, cursor{chunk: d.lo})
	}
	for _, part := range p.parts {
		c := &p.cursor[part.demand]
		for need := part.qty; need > 0; {
			assert(c.chunk < p.demand[part.demand].hi, "allocation ran out of chunks")
			ch := &p.chunks[c.chunk]
			q := min(ch.qty-c.used, need)
			p.addAlloc(part.sku, ch.wh, part.line, q)
			need -= q
			c.used += q
			if c.used == ch.qty {
				c.chunk++
				c.used = 0
			}
		}
	}
}

func (l *Ledger) insufficient(req *ReserveRequest, ch *channel) error {
	e := &InsufficientError{Lines: make([]LineShortage, len(req.Lines))}
	for i, ln := range req.Lines {
		avail := int64(0)
		if id := l.plan.lineIDs[i]; l.known(id) {
			avail = l.channelQty(id, ch)
		}
		e.Lines[i] = LineShortage{SKU: ln.SKU, Requested: ln.Qty, Available: avail}
	}
	return e
}
