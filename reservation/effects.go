package reservation

// Effects collects what commands changed, in order: journal records to
// write before acknowledging, and the channel quantities and prices the
// feeds must push. One Effects is reused across commands; call Reset after
// the records are written. Its slices may be shared with the commands'
// inputs (event slices) and are valid until Reset. Across several commands
// Changes may name a (SKU, channel) more than once; the last entry holds
// the current quantity.
type Effects struct {
	Records []Record
	Changes []ChannelChange
	Prices  []PriceChange
}

// ChannelChange says that a SKU's quantity in a channel changed (kits
// included): Qty is the new channel quantity.
type ChannelChange struct {
	SKU     string
	Channel string
	Qty     int64
}

// PriceChange says that a SKU's price of one price type changed.
type PriceChange struct {
	SKU       string
	PriceType string
	Price     Price
}

// Reset empties the Effects, keeping its memory.
func (fx *Effects) Reset() {
	fx.Records = fx.Records[:0]
	fx.Changes = fx.Changes[:0]
	fx.Prices = fx.Prices[:0]
}

// next returns a cleared record slot, reusing the slot's line and
// allocation slices.
func (fx *Effects) next() *Record {
	n := len(fx.Records)
	if n == cap(fx.Records) {
		fx.Records = append(fx.Records, Record{})
		return &fx.Records[n]
	}
	fx.Records = fx.Records[:n+1]
	r := &fx.Records[n]
	lines, allocs := r.Lines[:0], r.Allocations[:0]
	*r = Record{Lines: lines, Allocations: allocs}
	return r
}

// record numbers and appends a record.
func (l *Ledger) record(fx *Effects, kind RecordKind, at int64, holdID string) *Record {
	assert(fx != nil, "command without Effects")
	l.seq++
	r := fx.next()
	r.Seq, r.Kind, r.At, r.HoldID = l.seq, kind, at, holdID
	return r
}

func (l *Ledger) recordReserve(h *hold, fx *Effects) {
	r := l.record(fx, RecordReserve, h.createdAt, h.id)
	assert(r.Seq == h.seq, "hold seq")
	r.Channel, r.Forced, r.TTL, r.ExpiresAt = h.channel, h.forced, durationOf(h.ttl), h.expiresAt
	for _, ln := range h.lines {
		r.Lines = append(r.Lines, Line{SKU: l.skus[ln.sku].name, Qty: ln.qty})
	}
	for _, a := range h.allocs {
		r.Allocations = append(r.Allocations, Allocation{
			Line: int(a.line), SKU: l.skus[a.sku].name, Warehouse: l.whs[a.wh].name, Qty: a.qty,
		})
	}
}
