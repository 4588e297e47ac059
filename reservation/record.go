package reservation

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// RecordKind says what a journal record did.
type RecordKind uint8

const (
	// RecordReserve: a hold was created, with its allocations.
	RecordReserve RecordKind = iota + 1
	// RecordConfirm: a hold was confirmed with a new expiry (0 = none).
	RecordConfirm
	// RecordRelease: a hold was released.
	RecordRelease
	// RecordExpire: a hold was expired at At by the engine's clock.
	RecordExpire
	// RecordHandoff: 1C took over a hold (exchange protocol).
	RecordHandoff
	// RecordEvent: a 1C event from Source was applied with Outcome.
	RecordEvent
	// RecordSkip: an undecodable event at Source was sent to the DLQ; only
	// the offset advances.
	RecordSkip
)

var recordKindNames = [...]string{"", "reserve", "confirm", "release", "expire", "handoff", "event", "skip"}

func (k RecordKind) String() string {
	if k != 0 && int(k) < len(recordKindNames) {
		return recordKindNames[k]
	}
	return fmt.Sprintf("RecordKind(%d)", uint8(k))
}

// Record is one journal record: every state change yields exactly one, and
// ApplyRecord replays it. Records are numbered by Seq without gaps. Fields
// not used by the Kind are zero.
type Record struct {
	Seq  uint64
	Kind RecordKind
	At   int64 // unix ns of the command's now; 0 for events

	HoldID      string
	Channel     string        // reserve
	Forced      bool          // reserve
	TTL         time.Duration // reserve (as requested), confirm
	ExpiresAt   int64         // reserve, confirm: unix ns, 0 = none
	Lines       []Line        // reserve
	Allocations []Allocation  // reserve

	Source  Source  // event, skip
	Outcome Outcome // event
	Event   Event   // event
}

// recordVersion is the first byte of every encoded record.
const recordVersion = 1

// Decoder bounds for records.
const (
	maxRecordAllocs = 1 << 20
	maxTime         = math.MaxInt64
)

// MarshalRecord encodes a record; see AppendRecord.
func MarshalRecord(r *Record) []byte { return AppendRecord(nil, r) }

// AppendRecord appends the compact binary encoding of r to dst: a version
// byte, the kind, varints and length-prefixed strings. It allocates nothing
// beyond growing dst. Framing and checksums are the journal's job.
func AppendRecord(dst []byte, r *Record) []byte {
	dst = append(dst, recordVersion, byte(r.Kind))
	dst = binary.AppendUvarint(dst, r.Seq)
	dst = binary.AppendVarint(dst, r.At)
	switch r.Kind {
	case RecordReserve:
		dst = appendReserve(dst, r)
	case RecordConfirm:
		dst = appendString(dst, r.HoldID)
		dst = binary.AppendVarint(dst, int64(r.TTL))
		dst = binary.AppendVarint(dst, r.ExpiresAt)
	case RecordRelease, RecordExpire, RecordHandoff:
		dst = appendString(dst, r.HoldID)
	case RecordEvent:
		dst = appendSource(dst, r.Source)
		dst = append(dst, byte(r.Outcome))
		dst = appendEvent(dst, &r.Event)
	case RecordSkip:
		dst = appendSource(dst, r.Source)
	}
	return dst
}

func appendReserve(dst []byte, r *Record) []byte {
	dst = appendString(dst, r.HoldID)
	dst = appendString(dst, r.Channel)
	dst = appendBool(dst, r.Forced)
	dst = binary.AppendVarint(dst, int64(r.TTL))
	dst = binary.AppendVarint(dst, r.ExpiresAt)
	dst = binary.AppendUvarint(dst, uint64(len(r.Lines)))
	for _, ln := range r.Lines {
		dst = appendString(dst, ln.SKU)
		dst = binary.AppendUvarint(dst, uint64(ln.Qty))
	}
	dst = binary.AppendUvarint(dst, uint64(len(r.Allocations)))
	for _, a := range r.Allocations {
		dst = binary.AppendUvarint(dst, uint64(a.Line))
		dst = appendString(dst, a.SKU)
		dst = appendString(dst, a.Warehouse)
		dst = binary.AppendUvarint(dst, uint64(a.Qty))
	}
	return dst
}

