package reservation

// cell is the state of one (SKU, warehouse). 40 bytes: four million cells
// cost 160 MB. What availability reads comes first, so it more often sits
// in one cache line.
type cell struct {
	free   int64 // free stock from 1C
	held   int64 // Σ unconsumed allocations of active holds
	safety int32 // own safety stock if cellOwnSafety, else the warehouse's
	flags  uint32
	setAt  int64  // `at` (unix ns) of the applied stock.set, if cellStamped
	setSeq uint64 // `seq` of the applied stock.set, if cellStamped
}

const (
	cellStamped   uint32 = 1 << iota // a stock.set was applied
	cellOwnSafety                    // safety overrides the warehouse's
)

// Cells live in fixed-size pages per warehouse, indexed by SKU id: growing
// never copies, a missing page reads as zero, and a sparse warehouse costs
// at most one page per run of cellPageSize SKU ids it touches.
const (
	cellPageBits = 8
	cellPageSize = 1 << cellPageBits
)

type cellPage [cellPageSize]cell

// cellAt returns the cell or nil when it was never written.
func (l *Ledger) cellAt(sku uint32, wh uint16) *cell {
	pages := l.cols[wh]
	p := int(sku >> cellPageBits)
	if p >= len(pages) || pages[p] == nil {
		return nil
	}
	return &pages[p][sku&(cellPageSize-1)]
}

// cellFor returns the cell, allocating its page.
func (l *Ledger) cellFor(sku uint32, wh uint16) *cell {
	p := int(sku >> cellPageBits)
	pages := l.cols[wh]
	if p >= len(pages) {
		n := max(p+1, 2*len(pages))
		grown := make([]*cellPage, n)
		copy(grown, pages)
		pages = grown
		l.cols[wh] = pages
	}
	if pages[p] == nil {
		page := new(cellPage)
		if safety := int32(l.whs[wh].safety); safety != 0 {
			for i := range page {
				page[i].safety = safety
			}
		}
		pages[p] = page
	}
	return &pages[p][sku&(cellPageSize-1)]
}

// safetyOf is the cell's safety stock: every cell carries its own or its
// warehouse's (see setWarehouseSafety), so reading it needs no branch.
func (l *Ledger) safetyOf(c *cell, wh uint16) int64 { return int64(c.safety) }

// setWarehouseSafety sets a warehouse's default safety stock and copies it
// into its cells that have none of their own.
func (l *Ledger) setWarehouseSafety(wh uint16, qty int64) {
	l.whs[wh].safety = qty
	for _, page := range l.cols[wh] {
		if page == nil {
			continue
		}
		for i := range page {
			if page[i].flags&cellOwnSafety == 0 {
				page[i].safety = int32(qty)
			}
		}
	}
}

// cellAvail is free − held − safety, never below zero, and zero for a
// deleted SKU.
func (l *Ledger) cellAvail(sku uint32, wh uint16) int64 {
	c := l.cellAt(sku, wh)
	if c == nil || l.skus[sku].flags&skuDeleted != 0 {
		return 0
	}
	return l.availIn(c, wh)
}

// availIn is the cell's free − held − safety, never below zero (the SKU's
// deleted flag is the caller's).
func (l *Ledger) availIn(c *cell, wh uint16) int64 {
	return max(0, c.free-c.held-int64(c.safety))
}

// addHeld changes a cell's held units and keeps the short set and the
// views.
func (l *Ledger) addHeld(sku uint32, wh uint16, delta int64) {
	c := l.cellFor(sku, wh)
	was := c.free < c.held
	safety := l.safetyOf(c, wh)
	a0 := max(0, c.free-c.held-safety)
	c.held += delta
	assert(c.held >= 0, "held below zero")
	if is := c.free < c.held; is != was {
		l.noteShort(sku, was, is)
	}
	if l.views.on {
		l.noteAvail(sku, wh, a0, max(0, c.free-c.held-safety))
	}
}

// setFree sets a cell's free stock and keeps the short set and the views.
func (l *Ledger) setFree(sku uint32, wh uint16, c *cell, free int64) {
	was := c.free < c.held
	a0 := l.availIn(c, wh)
	c.free = free
	l.noteShort(sku, was, c.free < c.held)
	if l.views.on {
		l.noteAvail(sku, wh, a0, l.availIn(c, wh))
	}
}

func (l *Ledger) noteShort(sku uint32, was, is bool) {
	if was == is {
		return
	}
	s := &l.skus[sku]
	if is {
		s.shortCells++
		if s.shortCells == 1 {
			l.short[sku] = struct{}{}
		}
		return
	}
	assert(s.shortCells > 0, "short cell count")
	s.shortCells--
	if s.shortCells == 0 {
		delete(l.short, sku)
	}
}
