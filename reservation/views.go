package reservation

import (
	"fmt"
	"math/bits"
	"slices"
)

// viewTracker finds the (SKU, channel) pairs a command changed without
// scanning the catalog or reading anything twice.
//
// Channel quantities are sums of cell availability (and, for a kit,
// minimums over its components of such sums), so a command only has to
// know, per SKU and channel, by how much the availability it changed moved:
// every cell change goes through noteAvail with the cell's availability
// before and after, which adds the difference to the SKU's delta in each
// channel that sells from the cell's warehouse. At the end a plain SKU
// changed in exactly the channels whose delta is not zero, and its new
// quantity is read from the cells; a kit's quantity before the command is
// the minimum over its components of (current sum − delta) / qty, so it
// needs no state saved in advance either.
//
// A SKU whose kit composition or deleted flag the command changes is
// tracked with touchItem before the change: its quantities (and those of
// the kits it is a component of) are computed at once and compared with
// the ones at the end, since they cannot be derived from deltas.
//
// Invariant: refs lists each SKU at most once; vals holds stride values per
// ref: len(channels) deltas (viewCells) or quantities before the command
// (viewEager), then, once computed at the end (viewRef.summed), the SKU's
// channel sums of availability (len(channels)).
type viewTracker struct {
	on       bool
	stride   int
	refs     []viewRef
	vals     []int64
	index    map[uint32]int32 // SKU → ref, kept once refs outgrow viewScanMax
	indexed  bool
	last     int     // the ref noteAvail found last
	vec      []int64 // scratch: availability per source warehouse
	qty      []int64 // scratch: channel quantities
	qtyB     []int64 // scratch: channel quantities
	sums     []int64 // scratch: channel sums
	compRefs []int   // scratch: refs of a kit's components
}

// viewScanMax is the number of tracked SKUs up to which a scan finds a ref
// faster than a map.
const viewScanMax = 32

type viewKind uint8

const (
	viewCells viewKind = iota + 1 // a SKU whose cells changed: vals are deltas
	viewKit                       // a kit with a changed component
	viewEager                     // quantities computed at touch: vals are before
)

type viewRef struct {
	sku    uint32
	kind   viewKind
	summed bool   // the channel sums are in vals
	mask   uint64 // viewCells: channels whose delta was changed (bit i: channel i)
}

func (l *Ledger) beginViews(fx *Effects) {
	v := &l.views
	v.on = fx != nil
	v.stride = 2 * len(l.channels)
	clear(v.vals) // addRef relies on the capacity past len being zero
	v.refs, v.vals, v.last = v.refs[:0], v.vals[:0], 0
	if v.indexed {
		clear(v.index)
		v.indexed = false
	}
}

// find returns the ref of a tracked SKU or -1.
func (v *viewTracker) find(sku uint32) int {
	if v.indexed {
		if i, ok := v.index[sku]; ok {
			return int(i)
		}
		return -1
	}
	for i := len(v.refs) - 1; i >= 0; i-- {
		if v.refs[i].sku == sku {
			return i
		}
	}
	return -1
}

// addRef tracks a SKU that find did not return and returns its ref.
func (v *viewTracker) addRef(sku uint32, kind viewKind) int {
	i := len(v.refs)
	var r *viewRef
	v.refs, r = extend(v.refs)
	*r = viewRef{sku: sku, kind: kind}
	n := len(v.vals)
	if n+v.stride > cap(v.vals) {
		v.vals = slices.Grow(v.vals, v.stride) // zeroes past len: new or cleared
	}
	v.vals = v.vals[:n+v.stride]
	switch {
	case v.indexed:
		v.index[sku] = int32(i)
	case len(v.refs) > viewScanMax:
		if v.index == nil {
			v.index = make(map[uint32]int32)
		}
		for j, r := range v.refs {
			v.index[r.sku] = int32(j)
		}
		v.indexed = true
	}
	return i
}

// head returns ref i's deltas or before-quantities.
func (l *Ledger) head(i int) []int64 {
	v := &l.views
	return v.vals[i*v.stride : i*v.stride+len(l.channels)]
}

// refSums returns ref i's channel sums of availability (the quantities of
// a plain SKU), computing them once.
func (l *Ledger) refSums(i int) []int64 {
	v := &l.views
	nc := len(l.channels)
	sums := v.vals[i*v.stride+nc : (i+1)*v.stride]
	if !v.refs[i].summed {
		l.channelSums(v.refs[i].sku, sums)
		v.refs[i].summed = true
	}
	return sums
}

// channelSums sets sums[c] to the SKU's availability summed over channel
// c's warehouses.
func (l *Ledger) channelSums(sku uint32, sums []int64) {
	v := &l.views
	v.vec = slices.Grow(v.vec[:0], len(l.srcWhs))[:len(l.srcWhs)]
	l.readVector(sku, v.vec)
	for c := range l.channels {
		sums[c] = sumAt(v.vec, l.channels[c].srcIdx)
	}
}

