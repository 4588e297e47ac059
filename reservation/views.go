package reservation

import (
	"fmt"
	"slices"
)

// viewTracker finds the (SKU, channel) pairs a command changed without
// scanning the catalog: each mutation first touches the SKUs it will change
// (which pulls in the kits they are components of, through the reverse
// index), their channel quantities are computed before and after, and the
// differences go to Effects.Changes.
//
// Each SKU's availability per source warehouse is read once into a vector
// and reused: a kit's before-value comes from its components' vectors, and
// after the command only the touched SKUs' vectors are read again.
type viewTracker struct {
	on       bool
	skus     []uint32 // SKUs whose channel quantities are compared
	before   []int64  // len(skus) × len(channels)
	after    []int64
	vecSKUs  []uint32 // SKUs with an availability vector
	vecDirty []bool   // touched: read again at the end
	vecs     []int64  // len(vecSKUs) × len(srcWhs)
}

func (l *Ledger) beginViews(fx *Effects) {
	v := &l.views
	v.on = fx != nil
	v.skus, v.before = v.skus[:0], v.before[:0]
	v.vecSKUs, v.vecDirty, v.vecs = v.vecSKUs[:0], v.vecDirty[:0], v.vecs[:0]
}

// touch must be called before the SKU's cells, flags or kit change.
func (l *Ledger) touch(sku uint32) {
	if !l.views.on {
		return
	}
	l.views.vecDirty[l.vector(sku)] = true
	l.track(sku)
	if l.skus[sku].flags&skuComponent != 0 {
		for _, kit := range l.kitsOf[sku] {
			l.track(kit)
		}
	}
}

func (l *Ledger) track(sku uint32) {
	v := &l.views
	if slices.Contains(v.skus, sku) {
		return
	}
	v.skus = append(v.skus, sku)
	v.before = l.channelQtys(sku, v.before)
}

func (l *Ledger) endViews(fx *Effects) {
	v := &l.views
	if !v.on {
		return
	}
	n := len(l.srcWhs)
	for i, dirty := range v.vecDirty {
		if dirty {
			l.readVector(v.vecSKUs[i], v.vecs[i*n:(i+1)*n])
		}
	}
	for i, sku := range v.skus {
		v.after = l.channelQtys(sku, v.after[:0])
		for c, q := range v.after {
			if q != v.before[i*len(l.channels)+c] {
				fx.Changes = append(fx.Changes, ChannelChange{SKU: l.skus[sku].name, Channel: l.channels[c].name, Qty: q})
			}
		}
	}
	v.on = false
}

// channelQtys appends the SKU's quantity in every channel, in channel order:
// Σ available over the channel's warehouses; for a kit, the minimum over
// components of floor(their channel quantity / qty); zero when deleted.
func (l *Ledger) channelQtys(sku uint32, dst []int64) []int64 {
	s := &l.skus[sku]
	start := len(dst)
	for range l.channels {
		dst = append(dst, 0)
	}
	out := dst[start:]
	switch {
	case s.flags&skuDeleted != 0:
	case s.flags&skuKit == 0:
		av := l.vectorAt(l.vector(sku))
		for c := range l.channels {
			out[c] = sumAt(av, l.channels[c].srcIdx)
		}
	default:
		for i, comp := range l.kits[sku] {
			av := l.vectorAt(l.vector(comp.sku))
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
// from the cells the first time in a command.
func (l *Ledger) vector(sku uint32) int {
	v := &l.views
	if i := slices.Index(v.vecSKUs, sku); i >= 0 {
		return i
	}
	n := len(l.srcWhs)
	v.vecSKUs = append(v.vecSKUs, sku)
	v.vecDirty = append(v.vecDirty, false)
	v.vecs = slices.Grow(v.vecs, n)[:len(v.vecs)+n]
	l.readVector(sku, v.vecs[len(v.vecs)-n:])
	return len(v.vecSKUs) - 1
}

func (l *Ledger) vectorAt(i int) []int64 {
	n := len(l.srcWhs)
	return l.views.vecs[i*n : (i+1)*n]
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