func appendSource(dst []byte, s Source) []byte {
	dst = appendString(dst, s.Topic)
	dst = binary.AppendVarint(dst, int64(s.Partition))
	return binary.AppendVarint(dst, s.Offset)
}

func appendEvent(dst []byte, e *Event) []byte {
	dst = binary.AppendUvarint(dst, uint64(e.V))
	dst = append(dst, byte(e.Type))
	dst = appendString(dst, e.ID)
	dst = appendString(dst, e.Source)
	dst = binary.AppendUvarint(dst, e.Seq)
	dst = binary.AppendVarint(dst, e.At.UnixNano())
	switch e.Type {
	case EventStockSet, EventStockAdjust:
		dst = appendString(dst, e.SKU)
		dst = appendString(dst, e.Warehouse)
		dst = binary.AppendVarint(dst, e.Qty+e.Delta) // one of them is set
		dst = appendBool(dst, e.Fractional)
		dst = appendStrings(dst, e.Handoff)
	case EventPriceSet:
		dst = appendString(dst, e.SKU)
		dst = appendString(dst, e.PriceType)
		dst = binary.AppendVarint(dst, e.Price.Units)
		dst = append(dst, e.Price.Scale)
		dst = appendString(dst, e.Currency)
	case EventItemUpsert:
		dst = appendString(dst, e.SKU)
		dst = appendString(dst, e.Article)
		dst = appendString(dst, e.Name)
		dst = appendStrings(dst, e.Barcodes)
		dst = binary.AppendUvarint(dst, uint64(len(e.Kit)))
		for _, c := range e.Kit {
			dst = appendString(dst, c.SKU)
			dst = binary.AppendUvarint(dst, uint64(c.Qty))
		}
	case EventItemDelete:
		dst = appendString(dst, e.SKU)
	case EventReservationHandoff:
		dst = appendString(dst, e.ReservationID)
		dst = appendString(dst, e.SKU)
	}
	return dst
}

// DecodeRecord decodes one record and validates it strictly: known version
// and kind, every length and count within the package limits, no trailing
// bytes, and events valid as in DecodeEvent. Errors are *RecordError and
// unwrap to ErrInvalidRecord.
func DecodeRecord(data []byte) (Record, error) {
	r := reader{buf: data, base: ErrInvalidRecord}
	var rec Record
	if v := r.byte("version"); r.err == nil && v != recordVersion {
		r.failf("version", "unsupported record version %d", v)
	}
	rec.Kind = RecordKind(r.byte("kind"))
	rec.Seq = r.uint("seq", 1, math.MaxUint64)
	rec.At = r.int("at", 0, maxTime)
	switch rec.Kind {
	case RecordReserve:
		decodeReserve(&r, &rec)
	case RecordConfirm:
		rec.HoldID = r.str("hold_id", 1, MaxIDBytes)
		rec.TTL = time.Duration(r.int("ttl", 0, maxTime))
		rec.ExpiresAt = r.int("expires_at", 0, maxTime)
	case RecordRelease, RecordExpire, RecordHandoff:
		rec.HoldID = r.str("hold_id", 1, MaxIDBytes)
	case RecordEvent:
		rec.Source = decodeSource(&r)
		rec.Outcome = Outcome(r.uint("outcome", uint64(OutcomeApplied), uint64(OutcomeRejected)))
		decodeEvent(&r, &rec.Event)
	case RecordSkip:
		rec.Source = decodeSource(&r)
	default:
		r.failf("kind", "unknown record kind %d", rec.Kind)
	}
	r.done("record")
	if r.err != nil {
		return Record{}, r.err
	}
	if rec.Kind == RecordEvent {
		if err := rec.Event.Validate(); err != nil {
			return Record{}, &RecordError{Offset: len(data), Field: "event", Reason: err.Error(), base: ErrInvalidRecord}
		}
	}
	return rec, nil
}

