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
// allocation slices. Only an event record has a non-zero Event, so the
// large Event is cleared only when the slot held one.
func (fx *Effects) next() *Record {
	n := len(fx.Records)
	if n == cap(fx.Records) {
		fx.Records = append(fx.Records, Record{})
		return &fx.Records[n]
	}
	fx.Records = fx.Records[:n+1]
	r := &fx.Records[n]
	lines, allocs := r.Lines[:0], r.Allocations[:0]
	if r.Kind == RecordEvent {
		*r = Record{Lines: lines, Allocations: allocs}
		return r
	}
	r.HoldID, r.Channel, r.Forced, r.TTL, r.ExpiresAt = "", "", false, 0, 0
	r.Lines, r.Allocations, r.Source, r.Outcome = lines, allocs, Source{}, 0
	return r
}

// extend returns s one element longer and a pointer to the new element,
// which may hold an old value. Setting a struct with pointers field by field
// through it is several times faster than appending a composite literal,
// which goes through a temporary and a typed copy.
func extend[T any](s []T) ([]T, *T) {
	n := len(s)
	if n == cap(s) {
		var zero T
		s = append(s, zero)
	} else {
		s = s[:n+1]
	}
	return s, &s[n]
}

// addChange appends a channel change.
func (fx *Effects) addChange(sku, channel string, qty int64) {
	var c *ChannelChange
	fx.Changes, c = extend(fx.Changes)
	c.SKU, c.Channel, c.Qty = sku, channel, qty
}

// record numbers and appends a record.
func (l *Ledger) record(fx *Effects, kind RecordKind, at int64, holdID string) *Record {
	assert(fx != nil, "command without Effects")
	l.seq++
	r := fx.next()
	r.Seq, r.Kind, r.At, r.HoldID = l.seq, kind, at, holdID
	return r
}

func (l *Ledger) recordReserve(h *hold, id string, fx *Effects) {
	r := l.record(fx, RecordReserve, h.createdAt, id)
	assert(r.Seq == h.seq, "hold seq")
	r.Channel, r.Forced, r.TTL, r.ExpiresAt = l.channelOf(h), h.forced, durationOf(h.ttl), h.expiresAt
	for _, ln := range l.holds.lines(h) {
		var dst *Line
		r.Lines, dst = extend(r.Lines)
		dst.SKU, dst.Qty = l.skus[ln.sku].name, ln.qty
	}
	for _, a := range l.holds.allocs(h) {
		var dst *Allocation
		r.Allocations, dst = extend(r.Allocations)
		dst.Line, dst.SKU, dst.Warehouse, dst.Qty, dst.HandedOff = int(a.line), l.skus[a.sku].name, l.whs[a.wh].name, a.qty, false
	}
}
