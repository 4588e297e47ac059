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
