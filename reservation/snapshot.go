package reservation

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"maps"
	"math"
	"slices"
)

// Snapshot layout (all varints, strings length-prefixed), deterministic for
// a given state: magic, version, seq, warehouses, SKUs in id order, kits,
// items, cells with stock per warehouse, price types, prices, active holds
// by id, closed holds oldest first, the adjust dedupe window oldest first,
// Kafka offsets by (topic, partition), then a CRC-32C of all of it. Held
// quantities, short SKUs, the expiry order and the reverse kit index are
// derived on Restore; channels and safety stock come from the Config.

const (
	snapshotMagic   = "STKLEDG"
	snapshotVersion = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Snapshot returns the full state as bytes; see AppendSnapshot.
func (l *Ledger) Snapshot() []byte { return l.AppendSnapshot(nil) }

// AppendSnapshot appends the full state to dst. The same state always gives
// the same bytes, so two ledgers can be compared by their snapshots. It
// carries Seq and the Kafka offsets: recovery is Restore, then ApplyRecord
// for every record after Seq, then consumption from Offsets.
func (l *Ledger) AppendSnapshot(dst []byte) []byte {
	start := len(dst)
	dst = append(dst, snapshotMagic...)
	dst = append(dst, snapshotVersion)
	dst = binary.AppendUvarint(dst, l.seq)
	dst = binary.AppendUvarint(dst, uint64(len(l.whs)))
	for _, w := range l.whs {
		dst = appendString(dst, w.name)
	}
	dst = binary.AppendUvarint(dst, uint64(len(l.skus)))
	for _, s := range l.skus {
		dst = appendString(dst, s.name)
		dst = appendBool(dst, s.flags&skuDeleted != 0)
	}
	dst = l.appendCatalog(dst)
	dst = l.appendCells(dst)
	dst = l.appendPrices(dst)
	dst = l.appendHolds(dst)
	dst = binary.AppendUvarint(dst, uint64(l.dedupe.len()))
	l.dedupe.each(func(id string) { dst = appendString(dst, id) })
	offsets := l.Offsets(nil)
	dst = binary.AppendUvarint(dst, uint64(len(offsets)))
	for _, o := range offsets {
		dst = appendSource(dst, o)
	}
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

func (l *Ledger) appendCatalog(dst []byte) []byte {
	kits := slices.Sorted(maps.Keys(l.kits))
	dst = binary.AppendUvarint(dst, uint64(len(kits)))
	for _, kit := range kits {
		dst = binary.AppendUvarint(dst, uint64(kit))
		dst = binary.AppendUvarint(dst, uint64(len(l.kits[kit])))
		for _, c := range l.kits[kit] {
			dst = binary.AppendUvarint(dst, uint64(c.sku))
			dst = binary.AppendUvarint(dst, uint64(c.qty))
		}
	}
	items := slices.Sorted(maps.Keys(l.items))
	dst = binary.AppendUvarint(dst, uint64(len(items)))
	for _, id := range items {
		a := l.items[id]
		dst = binary.AppendUvarint(dst, uint64(id))
		dst = appendString(dst, a.article)
		dst = appendString(dst, a.name)
		dst = appendStrings(dst, a.barcodes)
	}
	return dst
}

// appendCells writes, per warehouse, the cells that carry stock: SKU id
// delta, free, and the stamp of the applied stock.set.
func (l *Ledger) appendCells(dst []byte) []byte {
	for wh := range l.whs {
		var n uint64
		l.eachStockCell(uint16(wh), func(uint32, *cell) { n++ })
		dst = binary.AppendUvarint(dst, n)
		prev := uint32(0)
		l.eachStockCell(uint16(wh), func(sku uint32, c *cell) {
			dst = binary.AppendUvarint(dst, uint64(sku-prev))
			prev = sku
			dst = binary.AppendVarint(dst, c.free)
			dst = appendBool(dst, c.flags&cellStamped != 0)
			if c.flags&cellStamped != 0 {
				dst = binary.AppendVarint(dst, c.setAt)
				dst = binary.AppendUvarint(dst, c.setSeq)
			}
		})
	}
	return dst
}

func (l *Ledger) eachStockCell(wh uint16, fn func(uint32, *cell)) {
	for p, page := range l.cols[wh] {
		if page == nil {
			continue
		}
		for i := range page {
			if c := &page[i]; c.free != 0 || c.flags&cellStamped != 0 {
				fn(uint32(p<<cellPageBits|i), c)
			}
		}
	}
}

func (l *Ledger) appendPrices(dst []byte) []byte {
	dst = appendStrings(dst, l.priceTypes)
	keys := slices.SortedFunc(maps.Keys(l.prices), func(a, b priceKey) int {
		return cmp.Or(cmp.Compare(a.sku, b.sku), cmp.Compare(a.priceType, b.priceType))
	})
	dst = binary.AppendUvarint(dst, uint64(len(keys)))
	for _, k := range keys {
		p := l.prices[k]
		dst = binary.AppendUvarint(dst, uint64(k.sku))
		dst = binary.AppendUvarint(dst, uint64(k.priceType))
		dst = binary.AppendVarint(dst, p.Amount.Units)
		dst = append(dst, p.Amount.Scale)
		dst = appendString(dst, p.Currency)
	}
	return dst
}

func (l *Ledger) appendHolds(dst []byte) []byte {
	active := make([]*hold, 0, l.active)
	l.holds.each(func(h *hold) {
		if h.state.Active() {
			active = append(active, h)
		}
	})
	slices.SortFunc(active, func(a, b *hold) int { return cmp.Compare(a.idView(), b.idView()) })
	dst = binary.AppendUvarint(dst, uint64(len(active)))
	for _, h := range active {
		dst = l.appendHold(dst, h)
	}
	dst = binary.AppendUvarint(dst, uint64(l.holds.ringLen))
	l.holds.ringEach(func(h *hold) { dst = l.appendHold(dst, h) })
	return dst
}

func (l *Ledger) appendHold(dst []byte, h *hold) []byte {
	dst = appendString(dst, h.idView())
	dst = appendString(dst, l.channelOf(h))
	dst = append(dst, byte(h.state))
	dst = appendBool(dst, h.forced)
	dst = binary.AppendVarint(dst, h.ttl)
	dst = binary.AppendVarint(dst, h.createdAt)
	dst = binary.AppendVarint(dst, h.expiresAt)
	dst = binary.AppendUvarint(dst, h.seq)
	lines, allocs := l.holds.lines(h), l.holds.allocs(h)
	dst = binary.AppendUvarint(dst, uint64(len(lines)))
	for _, ln := range lines {
		dst = binary.AppendUvarint(dst, uint64(ln.sku))
		dst = binary.AppendUvarint(dst, uint64(ln.qty))
	}
	dst = binary.AppendUvarint(dst, uint64(len(allocs)))
	for _, a := range allocs {
		dst = binary.AppendUvarint(dst, uint64(a.line))
		dst = binary.AppendUvarint(dst, uint64(a.sku))
		dst = binary.AppendUvarint(dst, uint64(a.wh))
		dst = binary.AppendUvarint(dst, uint64(a.qty))
		dst = appendBool(dst, a.consumed)
	}
	return dst
}

// Restore rebuilds a ledger from a snapshot. cfg must give the same
// channels and safety stock as when the journal was written for channel
// quantities to match; warehouses and SKUs it names that the snapshot lacks
// are added after the snapshot's. Errors unwrap to ErrInvalidSnapshot.
func Restore(cfg Config, data []byte) (*Ledger, error) {
	l, err := newEmpty(cfg)
	if err != nil {
		return nil, err
	}
	if len(data) < len(snapshotMagic)+5 || string(data[:len(snapshotMagic)]) != snapshotMagic {
		return nil, &RecordError{Field: "magic", Reason: "not a ledger snapshot", base: ErrInvalidSnapshot}
	}
	body := data[:len(data)-4]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(data[len(data)-4:]) {
		return nil, &RecordError{Offset: len(body), Field: "crc", Reason: "checksum mismatch", base: ErrInvalidSnapshot}
	}
	r := &reader{buf: body, off: len(snapshotMagic), base: ErrInvalidSnapshot}
	l.replaying = true
	l.restore(r)
	r.done("snapshot")
	l.replaying = false
	if r.err != nil {
		return nil, r.err
	}
	l.applyConfig()
	return l, nil
}

func (l *Ledger) restore(r *reader) {
	if v := r.byte("version"); r.err == nil && v != snapshotVersion {
		r.failf("version", "unsupported snapshot version %d", v)
	}
	l.seq = r.uvarint("seq")
	for n := r.count("warehouses", 65535, 2); n > 0 && r.err == nil; n-- {
		l.restoreName(r, "warehouse", MaxWarehouseBytes, true)
	}
	for n := r.count("skus", math.MaxUint32-1, 3); n > 0 && r.err == nil; n-- {
		id := l.restoreName(r, "sku", MaxSKUBytes, false)
		if r.bool("sku.deleted") {
			l.skus[id].flags |= skuDeleted
		}
	}
	l.restoreCatalog(r)
	l.restoreCells(r)
	l.restorePrices(r)
	l.restoreHolds(r)
	for n := r.count("dedupe", math.MaxInt32, 2); n > 0 && r.err == nil; n-- {
		if id := r.str("dedupe.id", 1, MaxIDBytes); r.err == nil {
			if h, dup := l.dedupe.lookup(id); !dup {
				l.dedupe.insert(id, h)
			}
		}
	}
	for n := r.count("offsets", math.MaxInt32, 3); n > 0 && r.err == nil; n-- {
		l.noteOffset(decodeSource(r))
	}
}

// restoreName interns a warehouse or SKU name, refusing repeats.
func (l *Ledger) restoreName(r *reader, field string, maxLen int, isWarehouse bool) uint32 {
	name := r.str(field, 1, maxLen)
	if r.err != nil {
		return 0
	}
	if isWarehouse {
		if _, dup := l.whIDs[name]; dup {
			r.failf(field, "%q repeated", name)
		}
		return uint32(l.internWarehouse(name))
	}
	if _, dup := l.skuIDs[name]; dup {
		r.failf(field, "%q repeated", name)
	}
	return l.internSKU(name)
}

func (r *reader) skuID(l *Ledger, field string) uint32 {
	return uint32(r.uint(field, 0, uint64(max(len(l.skus)-1, 0))))
}

func (l *Ledger) restoreCatalog(r *reader) {
	for n := r.count("kits", len(l.skus), 3); n > 0 && r.err == nil; n-- {
		kit := r.skuID(l, "kit")
		var comps []kitComponent
		for m := r.count("kit.components", maxDecodedKit, 2); m > 0 && r.err == nil; m-- {
			c := kitComponent{sku: r.skuID(l, "kit.sku"), qty: int64(r.uint("kit.qty", 1, MaxKitComponentQty))}
			comps = append(comps, c)
		}
		if r.err == nil && (len(comps) == 0 || l.kits[kit] != nil) {
			r.fail("kit", "empty or repeated kit")
		}
		if r.err == nil {
			l.setKit(kit, comps)
		}
	}
	for kit, comps := range l.kits {
		for _, c := range comps {
			if c.sku == kit || l.skus[c.sku].flags&skuKit != 0 {
				r.fail("kit", "nested or self-containing kit")
			}
		}
	}
	for n := r.count("items", len(l.skus), 4); n > 0 && r.err == nil; n-- {
		id := r.skuID(l, "item")
		a := &itemAttrs{article: r.str("item.article", 0, MaxTextBytes), name: r.str("item.name", 0, MaxTextBytes)}
		a.barcodes = r.strings("item.barcodes", MaxBarcodes, MaxIDBytes)
		l.items[id] = a
	}
}

func (l *Ledger) restoreCells(r *reader) {
	for wh := range l.whs {
		sku := uint64(0)
		for n := r.count("cells", len(l.skus), 3); n > 0 && r.err == nil; n-- {
			sku += r.uvarint("cell.sku")
			if r.err == nil && sku >= uint64(len(l.skus)) {
				r.failf("cell.sku", "id %d out of range", sku)
				return
			}
			c := l.cellFor(uint32(sku), uint16(wh))
			l.setFree(uint32(sku), uint16(wh), c, r.int("cell.free", -maxFree, maxFree))
			if r.bool("cell.stamped") {
				c.flags |= cellStamped
				c.setAt, c.setSeq = r.varint("cell.set_at"), r.uvarint("cell.set_seq")
			}
		}
	}
}

func (l *Ledger) restorePrices(r *reader) {
	for _, name := range r.strings("price_types", 65535, MaxIDBytes) {
		if _, dup := l.priceTypeIDs[name]; dup {
			r.failf("price_types", "%q repeated", name)
		}
		l.internPriceType(name)
	}
	for n := r.count("prices", math.MaxInt32, 6); n > 0 && r.err == nil; n-- {
		k := priceKey{sku: r.skuID(l, "price.sku")}
		k.priceType = uint16(r.uint("price.type", 0, uint64(max(len(l.priceTypes)-1, 0))))
		p := Price{Amount: Decimal{Units: r.int("price.units", 0, math.MaxInt64)}}
		p.Amount.Scale = uint8(r.uint("price.scale", 0, MaxPriceScale))
		p.Currency = r.str("price.currency", 3, 3)
		l.prices[k] = p
	}
}

func (l *Ledger) restoreHolds(r *reader) {
	for n := r.count("holds", math.MaxInt32, 12); n > 0 && r.err == nil; n-- {
		h := l.restoreHold(r)
		if r.err == nil && !h.state.Active() {
			r.fail("hold.state", "closed hold among active holds")
		}
		if r.err == nil {
			l.installHold(h, l.holds.hash(h.idView()))
		}
	}
	for n := r.count("retained", math.MaxInt32, 12); n > 0 && r.err == nil; n-- {
		h := l.restoreHold(r)
		if r.err == nil && h.state.Active() {
			r.fail("hold.state", "active hold among closed holds")
		}
		if r.err == nil {
			l.holds.put(h, l.holds.hash(h.idView()))
			l.holds.retire(h)
		}
	}
}

func (l *Ledger) restoreHold(r *reader) *hold {
	h := l.newHold()
	h.setID(r.str("hold.id", 1, MaxIDBytes))
	if ch, ok := l.holdChannel(r.str("hold.channel", 1, MaxIDBytes)); ok {
		h.channel = ch
	} else {
		r.fail("hold.channel", fmt.Sprintf("more than %d distinct hold channels", maxHoldChannels))
	}
	h.state = HoldState(r.uint8("hold.state", uint8(HoldHeld), uint8(HoldExpired)))
	h.forced = r.bool("hold.forced")
	h.ttl, h.createdAt = r.int("hold.ttl", 0, maxTime), r.varint("hold.created_at")
	h.expiresAt, h.seq = r.int("hold.expires_at", 0, maxTime), r.uvarint("hold.seq")
	for n := r.count("hold.lines", 65535, 2); n > 0 && r.err == nil; n-- {
		l.holds.addLine(h, holdLine{sku: r.skuID(l, "hold.line.sku"), qty: int64(r.uint("hold.line.qty", 1, maxDemand))})
	}
	for n := r.count("hold.allocs", maxRecordAllocs, 5); n > 0 && r.err == nil; n-- {
		a := holdAlloc{line: uint16(r.uint("hold.alloc.line", 0, uint64(max(len(l.holds.lines(h))-1, 0))))}
		a.sku = r.skuID(l, "hold.alloc.sku")
		a.wh = uint16(r.uint("hold.alloc.wh", 0, uint64(max(len(l.whs)-1, 0))))
		a.qty = int64(r.uint("hold.alloc.qty", 1, maxDemand))
		a.consumed = r.bool("hold.alloc.consumed")
		l.holds.addAllocs(h, a)
	}
	if r.err == nil && (len(l.holds.lines(h)) == 0 || len(l.holds.allocs(h)) == 0) {
		r.fail("hold", "hold without lines or allocations")
	}
	if r.err == nil && h.state.Active() && !slices.ContainsFunc(l.holds.allocs(h), func(a holdAlloc) bool { return !a.consumed }) {
		r.fail("hold", "active hold with nothing left to hold")
	}
	if r.err == nil && h.state == HoldHeld && h.expiresAt == 0 {
		r.fail("hold.expires_at", "a held hold must expire")
	}
	if _, dup := l.holds.get(h.idView()); r.err == nil && dup {
		r.failf("hold.id", "%q repeated", h.idView())
	}
	return h
}

func (r *reader) uint8(field string, lo, hi uint8) uint8 {
	b := r.byte(field)
	if r.err == nil && (b < lo || b > hi) {
		r.failf(field, "%d out of range [%d, %d]", b, lo, hi)
	}
	return b
}
