package reservation

import (
	"fmt"
	"slices"
)

// viewTracker finds the (SKU, channel) pairs a command changed without
// scanning the catalog: each mutation first touches the SKUs it will change
// (which pulls in the kits they are components of, through the reverse
// index), and at the end their channel quantities before and after are
// compared; the differences go to Effects.Changes.
//
// Each SKU's availability per source warehouse is read once into a vector
// at its first touch (the before-state) and once more at the end if it was
// touched (the after-state); channel quantities, kits included, are sums
// and minimums over those vectors. A SKU whose kit composition or deleted
// flag the command changes is touched with touchItem, which computes its
// before-quantities at once, since they cannot be derived afterwards.
type viewTracker struct {
	on      bool
	skus    []uint32 // SKUs whose channel quantities are compared
	eager   []bool   // before-quantities computed at touch, in before
	before  []int64  // len(skus) × len(channels)
	qtyA    []int64  // scratch
	qtyB    []int64  // scratch
	vecSKUs []uint32 // SKUs with availability vectors
	dirty   []bool   // touched: read again at the end
	vecs    []int64  // before-state vectors, len(vecSKUs) × len(srcWhs)
	after   []int64  // after-state vectors, filled by endViews
	ending  bool     // endViews is running: new vectors go to after too
}

func (l *Ledger) beginViews(fx *Effects) {
	v := &l.views
	v.on = fx != nil
	v.skus, v.eager, v.before = v.skus[:0], v.eager[:0], v.before[:0]
	v.vecSKUs, v.dirty, v.vecs, v.after = v.vecSKUs[:0], v.dirty[:0], v.vecs[:0], v.after[:0]
}

// touch must be called before the SKU's cells change.
func (l *Ledger) touch(sku uint32) {
	if !l.views.on {
		return
	}
	l.views.dirty[l.vector(sku)] = true
	l.track(sku, false)
	if l.skus[sku].flags&skuComponent != 0 {
		for _, kit := range l.kitsOf[sku] {
			l.track(kit, false)
		}
	}
}

// touchItem must be called before the SKU's kit composition or deleted
// flag change.
func (l *Ledger) touchItem(sku uint32) {
	if !l.views.on {
		return
	}
	assert(!slices.Contains(l.views.skus, sku), "item touched after its stock")
	l.track(sku, true)
	l.touch(sku)
}

func (l *Ledger) track(sku uint32, eager bool) {
	v := &l.views
	if slices.Contains(v.skus, sku) {
		return
	}
	v.skus = append(v.skus, sku)
	v.eager = append(v.eager, eager)
	if eager {
		v.before = l.channelQtys(sku, v.before, false)
		return
	}
	for range l.channels {
		v.before = append(v.before, 0)
	}
}

func (l *Ledger) endViews(fx *Effects) {
	v := &l.views
	if !v.on {
		return
	}
	v.on = false
	n := len(l.srcWhs)
	v.after = append(v.after[:0], v.vecs...)
	v.ending = true
	defer func() { v.ending = false }()
	changed := false
	for i, dirty := range v.dirty {
		if dirty {
			after := v.after[i*n : (i+1)*n]
			l.readVector(v.vecSKUs[i], after)
			changed = changed || !slices.Equal(after, v.vecs[i*n:(i+1)*n])
		}
	}
	if !changed && !slices.Contains(v.eager, true) {
		return
	}
	nc := len(l.channels)
	for i, sku := range v.skus {
		before := v.before[i*nc : (i+1)*nc]
		if !v.eager[i] {
			v.qtyB = l.channelQtys(sku, v.qtyB[:0], false)
			before = v.qtyB
		}
		v.qtyA = l.channelQtys(sku, v.qtyA[:0], true)
		for c, q := range v.qtyA {
			if q != before[c] {
				fx.Changes = append(fx.Changes, ChannelChange{SKU: l.skus[sku].name, Channel: l.channels[c].name, Qty: q})
			}
		}
	}
}

// channelQtys appends the SKU's quantity in every channel, in channel order,
// computed from the before- or after-state vectors:
// Σ available over the channel's warehouses; for a kit, the minimum over
// components of floor(their channel quantity / qty); zero when deleted.
func (l *Ledger) channelQtys(sku uint32, dst []int64, afterState bool) []int64 {
	s := &l.skus[sku]
	start := len(dst)
	for range l.channels {
		dst = append(dst, 0)
	}
	out := dst[start:]
	switch {
	case s.flags&skuDeleted != 0:
	case s.flags&skuKit == 0:
		av := l.vectorIn(afterState, l.vector(sku))
		for c := range l.channels {
			out[c] = sumAt(av, l.channels[c].srcIdx)
		}
	default:
		for i, comp := range l.kits[sku] {
			av := l.vectorIn(afterState, l.vector(comp.sku))
			for c := range l.channels {
				if q := sumAt(av, l.channels[c].srcIdx) / comp.qty; i == 0 || q < out[c] {
					out[c] = q
				}
			}
		}
	}
	return dst
}

