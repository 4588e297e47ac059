package reservation

import (
	"fmt"
	"slices"
)

// checkInvariants recomputes everything the ledger keeps incrementally and
// compares: held per cell, short SKUs, holds per SKU, the expiry heap, the
// active count, the hold index and the reverse kit index.
func (l *Ledger) checkInvariants() error {
	held := map[[2]uint32]int64{}
	holdsPerSKU := map[uint32]int32{}
	active, withExpiry, total := 0, 0, 0
	var runs spillRuns
	var err error
	l.holds.each(func(h *hold) {
		total++
		if !h.state.Active() {
			return
		}
		active++
		if h.expiresAt != 0 {
			withExpiry++
			if h.heapIdx < 0 || int(h.heapIdx) >= len(l.expiry) || l.expiry[h.heapIdx] != h {
				err = fmt.Errorf("hold %s missing from the expiry heap", h.idView())
			}
		}
		if e := l.checkSpill(h, &runs); e != nil {
			err = e
		}
		if int(h.channel) >= len(l.holdChans) {
			err = fmt.Errorf("hold %s: channel index %d of %d", h.idView(), h.channel, len(l.holdChans))
		}
		allocs := l.holds.allocs(h)
		for i, a := range allocs {
			if !a.consumed {
				held[[2]uint32{a.sku, uint32(a.wh)}] += a.qty
				if firstOfSKU(allocs, i) {
					holdsPerSKU[a.sku]++
				}
			}
		}
	})
	if err == nil {
		err = runs.disjoint()
	}
	if err != nil {
		return err
	}
	if active != l.active || withExpiry != len(l.expiry) || total != l.holds.len() || total-active != int(l.holds.ringLen) {
		return fmt.Errorf("counts: active %d/%d, expiry %d/%d, index %d/%d, retained %d/%d",
			active, l.active, withExpiry, len(l.expiry), total, l.holds.len(), total-active, l.holds.ringLen)
	}
	for i := 1; i < len(l.expiry); i++ {
		if expiresBefore(l.expiry[i], l.expiry[(i-1)/2]) || l.expiry[i].heapIdx != int32(i) {
			return fmt.Errorf("expiry heap broken at %d", i)
		}
	}
	if err := l.checkCells(held); err != nil {
		return err
	}
	for id := range l.skus {
		if got, want := l.skus[id].holds, holdsPerSKU[uint32(id)]; got != want {
			return fmt.Errorf("sku %s: holds %d, recomputed %d", l.skus[id].name, got, want)
		}
	}
	return l.checkKitIndex()
}

// spillRuns are the runs of active holds in each arena.
type spillRuns [2][]spillRunOf

type spillRunOf struct {
	r  run
	id string
}

// checkSpill checks where an active hold's lines and allocations are:
// inline, or in runs that fit their class and lie inside the arena, noted
// in runs for disjoint.
func (l *Ledger) checkSpill(h *hold, runs *spillRuns) error {
	if !h.spilled {
		if m := *l.holds.moreOf(h); h.nLines == 0 || h.nAllocs == 0 || m != (spillRef{}) {
			return fmt.Errorf("hold %s: %d inline lines, %d inline allocations, runs %+v", h.idView(), h.nLines, h.nAllocs, m)
		}
		return nil
	}
	if h.nLines != 0 || h.nAllocs != 0 {
		return fmt.Errorf("hold %s: spilled with %d inline lines, %d inline allocations", h.idView(), h.nLines, h.nAllocs)
	}
	inside := [2]func(run) bool{l.holds.spills.lines.holds, l.holds.spills.allocs.holds}
	m := l.holds.moreOf(h)
	for kind, r := range [2]run{m.lines, m.allocs} {
		if r.n == 0 || uint64(r.n) > 1<<r.class || !inside[kind](r) {
			return fmt.Errorf("hold %s: run %+v is not inside arena %d", h.idView(), r, kind)
		}
		runs[kind] = append(runs[kind], spillRunOf{r, h.idView()})
	}
	return nil
}

// disjoint reports two holds whose runs overlap.
func (runs *spillRuns) disjoint() error {
	for kind, rs := range runs {
		slices.SortFunc(rs, func(a, b spillRunOf) int { return int(a.r.off) - int(b.r.off) })
		for i := 1; i < len(rs); i++ {
			if prev := rs[i-1]; uint64(prev.r.off)+1<<prev.r.class > uint64(rs[i].r.off) {
				return fmt.Errorf("holds %s and %s overlap in arena %d: %+v, %+v", prev.id, rs[i].id, kind, prev.r, rs[i].r)
			}
		}
	}
	return nil
}

func (l *Ledger) checkCells(held map[[2]uint32]int64) error {
	for wh := range l.whs {
		for p, page := range l.cols[wh] {
			for i := range page {
				if page == nil {
					break
				}
				sku := uint32(p<<cellPageBits | i)
				if c := &page[i]; c.flags&cellOwnSafety == 0 && int64(c.safety) != l.whs[wh].safety {
					return fmt.Errorf("cell %d/%s: safety %d, warehouse's %d", sku, l.whs[wh].name, c.safety, l.whs[wh].safety)
				}
				if c := &page[i]; c.held != held[[2]uint32{sku, uint32(wh)}] {
					return fmt.Errorf("cell %s/%s: held %d, holds say %d", l.skus[sku].name, l.whs[wh].name, c.held, held[[2]uint32{sku, uint32(wh)}])
				}
				delete(held, [2]uint32{sku, uint32(wh)})
			}
		}
	}
	for k, v := range held {
		if v != 0 {
			return fmt.Errorf("held %d on a cell that does not exist: %v", v, k)
		}
	}
	for id := range l.skus {
		short := 0
		for wh := range l.whs {
			if c := l.cellAt(uint32(id), uint16(wh)); c != nil && c.free < c.held {
				short++
			}
		}
		_, listed := l.short[uint32(id)]
		if short != int(l.skus[id].shortCells) || listed != (short > 0) {
			return fmt.Errorf("sku %s: short cells %d, counted %d, listed %v", l.skus[id].name, short, l.skus[id].shortCells, listed)
		}
	}
	return nil
}

func (l *Ledger) checkKitIndex() error {
	want := map[uint32][]uint32{}
	for kit, comps := range l.kits {
		if l.skus[kit].flags&skuKit == 0 {
			return fmt.Errorf("kit %s not flagged", l.skus[kit].name)
		}
		for _, c := range comps {
			if !slices.Contains(want[c.sku], kit) {
				want[c.sku] = append(want[c.sku], kit)
			}
		}
	}
	for c := range want {
		slices.Sort(want[c])
		if !slices.Equal(want[c], l.kitsOf[c]) || l.skus[c].flags&skuComponent == 0 {
			return fmt.Errorf("reverse index of %s: %v, want %v", l.skus[c].name, l.kitsOf[c], want[c])
		}
	}
	if len(want) != len(l.kitsOf) {
		return fmt.Errorf("reverse index has %d components, want %d", len(l.kitsOf), len(want))
	}
	for id := range l.skus {
		sku := uint32(id)
		if !slices.Equal(l.kitComps(sku), l.kits[sku]) || !slices.Equal(l.kitsOfComp(sku), l.kitsOf[sku]) {
			return fmt.Errorf("sku %s: link %d does not mirror the kit maps", l.skus[id].name, l.skus[id].link)
		}
	}
	return nil
}
