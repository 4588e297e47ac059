package reservation

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// eventJSON mirrors the wire form; pointers and raw numbers tell a missing
// field from a zero one and keep numbers exact.
type eventJSON struct {
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
	Kit           *[]kitJSON      `json:"kit"`
	ReservationID *string         `json:"reservation_id"`
}

type kitJSON struct {
	SKU *string         `json:"sku"`
	Qty json.RawMessage `json:"qty"`
}

// DecodeEvent decodes and validates one event: schema version 1, known
// type, the fields its type requires and no others, SKU ≤ 80 bytes,
// quantities within ±MaxEventQty (a fraction is floored and Fractional
// set), prices as decimal strings, `at` in RFC 3339 (kept in UTC). Unknown
// fields are rejected. Errors unwrap to ErrInvalidEvent and name the field.
func DecodeEvent(data []byte) (Event, error) {
	var raw eventJSON
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

// decodeStrict decodes exactly one JSON value with no unknown fields.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

func isAbsent(raw json.RawMessage) bool { return len(raw) == 0 || string(raw) == "null" }

func (r *eventJSON) present() fieldMask {
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

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func nonEmpty[T any](s *[]T) []T {
	if s == nil || len(*s) == 0 {
		return nil
	}
	return *s
}

func (r *eventJSON) fill(ev *Event) error {
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

func (r *eventJSON) fillNumbers(ev *Event) error {
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

func (r *eventJSON) fillKit(ev *Event) error {
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

// parseUint reads a JSON integer in [0, maxValue].
func parseUint(raw json.RawMessage, maxValue uint64) (uint64, error) {
	s := string(raw)
	if s == "" || !allDigits(s) {
		return 0, fmt.Errorf("must be a non-negative integer, got %.40s", s)
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v > maxValue {
		return 0, fmt.Errorf("must be at most %d, got %.40s", maxValue, s)
	}
	return v, nil
}

// parseQty reads a JSON number [-]digits[.digits] within ±MaxEventQty and
// floors it; fractional reports a floored fraction.
func parseQty(raw json.RawMessage) (qty int64, fractional bool, err error) {
	s := string(raw)
	neg := strings.HasPrefix(s, "-")
	intPart, frac, hasPoint := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	if intPart == "" || !allDigits(intPart) || !allDigits(frac) || (hasPoint && frac == "") {
		return 0, false, fmt.Errorf("must be a plain decimal number, got %.40s", s)
	}
	if len(strings.TrimLeft(intPart, "0")) > 13 {
		return 0, false, fmt.Errorf("out of range ±%d", int64(MaxEventQty))
	}
	v, _ := strconv.ParseInt("0"+intPart, 10, 64)
	fractional = strings.Trim(frac, "0") != ""
	if neg {
		v = -v
		if fractional {
			v--
		}
	}
	if v < -MaxEventQty || v > MaxEventQty {
		return 0, false, fmt.Errorf("out of range ±%d", int64(MaxEventQty))
	}
	return v, fractional, nil
}

// eventOut is the canonical wire form EncodeEvent writes.
type eventOut struct {
	V             int      `json:"v"`
	ID            string   `json:"id"`
	Source        string   `json:"source"`
	Seq           uint64   `json:"seq"`
	At            string   `json:"at"`
	Type          string   `json:"type"`
	SKU           string   `json:"sku,omitempty"`
	Warehouse     string   `json:"warehouse,omitempty"`
	Qty           *int64   `json:"qty,omitempty"`
	Delta         *int64   `json:"delta,omitempty"`
	Handoff       []string `json:"handoff,omitempty"`
	PriceType     string   `json:"price_type,omitempty"`
	Price         string   `json:"price,omitempty"`
	Currency      string   `json:"currency,omitempty"`
	Article       string   `json:"article,omitempty"`
	Name          string   `json:"name,omitempty"`
	Barcodes      []string `json:"barcodes,omitempty"`
	Kit           []kitOut `json:"kit,omitempty"`
	ReservationID string   `json:"reservation_id,omitempty"`
}

type kitOut struct {
	SKU string `json:"sku"`
	Qty int64  `json:"qty"`
}

// EncodeEvent validates the event and writes its JSON form, which
// DecodeEvent reads back to an equal Event (Fractional is not carried: the
// quantity is already floored).
func EncodeEvent(ev *Event) ([]byte, error) {
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	out := eventOut{
		V: ev.V, ID: ev.ID, Source: ev.Source, Seq: ev.Seq, At: ev.At.UTC().Format(time.RFC3339Nano),
		Type: ev.Type.String(), SKU: ev.SKU, Warehouse: ev.Warehouse, Handoff: ev.Handoff,
		PriceType: ev.PriceType, Currency: ev.Currency, Article: ev.Article, Name: ev.Name,
		Barcodes: ev.Barcodes, ReservationID: ev.ReservationID,
	}
	switch ev.Type {
	case EventStockSet:
		out.Qty = &ev.Qty
	case EventStockAdjust:
		out.Delta = &ev.Delta
	case EventPriceSet:
		out.Price = ev.Price.String()
	}
	for _, c := range ev.Kit {
		out.Kit = append(out.Kit, kitOut(c))
	}
	return json.Marshal(out)
}