// vector returns the index of the SKU's availability vector, reading it
// from the cells the first time in a command (into both the before and,
// once endViews has started, the after vectors: an untouched SKU has not
// changed).
func (l *Ledger) vector(sku uint32) int {
	v := &l.views
	if i := slices.Index(v.vecSKUs, sku); i >= 0 {
		return i
	}
	n := len(l.srcWhs)
	v.vecSKUs = append(v.vecSKUs, sku)
	v.dirty = append(v.dirty, false)
	v.vecs = slices.Grow(v.vecs, n)[:len(v.vecs)+n]
	l.readVector(sku, v.vecs[len(v.vecs)-n:])
	if v.ending {
		v.after = append(v.after, v.vecs[len(v.vecs)-n:]...)
	}
	return len(v.vecSKUs) - 1
}

// vectorIn returns vector i in the before or after state.
func (l *Ledger) vectorIn(afterState bool, i int) []int64 {
	n := len(l.srcWhs)
	vecs := l.views.vecs
	if afterState {
		vecs = l.views.after
	}
	return vecs[i*n : (i+1)*n]
}

// readVector reads the SKU's available in every source warehouse.
func (l *Ledger) readVector(sku uint32, av []int64) {
	if l.skus[sku].flags&skuDeleted != 0 {
		clear(av)
		return
	}
	p, i := int(sku>>cellPageBits), sku&(cellPageSize-1)
	for k, wh := range l.srcWhs {
		a := int64(0)
		if pages := l.cols[wh]; p < len(pages) && pages[p] != nil {
			c := &pages[p][i]
			a = max(0, c.free-c.held-l.safetyOf(c, wh))
		}
		av[k] = a
	}
}

func sumAt(av []int64, idx []int) int64 {
	var sum int64
	for _, i := range idx {
		sum += av[i]
	}
	return sum
}

// channelQty is one channel's quantity of a SKU (see channelQtys).
func (l *Ledger) channelQty(sku uint32, ch *channel) int64 {
	s := &l.skus[sku]
	if s.flags&skuDeleted != 0 {
		return 0
	}
	if s.flags&skuKit == 0 {
		return l.sumAvail(sku, ch)
	}
	qty := int64(-1)
	for _, c := range l.kits[sku] {
		q := l.sumAvail(c.sku, ch) / c.qty
		if qty < 0 || q < qty {
			qty = q
		}
	}
	return max(qty, 0)
}

func (l *Ledger) sumAvail(sku uint32, ch *channel) int64 {
	var sum int64
	for _, wh := range ch.sources {
		sum += l.cellAvail(sku, wh)
	}
	return sum
}

// channelIndex finds a channel: a scan beats hashing for a few channels.
func (l *Ledger) channelIndex(name string) (int, bool) {
	if len(l.channels) <= 8 {
		for i := range l.channels {
			if l.channels[i].name == name {
				return i, true
			}
		}
		return 0, false
	}
	i, ok := l.chanIDs[name]
	return i, ok
}

// Available returns the SKU's channel quantity (kits included). An unknown
// SKU has 0.
func (l *Ledger) Available(sku, channelName string) (int64, error) {
	c, ok := l.chanIDs[channelName]
	if !ok {
		return 0, fmt.Errorf("%w: %q", ErrUnknownChannel, channelName)
	}
	id, ok := l.skuIDs[sku]
	if !ok {
		return 0, nil
	}
	return l.channelQty(id, &l.channels[c]), nil
}

// WarehouseStock is one warehouse's figures for a SKU. For a kit only
// Available is set: min over components of floor(available / qty) there.
type WarehouseStock struct {
	Warehouse string
	Free      int64 // from 1C
	Held      int64 // by active holds
	Safety    int64
	Available int64 // free − held − safety, never below zero
}

// Warehouses appends the SKU's figures for every known warehouse, in
// warehouse id order (config warehouses first), and returns dst.
func (l *Ledger) Warehouses(sku string, dst []WarehouseStock) []WarehouseStock {
	id, ok := l.skuIDs[sku]
	if !ok {
		return dst
	}
	for wh := range l.whs {
		w := WarehouseStock{Warehouse: l.whs[wh].name}
		if c := l.cellAt(id, uint16(wh)); c != nil {
			w.Free, w.Held, w.Safety = c.free, c.held, l.safetyOf(c, uint16(wh))
		} else {
			w.Safety = l.whs[wh].safety
		}
		w.Available = l.warehouseAvail(id, uint16(wh))
		dst = append(dst, w)
	}
	return dst
}

func (l *Ledger) warehouseAvail(sku uint32, wh uint16) int64 {
	s := &l.skus[sku]
	if s.flags&skuKit == 0 || s.flags&skuDeleted != 0 {
		return l.cellAvail(sku, wh)
	}
	qty := int64(-1)
	for _, c := range l.kits[sku] {
		q := l.cellAvail(c.sku, wh) / c.qty
		if qty < 0 || q < qty {
			qty = q
		}
	}
	return max(qty, 0)
}

// Short appends, sorted, the SKUs for which 1C reports less free stock than
// is held in some warehouse, and returns dst.
func (l *Ledger) Short(dst []string) []string {
	start := len(dst)
	for id := range l.short {
		dst = append(dst, l.skus[id].name)
	}
	slices.Sort(dst[start:])
	return dst
}

// IsShort reports whether the SKU is short.
func (l *Ledger) IsShort(sku string) bool {
	id, ok := l.skuIDs[sku]
	return ok && l.skus[id].shortCells > 0
}
