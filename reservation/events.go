package reservation

import (
	"fmt"
	"math"
	"math/bits"
	"time"
)

// Event times must fit in int64 unix nanoseconds.
var (
	minEventTime = time.Unix(0, 0)
	maxEventTime = time.Unix(0, math.MaxInt64)
)

// EventSchemaVersion is the only `v` DecodeEvent accepts.
const EventSchemaVersion = 1

// EventType is the `type` of a 1C event.
type EventType uint8

const (
	// EventStockSet: absolute free stock of (sku, warehouse) as of `at`.
	EventStockSet EventType = iota + 1
	// EventStockAdjust: relative change from one document line, applied once per id.
	EventStockAdjust
	// EventPriceSet: absolute price of one price type.
	EventPriceSet
	// EventItemUpsert: catalog attributes and kit composition.
	EventItemUpsert
	// EventItemDelete: item withdrawn, every channel gets 0.
	EventItemDelete
	// EventReservationHandoff: 1C has taken over a hold's stock.
	EventReservationHandoff
)

var eventTypeNames = [...]string{"", "stock.set", "stock.adjust", "price.set", "item.upsert", "item.delete", "reservation.handoff"}

func (t EventType) String() string {
	if t != 0 && int(t) < len(eventTypeNames) {
		return eventTypeNames[t]
	}
	return fmt.Sprintf("EventType(%d)", uint8(t))
}

// ParseEventType reads a `type` value.
func ParseEventType(s string) (EventType, bool) {
	for i := 1; i < len(eventTypeNames); i++ {
		if eventTypeNames[i] == s {
			return EventType(i), true
		}
	}
	return 0, false
}

// Event is one 1C event (topic onec.events). Only the fields of its Type
// are set; Validate enforces that.
type Event struct {
	V      int    // schema version, EventSchemaVersion
	ID     string // unique per event; stock.adjust is applied once per ID
	Source string // the 1C base that sent it
	Seq    uint64 // increases per Source
	At     time.Time
	Type   EventType

	SKU       string
	Warehouse string
	Qty       int64 // stock.set, floored
	Delta     int64 // stock.adjust, floored
	// Fractional: qty or delta had a fraction that was floored.
	Fractional bool
	// Handoff names the holds a stock figure already accounts for.
	Handoff []string

	PriceType string
	Price     Decimal
	Currency  string

	Article  string
	Name     string
	Barcodes []string
	Kit      []KitComponent

	ReservationID string
}

// KitComponent is one component of a kit: Qty units of SKU per kit.
type KitComponent struct {
	SKU string
	Qty int64
}

// fieldMask names the type-specific fields of an Event.
type fieldMask uint16

const (
	fSKU fieldMask = 1 << iota
	fWarehouse
	fQty
	fDelta
	fHandoff
	fPriceType
	fPrice
	fCurrency
	fArticle
	fName
	fBarcodes
	fKit
	fReservationID
	fieldCount = iota
)

var fieldNames = [fieldCount]string{"sku", "warehouse", "qty", "delta", "handoff", "price_type", "price",
	"currency", "article", "name", "barcodes", "kit", "reservation_id"}

// eventFields: required and allowed fields per type (the Events table).
var eventFields = [...]struct{ required, allowed fieldMask }{
	EventStockSet:           {fSKU | fWarehouse | fQty, fSKU | fWarehouse | fQty | fHandoff},
	EventStockAdjust:        {fSKU | fWarehouse | fDelta, fSKU | fWarehouse | fDelta | fHandoff},
	EventPriceSet:           {fSKU | fPriceType | fPrice | fCurrency, fSKU | fPriceType | fPrice | fCurrency},
	EventItemUpsert:         {fSKU, fSKU | fArticle | fName | fBarcodes | fKit},
	EventItemDelete:         {fSKU, fSKU},
	EventReservationHandoff: {fReservationID, fReservationID | fSKU},
}

// setFields is the mask of type-specific fields with a non-zero value.
func (e *Event) setFields() fieldMask {
	var m fieldMask
	set := func(f fieldMask, on bool) {
		if on {
			m |= f
		}
	}
	set(fSKU, e.SKU != "")
	set(fWarehouse, e.Warehouse != "")
	set(fQty, e.Qty != 0)
	set(fDelta, e.Delta != 0)
	set(fHandoff, len(e.Handoff) > 0)
	set(fPriceType, e.PriceType != "")
	set(fPrice, e.Price != Decimal{})
	set(fCurrency, e.Currency != "")
	set(fArticle, e.Article != "")
	set(fName, e.Name != "")
	set(fBarcodes, len(e.Barcodes) > 0)
	set(fKit, len(e.Kit) > 0)
	set(fReservationID, e.ReservationID != "")
	return m
}

// checkFields reports a missing required field or a field the type does
// not allow. numbersOptional: a zero number cannot be told from a missing
// one in a typed Event, so qty/delta/price are not required there.
func checkFields(t EventType, present fieldMask, numbersOptional bool) error {
	spec := eventFields[t]
	required := spec.required
	if numbersOptional {
		required &^= fQty | fDelta | fPrice
	}
	// the lowest field first, as a loop over the fields would find it
	if missing := required &^ present; missing != 0 {
		return eventErr(fieldNames[bits.TrailingZeros16(uint16(missing))], fmt.Sprintf("required for %v", t))
	}
	if extra := present &^ spec.allowed; extra != 0 {
		return eventErr(fieldNames[bits.TrailingZeros16(uint16(extra))], fmt.Sprintf("not allowed for %v", t))
	}
	return nil
}

