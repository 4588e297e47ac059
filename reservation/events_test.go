package reservation

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

const head = `"v":1,"id":"3f0c","source":"ut11-main","seq":1042,"at":"2026-11-21T10:00:00+03:00"`

func TestDecodeEventValid(t *testing.T) {
	at := time.Date(2026, 11, 21, 7, 0, 0, 0, time.UTC)
	base := Event{V: 1, ID: "3f0c", Source: "ut11-main", Seq: 1042, At: at}
	with := func(f func(*Event)) Event { e := base; f(&e); return e }
	tests := []struct {
		body string
		want Event
	}{
		{`{` + head + `,"type":"stock.set","sku":"8f1c#a2c4","warehouse":"wh-msk","qty":12}`,
			with(func(e *Event) { e.Type, e.SKU, e.Warehouse, e.Qty = EventStockSet, "8f1c#a2c4", "wh-msk", 12 })},
		{`{` + head + `,"type":"stock.set","sku":"s","warehouse":"w","qty":12.75,"handoff":["o1","o2"]}`,
			with(func(e *Event) {
				e.Type, e.SKU, e.Warehouse, e.Qty, e.Fractional, e.Handoff = EventStockSet, "s", "w", 12, true, []string{"o1", "o2"}
			})},
		{`{` + head + `,"type":"stock.adjust","sku":"s","warehouse":"w","delta":-1.5}`,
			with(func(e *Event) {
				e.Type, e.SKU, e.Warehouse, e.Delta, e.Fractional = EventStockAdjust, "s", "w", -2, true
			})},
		{`{` + head + `,"type":"price.set","sku":"s","price_type":"retail","price":"1234.50","currency":"RUB"}`,
			with(func(e *Event) {
				e.Type, e.SKU, e.PriceType, e.Price, e.Currency = EventPriceSet, "s", "retail", Decimal{123450, 2}, "RUB"
			})},
		{`{` + head + `,"type":"item.upsert","sku":"k","article":"A-1","name":"Набор","barcodes":["460"],"kit":[{"sku":"a","qty":2}]}`,
			with(func(e *Event) {
				e.Type, e.SKU, e.Article, e.Name, e.Barcodes = EventItemUpsert, "k", "A-1", "Набор", []string{"460"}
				e.Kit = []KitComponent{{SKU: "a", Qty: 2}}
			})},
		{`{` + head + `,"type":"item.delete","sku":"s"}`, with(func(e *Event) { e.Type, e.SKU = EventItemDelete, "s" })},
		{`{` + head + `,"type":"reservation.handoff","reservation_id":"o1"}`,
			with(func(e *Event) { e.Type, e.ReservationID = EventReservationHandoff, "o1" })},
	}
	for _, tt := range tests {
		got, err := DecodeEvent([]byte(tt.body))
		if err != nil {
			t.Errorf("%s: %v", tt.body, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\ngot  %+v\nwant %+v", tt.body, got, tt.want)
		}
		enc, err := EncodeEvent(&got)
		if err != nil {
			t.Errorf("encode: %v", err)
			continue
		}
		back, err := DecodeEvent(enc)
		got.Fractional = false
		if err != nil || !reflect.DeepEqual(back, got) {
			t.Errorf("round trip %s: %+v, %v", enc, back, err)
		}
	}
}

func TestDecodeEventInvalid(t *testing.T) {
	long := strings.Repeat("x", MaxSKUBytes+1)
	tests := []struct{ body, field string }{
		{`not json`, ""},
		{`{` + head + `,"type":"stock.set","sku":"s","warehouse":"w","qty":1} {}`, ""},
		{`{` + head + `,"type":"stock.set","sku":"s","warehouse":"w","qty":1,"color":"red"}`, ""},
		{`{"id":"x","source":"s","seq":1,"at":"2026-11-21T10:00:00Z","type":"item.delete","sku":"s"}`, "v"},
		{`{` + strings.Replace(head, `"v":1`, `"v":2`, 1) + `,"type":"item.delete","sku":"s"}`, "v"},
		{`{` + head + `,"type":"stock.move","sku":"s"}`, "type"},
		{`{` + head + `,"type":"stock.set","sku":"s","warehouse":"w"}`, "qty"},
		{`{` + head + `,"type":"stock.set","sku":"s","qty":1}`, "warehouse"},
		{`{` + head + `,"type":"stock.set","sku":"` + long + `","warehouse":"w","qty":1}`, "sku"},
		{`{` + head + `,"type":"stock.set","sku":"s","warehouse":"w","qty":1e3}`, "qty"},
		{`{` + head + `,"type":"stock.set","sku":"s","warehouse":"w","qty":"1"}`, "qty"},
		{`{` + head + `,"type":"stock.set","sku":"s","warehouse":"w","qty":10000000000000}`, "qty"},
		{`{` + head + `,"type":"stock.set","sku":"s","warehouse":"w","qty":1,"delta":1}`, "delta"},
		{`{` + head + `,"type":"stock.adjust","sku":"s","warehouse":"w","qty":1}`, "delta"},
		{`{` + head + `,"type":"price.set","sku":"s","price_type":"r","price":1234.5,"currency":"RUB"}`, "price"},
		{`{` + head + `,"type":"price.set","sku":"s","price_type":"r","price":"12,5","currency":"RUB"}`, "price"},
		{`{` + head + `,"type":"price.set","sku":"s","price_type":"r","price":"-1","currency":"RUB"}`, "price"},
		{`{` + head + `,"type":"price.set","sku":"s","price_type":"r","price":"1","currency":"rub"}`, "currency"},
		{`{` + head + `,"type":"item.upsert","sku":"k","kit":[{"sku":"k","qty":1}]}`, "kit.sku"},
		{`{` + head + `,"type":"item.upsert","sku":"k","kit":[{"sku":"a","qty":0}]}`, "kit.qty"},
		{`{` + head + `,"type":"reservation.handoff"}`, "reservation_id"},
		{`{"v":1,"id":"x","source":"s","seq":1,"at":"21.11.2026","type":"item.delete","sku":"s"}`, "at"},
		{`{"v":1,"id":"x","source":"s","at":"2026-11-21T10:00:00Z","type":"item.delete","sku":"s"}`, "seq"},
		{`{"v":1,"source":"s","seq":1,"at":"2026-11-21T10:00:00Z","type":"item.delete","sku":"s"}`, "id"},
	}
	for _, tt := range tests {
		_, err := DecodeEvent([]byte(tt.body))
		var ee *EventError
		if !errors.As(err, &ee) || !errors.Is(err, ErrInvalidEvent) {
			t.Errorf("%s: err = %v, want EventError", tt.body, err)
			continue
		}
		if tt.field != "" && ee.Field != tt.field {
			t.Errorf("%s: field = %q (%v), want %q", tt.body, ee.Field, err, tt.field)
		}
	}
}

func TestDecodeReserveRequest(t *testing.T) {
	got, err := DecodeReserveRequest([]byte(`{"id":"o1","channel":"site","lines":[{"sku":"a","qty":2},{"sku":"b#c","qty":1}],"ttl_seconds":600}`))
	want := ReserveRequest{ID: "o1", Channel: "site", Lines: []Line{{SKU: "a", Qty: 2}, {SKU: "b#c", Qty: 1}}, TTL: 10 * time.Minute}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, %v", got, err)
	}
	for _, body := range []string{
		`{"id":"o1","channel":"site","lines":[{"sku":"a","qty":2}],"force":true}`,
		`{"id":"o1","channel":"site","lines":[{"sku":"a","qty":2,"price":1}]}`,
		`{"id":"o1","channel":"site","lines":[]}`,
		`{"id":"o1","channel":"site"}`,
		`{"channel":"site","lines":[{"sku":"a","qty":2}]}`,
		`{"id":"o1","lines":[{"sku":"a","qty":2}]}`,
		`{"id":"o1","channel":"site","lines":[{"sku":"a","qty":0}]}`,
		`{"id":"o1","channel":"site","lines":[{"sku":"a","qty":1.5}]}`,
		`{"id":"o1","channel":"site","lines":[{"sku":"a"}]}`,
		`{"id":"o1","channel":"site","lines":[{"qty":1}]}`,
		`{"id":"o1","channel":"site","lines":[{"sku":"a","qty":1}],"ttl_seconds":-1}`,
		`{"id":"o1","channel":"site","lines":[{"sku":"a","qty":1}]}x`,
	} {
		if _, err := DecodeReserveRequest([]byte(body)); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("%s: err = %v, want invalid request", body, err)
		}
	}
}

