package reservation

// cell is the state of one (SKU, warehouse). 40 bytes: four million cells
// cost 160 MB.
type cell struct {
	free   int64  // free stock from 1C
	held   int64  // Σ unconsumed allocations of active holds
	setAt  int64  // `at` (unix ns) of the applied stock.set, if cellStamped
	setSeq uint64 // `seq` of the applied stock.set, if cellStamped
	safety int32  // own safety stock, if cellOwnSafety
	flags  uint32
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
		pages[p] = new(cellPage)
	}
	return &pages[p][sku&(cellPageSize-1)]
}

func (l *Ledger) safetyOf(c *cell, wh uint16) int64 {
	if c.flags&cellOwnSafety != 0 {
		return int64(c.safety)
	}
	return l.whs[wh].safety
}

// cellAvail is free − held − safety, never below zero, and zero for a
// deleted SKU.
func (l *Ledger) cellAvail(sku uint32, wh uint16) int64 {
	c := l.cellAt(sku, wh)
	if c == nil || l.skus[sku].flags&skuDeleted != 0 {
		return 0
	}
	return max(0, c.free-c.held-l.safetyOf(c, wh))
}

// addHeld changes a cell's held units and keeps the short set.
func (l *Ledger) addHeld(sku uint32, wh uint16, delta int64) {
	c := l.cellFor(sku, wh)
	was := c.free < c.held
	c.held += delta
	assert(c.held >= 0, "held below zero")
	l.noteShort(sku, was, c.free < c.held)
}

// setFree sets a cell's free stock and keeps the short set.
func (l *Ledger) setFree(sku uint32, c *cell, free int64) {
	was := c.free < c.held
	c.free = free
	l.noteShort(sku, was, c.free < c.held)
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