// CheckNotAhead refuses an event dated more than maxAhead after now (the
// reader's clock). Figures are ordered by `at`, so one event dated in the
// future (a mistyped year) would make every later figure of its cell look
// stale until that date. It is a check at intake (Kafka, POST /v1/events),
// not part of Validate: it depends on the clock, and replaying the journal
// must decide as the first time did.
func (e *Event) CheckNotAhead(now time.Time, maxAhead time.Duration) error {
	if limit := now.Add(maxAhead); e.At.After(limit) {
		return eventErr("at", fmt.Sprintf("%s is more than %v after this server's clock (%s): a figure dated in the future would make every later one look stale",
			e.At.UTC().Format(time.RFC3339), maxAhead, now.UTC().Format(time.RFC3339)))
	}
	return nil
}

// Validate checks an Event built in code the way DecodeEvent checks JSON.
func (e *Event) Validate() error {
	if e.Type == 0 || int(e.Type) >= len(eventTypeNames) {
		return eventErr("type", "unknown")
	}
	if err := checkFields(e.Type, e.setFields(), true); err != nil {
		return err
	}
	return e.checkValues()
}

func (e *Event) checkValues() error {
	if e.V != EventSchemaVersion {
		return eventErr("v", fmt.Sprintf("schema version %d is not supported (want %d)", e.V, EventSchemaVersion))
	}
	if err := checkText("id", e.ID, MaxIDBytes, true); err != nil {
		return err
	}
	if err := checkText("source", e.Source, MaxIDBytes, true); err != nil {
		return err
	}
	if e.At.IsZero() {
		return eventErr("at", "required (RFC 3339)")
	}
	if e.At.Before(minEventTime) || e.At.After(maxEventTime) {
		return eventErr("at", "outside 1970..2262")
	}
	if err := e.checkStock(); err != nil {
		return err
	}
	if err := e.checkPrice(); err != nil {
		return err
	}
	if err := e.checkItem(); err != nil {
		return err
	}
	return checkText("reservation_id", e.ReservationID, MaxIDBytes, e.Type == EventReservationHandoff)
}

// checkText is small enough to inline: an event has a dozen texts to
// check, nearly always fine.
func checkText(field, v string, maxBytes int, required bool) error {
	if len(v) > maxBytes || required && v == "" {
		return textErr(field, v, maxBytes)
	}
	return nil
}

func textErr(field, v string, maxBytes int) error {
	if v == "" {
		return eventErr(field, "required")
	}
	return eventErr(field, fmt.Sprintf("longer than %d bytes", maxBytes))
}

func (e *Event) checkStock() error {
	needsSKU := e.Type != EventReservationHandoff
	if err := checkText("sku", e.SKU, MaxSKUBytes, needsSKU); err != nil {
		return err
	}
	stock := e.Type == EventStockSet || e.Type == EventStockAdjust
	if err := checkText("warehouse", e.Warehouse, MaxWarehouseBytes, stock); err != nil {
		return err
	}
	if e.Qty < -MaxEventQty || e.Qty > MaxEventQty {
		return eventErr("qty", fmt.Sprintf("out of range ±%d", int64(MaxEventQty)))
	}
	if e.Delta < -MaxEventQty || e.Delta > MaxEventQty {
		return eventErr("delta", fmt.Sprintf("out of range ±%d", int64(MaxEventQty)))
	}
	if e.Fractional && !stock {
		return eventErr("qty", "fractional flag on a non-stock event")
	}
	if len(e.Handoff) > MaxHandoffIDs {
		return eventErr("handoff", fmt.Sprintf("more than %d ids", MaxHandoffIDs))
	}
	for _, id := range e.Handoff {
		if err := checkText("handoff", id, MaxIDBytes, true); err != nil {
			return err
		}
	}
	return nil
}

func (e *Event) checkPrice() error {
	if e.Type != EventPriceSet {
		return nil
	}
	if err := checkText("price_type", e.PriceType, MaxIDBytes, true); err != nil {
		return err
	}
	if !e.Price.valid() {
		return eventErr("price", "must be a non-negative decimal with at most 18 digits, 9 after the point")
	}
	if !validCurrency(e.Currency) {
		return eventErr("currency", "must be three capital letters (ISO 4217)")
	}
	return nil
}

func (e *Event) checkItem() error {
	if err := checkText("article", e.Article, MaxTextBytes, false); err != nil {
		return err
	}
	if err := checkText("name", e.Name, MaxTextBytes, false); err != nil {
		return err
	}
	if len(e.Barcodes) > MaxBarcodes {
		return eventErr("barcodes", fmt.Sprintf("more than %d", MaxBarcodes))
	}
	for _, b := range e.Barcodes {
		if err := checkText("barcodes", b, MaxIDBytes, true); err != nil {
			return err
		}
	}
	if len(e.Kit) > maxDecodedKit {
		return eventErr("kit", fmt.Sprintf("more than %d components", maxDecodedKit))
	}
	for _, c := range e.Kit {
		if err := checkText("kit.sku", c.SKU, MaxSKUBytes, true); err != nil {
			return err
		}
		if c.SKU == e.SKU {
			return eventErr("kit.sku", "a kit cannot contain itself")
		}
		if c.Qty < 1 || c.Qty > MaxKitComponentQty {
			return eventErr("kit.qty", fmt.Sprintf("must be 1..%d", MaxKitComponentQty))
		}
	}
	return nil
}

// maxDecodedKit bounds the components a decoded kit may list before the
// ledger applies MaxKitComponents.
const maxDecodedKit = 4096