func decodeReserve(r *reader, rec *Record) {
	rec.HoldID = r.str("hold_id", 1, MaxIDBytes)
	rec.Channel = r.str("channel", 1, MaxIDBytes)
	rec.Forced = r.bool("forced")
	rec.TTL = time.Duration(r.int("ttl", 0, maxTime))
	rec.ExpiresAt = r.int("expires_at", 0, maxTime)
	n := r.count("lines", 65535, 3)
	for range n {
		sku := r.str("lines.sku", 1, MaxSKUBytes)
		rec.Lines = append(rec.Lines, Line{SKU: sku, Qty: int64(r.uint("lines.qty", 1, maxDemand))})
	}
	if r.err == nil && n == 0 {
		r.fail("lines", "a hold has at least one line")
	}
	n = r.count("allocations", maxRecordAllocs, 6)
	for range n {
		a := Allocation{Line: int(r.uint("allocations.line", 0, uint64(max(len(rec.Lines)-1, 0))))}
		a.SKU = r.str("allocations.sku", 1, MaxSKUBytes)
		a.Warehouse = r.str("allocations.warehouse", 1, MaxWarehouseBytes)
		a.Qty = int64(r.uint("allocations.qty", 1, maxDemand))
		rec.Allocations = append(rec.Allocations, a)
	}
	if r.err == nil && n == 0 {
		r.fail("allocations", "a hold has at least one allocation")
	}
}

func decodeSource(r *reader) Source {
	return Source{
		Topic:     r.str("source.topic", 0, MaxIDBytes),
		Partition: int32(r.int("source.partition", 0, math.MaxInt32)),
		Offset:    r.int("source.offset", 0, maxTime),
	}
}

func decodeEvent(r *reader, e *Event) {
	e.V = int(r.uint("event.v", EventSchemaVersion, EventSchemaVersion))
	e.Type = EventType(r.uint("event.type", uint64(EventStockSet), uint64(EventReservationHandoff)))
	e.ID = r.str("event.id", 1, MaxIDBytes)
	e.Source = r.str("event.source", 1, MaxIDBytes)
	e.Seq = r.uint("event.seq", 0, math.MaxInt64)
	e.At = time.Unix(0, r.int("event.at", 0, maxTime)).UTC()
	switch e.Type {
	case EventStockSet, EventStockAdjust:
		e.SKU = r.str("event.sku", 1, MaxSKUBytes)
		e.Warehouse = r.str("event.warehouse", 1, MaxWarehouseBytes)
		q := r.int("event.qty", -MaxEventQty, MaxEventQty)
		if e.Type == EventStockSet {
			e.Qty = q
		} else {
			e.Delta = q
		}
		e.Fractional = r.bool("event.fractional")
		e.Handoff = r.strings("event.handoff", MaxHandoffIDs, MaxIDBytes)
	case EventPriceSet:
		e.SKU = r.str("event.sku", 1, MaxSKUBytes)
		e.PriceType = r.str("event.price_type", 1, MaxIDBytes)
		e.Price.Units = r.int("event.price", 0, math.MaxInt64)
		e.Price.Scale = uint8(r.uint("event.price_scale", 0, MaxPriceScale))
		e.Currency = r.str("event.currency", 3, 3)
	case EventItemUpsert:
		decodeUpsert(r, e)
	case EventItemDelete:
		e.SKU = r.str("event.sku", 1, MaxSKUBytes)
	case EventReservationHandoff:
		e.ReservationID = r.str("event.reservation_id", 1, MaxIDBytes)
		e.SKU = r.str("event.sku", 0, MaxSKUBytes)
	}
}

func decodeUpsert(r *reader, e *Event) {
	e.SKU = r.str("event.sku", 1, MaxSKUBytes)
	e.Article = r.str("event.article", 0, MaxTextBytes)
	e.Name = r.str("event.name", 0, MaxTextBytes)
	e.Barcodes = r.strings("event.barcodes", MaxBarcodes, MaxIDBytes)
	n := r.count("event.kit", maxDecodedKit, 3)
	for range n {
		sku := r.str("event.kit.sku", 1, MaxSKUBytes)
		e.Kit = append(e.Kit, KitComponent{SKU: sku, Qty: int64(r.uint("event.kit.qty", 1, MaxKitComponentQty))})
	}
}