func TestDecimal(t *testing.T) {
	for _, s := range []string{"0", "1234.50", "0.005", "-3.1", "999999999999999999", "0.000000001"} {
		d, err := ParseDecimal(s)
		if err != nil || d.String() != s {
			t.Errorf("%s: %v %v", s, d, err)
		}
	}
	for _, s := range []string{"", "-", ".5", "5.", "1e3", "+1", "1.0000000001", "9999999999999999999", "1,5"} {
		if _, err := ParseDecimal(s); err == nil {
			t.Errorf("%s: no error", s)
		}
	}
}

// TestCheckNotAhead: an event may be dated up to maxAhead after now, not
// later.
func TestCheckNotAhead(t *testing.T) {
	now := time.Date(2026, 12, 8, 10, 0, 0, 0, time.UTC)
	for at, ok := range map[time.Time]bool{
		now.Add(-48 * time.Hour):             true,
		now:                                  true,
		now.Add(time.Hour):                   true,
		now.Add(time.Hour + time.Nanosecond): false,
		now.AddDate(36, 0, 0):                false,
	} {
		ev := Event{At: at}
		err := ev.CheckNotAhead(now, time.Hour)
		var ee *EventError
		switch {
		case ok && err != nil:
			t.Errorf("at %v: %v, want accepted", at, err)
		case !ok && (!errors.As(err, &ee) || ee.Field != "at" || !errors.Is(err, ErrInvalidEvent)):
			t.Errorf("at %v: %v, want an invalid event on field at", at, err)
		}
	}
}
