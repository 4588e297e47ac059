package reservation

import (
	"encoding/json"
	"fmt"
	"time"
)

// eventJSONRef mirrors the wire form; pointers and raw numbers tell a missing
// field from a zero one and keep numbers exact.
type eventJSONRef struct {
	V             json.RawMessage `json:"v"`
	ID            *string         `json:"id"`
	Source        *string         `json:"source"`
	Seq           json.RawMessage `json:"seq"`
	At            *string         `json:"at"`
	Type          *string         `json:"type"`
	SKU           *string         `json:"sku"`
	Warehouse     *string         `json:"warehouse"`
	Qty           json.RawMessage `json:"qty"`
	Delta         json.RawMessage `json:"delta"`
	Handoff       *[]string       `json:"handoff"`
	PriceType     *string         `json:"price_type"`
	Price         json.RawMessage `json:"price"`
	Currency      *string         `json:"currency"`
	Article       *string         `json:"article"`
	Name          *string         `json:"name"`
	Barcodes      *[]string       `json:"barcodes"`
	Kit           *[]kitJSONRef   `json:"kit"`
	ReservationID *string         `json:"reservation_id"`
}

type kitJSONRef struct {
	SKU *string         `json:"sku"`
	Qty json.RawMessage `json:"qty"`
}

// decodeEventReference is DecodeEvent as it was written on encoding/json,
// kept as the reference the hand-written decoder is compared with. It
// decodes and validates one event: schema version 1, known
// type, the fields its type requires and no others, SKU ≤ 80 bytes,
// quantities within ±MaxEventQty (a fraction is floored and Fractional
// set), prices as decimal strings, `at` in RFC 3339 (kept in UTC). Unknown
// fields are rejected. Errors unwrap to ErrInvalidEvent and name the field.
func decodeEventReference(data []byte) (Event, error) {
	var raw eventJSONRef
	if err := decodeStrict(data, &raw); err != nil {
		return Event{}, eventErr("", err.Error())
	}
	if isAbsent(raw.V) {
		return Event{}, eventErr("v", "required")
	}
	v, err := parseUint(raw.V, 1<<20)
	if err != nil {
		return Event{}, eventErr("v", err.Error())
	}
	if raw.Type == nil {
		return Event{}, eventErr("type", "required")
	}
	t, ok := ParseEventType(*raw.Type)
	if !ok {
		return Event{}, eventErr("type", fmt.Sprintf("unknown type %q", *raw.Type))
	}
	if err := checkFields(t, raw.present(), false); err != nil {
		return Event{}, err
	}
	ev := Event{V: int(v), Type: t}
	if err := raw.fill(&ev); err != nil {
		return Event{}, err
	}
	if err := ev.checkValues(); err != nil {
		return Event{}, err
	}
	return ev, nil
}

func (r *eventJSONRef) present() fieldMask {
	var m fieldMask
	for _, f := range []struct {
		bit fieldMask
		on  bool
	}{
		{fSKU, r.SKU != nil}, {fWarehouse, r.Warehouse != nil}, {fQty, !isAbsent(r.Qty)},
		{fDelta, !isAbsent(r.Delta)}, {fHandoff, r.Handoff != nil}, {fPriceType, r.PriceType != nil},
		{fPrice, !isAbsent(r.Price)}, {fCurrency, r.Currency != nil}, {fArticle, r.Article != nil},
		{fName, r.Name != nil}, {fBarcodes, r.Barcodes != nil}, {fKit, r.Kit != nil},
		{fReservationID, r.ReservationID != nil},
	} {
		if f.on {
			m |= f.bit
		}
	}
	return m
}

func (r *eventJSONRef) fill(ev *Event) error {
	ev.ID, ev.Source = deref(r.ID), deref(r.Source)
	ev.SKU, ev.Warehouse = deref(r.SKU), deref(r.Warehouse)
	ev.PriceType, ev.Currency = deref(r.PriceType), deref(r.Currency)
	ev.Article, ev.Name, ev.ReservationID = deref(r.Article), deref(r.Name), deref(r.ReservationID)
	ev.Handoff, ev.Barcodes = nonEmpty(r.Handoff), nonEmpty(r.Barcodes)
	if isAbsent(r.Seq) {
		return eventErr("seq", "required")
	}
	seq, err := parseUint(r.Seq, 1<<63-1)
	if err != nil {
		return eventErr("seq", err.Error())
	}
	ev.Seq = seq
	if r.At == nil {
		return eventErr("at", "required (RFC 3339)")
	}
	at, err := time.Parse(time.RFC3339Nano, *r.At)
	if err != nil {
		return eventErr("at", "not RFC 3339: "+*r.At)
	}
	ev.At = at.UTC()
	if err := r.fillNumbers(ev); err != nil {
		return err
	}
	return r.fillKit(ev)
}

func (r *eventJSONRef) fillNumbers(ev *Event) error {
	var fracQty, fracDelta bool
	var err error
	if !isAbsent(r.Qty) {
		if ev.Qty, fracQty, err = parseQty(r.Qty); err != nil {
			return eventErr("qty", err.Error())
		}
	}
	if !isAbsent(r.Delta) {
		if ev.Delta, fracDelta, err = parseQty(r.Delta); err != nil {
			return eventErr("delta", err.Error())
		}
	}
	ev.Fractional = fracQty || fracDelta
	if !isAbsent(r.Price) {
		var s string
		if json.Unmarshal(r.Price, &s) != nil {
			return eventErr("price", "must be a decimal string like \"1234.50\"")
		}
		if ev.Price, err = ParseDecimal(s); err != nil {
			return eventErr("price", err.Error())
		}
	}
	return nil
}

func (r *eventJSONRef) fillKit(ev *Event) error {
	for i, c := range nonEmpty(r.Kit) {
		field := fmt.Sprintf("kit[%d]", i)
		if c.SKU == nil || isAbsent(c.Qty) {
			return eventErr(field, "sku and qty are required")
		}
		q, err := parseUint(c.Qty, MaxKitComponentQty)
		if err != nil {
			return eventErr(field+".qty", err.Error())
		}
		ev.Kit = append(ev.Kit, KitComponent{SKU: *c.SKU, Qty: int64(q)})
	}
	return nil
}