// noteAvail records that a cell of the SKU in warehouse wh moved from
// availability a0 to a1 (as if the SKU were not deleted). Called by every
// change of free or held.
func (l *Ledger) noteAvail(sku uint32, wh uint16, a0, a1 int64) {
	v := &l.views
	if a0 == a1 || l.skus[sku].flags&(skuKit|skuDeleted) != 0 {
		// a kit's quantity comes from its components, not its own cells; a
		// deleted SKU's cells count as 0
		return
	}
	i := v.last
	if i >= len(v.refs) || v.refs[i].sku != sku {
		if i = v.find(sku); i < 0 {
			i = v.addRef(sku, viewCells)
			for _, kit := range l.kitsOfComp(sku) {
				if v.find(kit) < 0 {
					v.addRef(kit, viewKit)
				}
			}
		}
		v.last = i
	}
	r := &v.refs[i]
	if r.kind != viewCells {
		return // eager: compared in full at the end
	}
	chans := l.whChannels(wh)
	r.mask |= chans
	deltas := v.vals[i*v.stride:]
	for m := chans; m != 0; m &= m - 1 {
		deltas[bits.TrailingZeros64(m)] += a1 - a0
	}
}

// whChannels is the set of channels (bit i: channel i) that sell from wh.
func (l *Ledger) whChannels(wh uint16) uint64 {
	if int(wh) < len(l.whChans) {
		return l.whChans[wh]
	}
	return 0
}

// touchItem must be called before the SKU's kit composition or deleted
// flag change: it saves the quantities of the SKU and of the kits it is a
// component of.
func (l *Ledger) touchItem(sku uint32) {
	if !l.views.on {
		return
	}
	l.trackEager(sku)
	for _, kit := range l.kitsOfComp(sku) {
		l.trackEager(kit)
	}
}

func (l *Ledger) trackEager(sku uint32) {
	v := &l.views
	assert(v.find(sku) < 0, "item touched after its stock")
	i := v.addRef(sku, viewEager)
	v.qty = l.channelQtys(sku, v.qty[:0])
	copy(l.head(i), v.qty)
}

func (l *Ledger) endViews(fx *Effects) {
	v := &l.views
	if !v.on {
		return
	}
	v.on = false
	for i, r := range v.refs {
		switch r.kind {
		case viewCells:
			l.reportCells(fx, i)
		case viewKit:
			l.reportKit(fx, r.sku)
		case viewEager:
			before := l.head(i)
			v.qty = l.channelQtys(r.sku, v.qty[:0])
			for c, q := range v.qty {
				if q != before[c] {
					l.change(fx, r.sku, c, q)
				}
			}
		}
	}
}

func (l *Ledger) change(fx *Effects, sku uint32, c int, qty int64) {
	fx.addChange(l.skus[sku].name, l.channels[c].name, qty)
}

// reportCells reports the channels of a plain SKU (ref i) whose delta is
// not zero.
func (l *Ledger) reportCells(fx *Effects, i int) {
	r := &l.views.refs[i]
	deltas := l.head(i)
	var sums []int64
	for m := r.mask; m != 0; m &= m - 1 {
		c := bits.TrailingZeros64(m)
		if deltas[c] == 0 {
			continue
		}
		if sums == nil {
			sums = l.refSums(i)
		}
		l.change(fx, r.sku, c, sums[c])
	}
}

// reportKit compares a kit's quantities now with the ones its components'
// deltas give for before the command, in the channels where a component
// moved.
func (l *Ledger) reportKit(fx *Effects, kit uint32) {
	v := &l.views
	nc := len(l.channels)
	comps := l.kitComps(kit)
	v.compRefs = v.compRefs[:0]
	var mask uint64
	for _, comp := range comps {
		j := v.find(comp.sku)
		if j >= 0 {
			assert(v.refs[j].kind == viewCells, "kit component tracked eagerly without its kit")
			mask |= v.refs[j].mask
		}
		v.compRefs = append(v.compRefs, j)
	}
	if mask == 0 {
		return
	}
	v.qty, v.qtyB = slices.Grow(v.qty[:0], nc)[:nc], slices.Grow(v.qtyB[:0], nc)[:nc]
	before, after := v.qty, v.qtyB
	for i, comp := range comps {
		var sums, deltas []int64
		if j := v.compRefs[i]; j >= 0 {
			sums, deltas = l.refSums(j), l.head(j)
		} else {
			v.sums = slices.Grow(v.sums[:0], nc)[:nc]
			sums = v.sums
			l.channelSums(comp.sku, sums)
		}
		for m := mask; m != 0; m &= m - 1 {
			c := bits.TrailingZeros64(m)
			a := sums[c]
			b := a
			if deltas != nil {
				b -= deltas[c]
			}
			if comp.qty != 1 {
				a, b = a/comp.qty, b/comp.qty
			}
			if i == 0 || a < after[c] {
				after[c] = a
			}
			if i == 0 || b < before[c] {
				before[c] = b
			}
		}
	}
	for m := mask; m != 0; m &= m - 1 {
		if c := bits.TrailingZeros64(m); after[c] != before[c] {
			l.change(fx, kit, c, after[c])
		}
	}
}

// channelQtys appends the SKU's quantity in every channel, in channel order.
func (l *Ledger) channelQtys(sku uint32, dst []int64) []int64 {
	for c := range l.channels {
		dst = append(dst, l.channelQty(sku, &l.channels[c]))
	}
	return dst
}

// readVector reads the SKU's availability in every source warehouse
// (Ledger.srcWhs) into av.
func (l *Ledger) readVector(sku uint32, av []int64) {
	if l.skus[sku].flags&skuDeleted != 0 {
		clear(av)
		return
	}
	p, i := int(sku>>cellPageBits), sku&(cellPageSize-1)
	for k, wh := range l.srcWhs {
		a := int64(0)
		if pages := l.cols[wh]; p < len(pages) && pages[p] != nil {
			a = l.availIn(&pages[p][i], wh)
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
	for _, c := range l.kitComps(sku) {
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
	for _, c := range l.kitComps(sku) {
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
