package ozon

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"stockd/adapters/marketsim"
)

func fuzzClient(tb testing.TB) *Client {
	tb.Helper()
	c, err := New(Options{BaseURL: "http://x", ClientID: "1", APIKey: "k",
		HTTP: &http.Client{Timeout: time.Second}, Now: func() time.Time { return time.Unix(1e9, 0) },
		OrderWindowBack: time.Hour, OrderWindowAhead: time.Hour, StockCooldown: StockCooldown})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// FuzzDecodeStocksResponse feeds arbitrary replies to the per-item result
// matching: every item must end with a status, in input order.
func FuzzDecodeStocksResponse(f *testing.F) {
	f.Add([]byte(`{"result":[{"warehouse_id":1,"offer_id":"A","updated":true,"errors":[]}]}`))
	f.Add([]byte(`{"result":[{"warehouse_id":1,"offer_id":"A","updated":false,"errors":[{"code":"TOO_MANY_REQUESTS","message":"x"}]},{"warehouse_id":1,"offer_id":"A"}]}`))
	f.Add([]byte(`{"result":null}`))
	f.Add([]byte(`[]`))
	c := fuzzClient(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		var resp stocksResponse
		if json.Unmarshal(raw, &resp) != nil {
			return
		}
		sent := []stockItem{{OfferID: "A", WarehouseID: 1}, {OfferID: "A", WarehouseID: 1}, {OfferID: "B", WarehouseID: 2}}
		results := make([]marketsim.ItemResult, len(sent))
		c.applyStockResults(results, []int{0, 1, 2}, sent, resp.Result)
		for i, r := range results {
			if r.Status == 0 {
				t.Fatalf("item %d has no status after %s", i, raw)
			}
			if r.Status == marketsim.ItemOK && r.Code != "" {
				t.Fatalf("item %d ok with code %q", i, r.Code)
			}
		}
	})
}

// FuzzDecodeError feeds arbitrary error replies to the error parser.
func FuzzDecodeError(f *testing.F) {
	f.Add(429, []byte(`{"code":8,"message":"You have reached request rate limit per second","details":[]}`), "3")
	f.Add(500, []byte(`<html>`), "Wed, 21 Oct 2015 07:28:00 GMT")
	f.Add(400, []byte(`{"code":"3"}`), "")
	c := fuzzClient(f)
	f.Fuzz(func(t *testing.T, status int, raw []byte, retry string) {
		if status < 100 || status > 999 {
			return
		}
		resp := &http.Response{StatusCode: status, Header: http.Header{"Retry-After": {retry}}}
		e := c.statusError("POST /x", resp, raw)
		if e.StatusCode != status || e.Err == nil || e.RetryAfter < 0 || len(e.Message) > 4096 {
			t.Fatalf("bad error %#v", e)
		}
		if status >= 500 && !e.Retriable {
			t.Fatalf("5xx not retriable: %#v", e)
		}
	})
}

// FuzzDecodePostings feeds arbitrary order lists to the order mapping.
func FuzzDecodePostings(f *testing.F) {
	f.Add([]byte(`{"has_next":false,"cursor":"","postings":[{"posting_number":"1-1-1","status":"awaiting_packaging","delivery_method":{"warehouse_id":5},"in_process_at":"2026-05-04T06:44:37Z","products":[{"offer_id":"A","quantity":1}]}]}`))
	f.Add([]byte(`{"postings":[{"in_process_at":null,"products":null}]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var resp unfulfilledResponse
		if json.Unmarshal(raw, &resp) != nil {
			return
		}
		for _, p := range resp.Postings {
			o := p.order()
			if o.State == 0 || len(o.Lines) != len(p.Products) {
				t.Fatalf("bad order %+v from %s", o, raw)
			}
		}
	})
}
