package reservation

import (
	"fmt"
	"slices"
)

// kitComponent is qty units of sku per kit.
type kitComponent struct {
	sku uint32
	qty int64
}

// itemAttrs are the catalog attributes of an item.upsert.
type itemAttrs struct {
	article  string
	name     string
	barcodes []string
}

// Item is the catalog view of a SKU.
type Item struct {
	SKU      string
	Article  string
	Name     string
	Barcodes []string
	Kit      []KitComponent // empty: not a kit
	Deleted  bool
}

// Item returns what the ledger knows of a SKU's catalog entry.
func (l *Ledger) Item(sku string) (Item, bool) {
	id, ok := l.skuIDs[sku]
	if !ok {
		return Item{}, false
	}
	it := Item{SKU: sku, Deleted: l.skus[id].flags&skuDeleted != 0}
	if a := l.items[id]; a != nil {
		it.Article, it.Name, it.Barcodes = a.article, a.name, slices.Clone(a.barcodes)
	}
	for _, c := range l.kits[id] {
		it.Kit = append(it.Kit, KitComponent{SKU: l.skus[c.sku].name, Qty: c.qty})
	}
	return it, true
}

// mergedKit sums repeated components, keeping the order of first mention.
func mergedKit(kit []KitComponent) []KitComponent {
	out := make([]KitComponent, 0, len(kit))
	for _, c := range kit {
		if i := slices.IndexFunc(out, func(o KitComponent) bool { return o.SKU == c.SKU }); i >= 0 {
			out[i].Qty += c.Qty
			continue
		}
		out = append(out, c)
	}
	return out
}

// checkUpsert rejects an item.upsert that would break the kit rules, before
// anything changes: no nested kits, limits on components and on kits per
// component, room for new SKUs.
func (l *Ledger) checkUpsert(sku string, kit []KitComponent) error {
	id, known := l.skuIDs[sku]
	unknown := 0
	if !known {
		unknown++
	}
	if len(kit) > 0 && known && l.skus[id].flags&skuComponent != 0 {
		return eventErr("kit", fmt.Sprintf("%q is a component of another kit; kits do not nest", sku))
	}
	if !l.replaying && len(kit) > l.lim.MaxKitComponents {
		return limitErr("MaxKitComponents", int64(l.lim.MaxKitComponents), int64(len(kit)), sku)
	}
	for _, c := range kit {
		if c.Qty > MaxKitComponentQty {
			return eventErr("kit.qty", fmt.Sprintf("%q: more than %d units", c.SKU, MaxKitComponentQty))
		}
		cid, ok := l.skuIDs[c.SKU]
		if !ok {
			unknown++
			continue
		}
		if l.skus[cid].flags&skuKit != 0 {
			return eventErr("kit.sku", fmt.Sprintf("component %q is itself a kit; kits do not nest", c.SKU))
		}
		if !l.replaying && len(l.kitsOf[cid]) >= l.lim.MaxKitsPerComponent && !(known && slices.Contains(l.kitsOf[cid], id)) {
			return limitErr("MaxKitsPerComponent", int64(l.lim.MaxKitsPerComponent), int64(len(l.kitsOf[cid])+1), c.SKU)
		}
	}
	return l.roomForSKUs(unknown, sku)
}

// upsertItem applies a checked item.upsert.
func (l *Ledger) upsertItem(ev *Event, kit []KitComponent) {
	id := l.internSKU(ev.SKU)
	comps := make([]kitComponent, 0, len(kit))
	for _, c := range kit {
		comps = append(comps, kitComponent{sku: l.internSKU(c.SKU), qty: c.Qty})
	}
	l.touchItem(id)
	l.skus[id].flags &^= skuDeleted
	if ev.Article != "" || ev.Name != "" || len(ev.Barcodes) > 0 {
		l.items[id] = &itemAttrs{article: ev.Article, name: ev.Name, barcodes: slices.Clone(ev.Barcodes)}
	} else {
		delete(l.items, id)
	}
	l.setKit(id, comps)
}

// deleteItem withdraws a SKU: every channel sees 0, its kit composition is
// dropped. Stock figures and holds stay.
func (l *Ledger) deleteItem(id uint32) {
	l.touchItem(id)
	l.skus[id].flags |= skuDeleted
	delete(l.items, id)
	l.setKit(id, nil)
}

// setKit replaces a kit's composition and keeps the reverse index
// (component → kits, sorted by kit id so it is the same after Restore).
func (l *Ledger) setKit(kit uint32, comps []kitComponent) {
	old := l.kits[kit]
	defer func() {
		l.syncLink(kit)
		for _, c := range old {
			l.syncLink(c.sku)
		}
		for _, c := range comps {
			l.syncLink(c.sku)
		}
	}()
	for _, c := range old {
		kits := l.kitsOf[c.sku]
		if i, ok := slices.BinarySearch(kits, kit); ok {
			kits = slices.Delete(kits, i, i+1)
		}
		if len(kits) == 0 {
			delete(l.kitsOf, c.sku)
			l.skus[c.sku].flags &^= skuComponent
			continue
		}
		l.kitsOf[c.sku] = kits
	}
	if len(comps) == 0 {
		delete(l.kits, kit)
		l.skus[kit].flags &^= skuKit
		return
	}
	l.kits[kit] = comps
	l.skus[kit].flags |= skuKit
	for _, c := range comps {
		kits := l.kitsOf[c.sku]
		if i, ok := slices.BinarySearch(kits, kit); !ok {
			kits = slices.Insert(kits, i, kit)
		}
		l.kitsOf[c.sku] = kits
		l.skus[c.sku].flags |= skuComponent
	}
}

// skuLink is what a kit or a component has beyond a plain SKU: the kit's
// components or the kits a component belongs to (never both once a command
// is checked). It mirrors Ledger.kits and Ledger.kitsOf and is found by
// index from skuInfo.link, so hot paths do not hash.
type skuLink struct {
	comps []kitComponent
	kits  []uint32
}

// syncLink copies the SKU's entries of Ledger.kits and Ledger.kitsOf into
// its link, allocating or freeing the link.
func (l *Ledger) syncLink(sku uint32) {
	s := &l.skus[sku]
	comps, kits := l.kits[sku], l.kitsOf[sku]
	if len(comps) == 0 && len(kits) == 0 {
		if s.link != 0 {
			l.links[s.link-1] = skuLink{}
			l.freeLinks = append(l.freeLinks, s.link)
			s.link = 0
		}
		return
	}
	if s.link == 0 {
		if n := len(l.freeLinks); n > 0 {
			s.link = l.freeLinks[n-1]
			l.freeLinks = l.freeLinks[:n-1]
		} else {
			l.links = append(l.links, skuLink{})
			s.link = uint32(len(l.links))
		}
	}
	l.links[s.link-1] = skuLink{comps: comps, kits: kits}
}

// kitComps returns the components of a kit (nil for any other SKU).
func (l *Ledger) kitComps(sku uint32) []kitComponent {
	if k := l.skus[sku].link; k != 0 {
		return l.links[k-1].comps
	}
	return nil
}

// kitsOfComp returns the kits a component belongs to, sorted by id (nil
// for any other SKU).
func (l *Ledger) kitsOfComp(sku uint32) []uint32 {
	if k := l.skus[sku].link; k != 0 {
		return l.links[k-1].kits
	}
	return nil
}
