package yandexmarket

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"stockd/adapters/marketsim"
)

// FuzzDecodeError feeds arbitrary error replies and retry headers to the
// parser.
func FuzzDecodeError(f *testing.F) {
	f.Add(420, []byte(`{"status":"ERROR","errors":[{"code":"LIMIT_EXCEEDED","message":"Hit rate limit of 4 parallel requests"}]}`), "", "Sun, 09 Sep 2001 01:47:00 GMT")
	f.Add(400, []byte(`{"status":"ERROR","errors":[]}`), "3", "")
	f.Add(503, []byte(`<html>`), "x", "02 Jan 06 15:04 MST")
	c, err := New(Options{BaseURL: "http://x", APIKey: "k", BusinessID: 1, CampaignID: 2, StockMethod: StockByCampaign,
		MaxInFlight: 1, HTTP: &http.Client{Timeout: time.Second}, Now: func() time.Time { return time.Unix(1e9, 0) }})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, status int, raw []byte, retry, until string) {
		if status < 100 || status > 999 {
			return
		}
		h := http.Header{}
		h.Set("Retry-After", retry)
		h.Set("X-RateLimit-Resource-Until", until)
		e := c.statusError("PUT /v2/campaigns/2/offers/stocks", &http.Response{StatusCode: status, Header: h}, raw)
		if e.StatusCode != status || e.Err == nil || e.RetryAfter < 0 || e.RetryAfter > 24*time.Hour {
			t.Fatalf("bad error %#v", e)
		}
		if status == 420 && !e.Retriable {
			t.Fatal("420 not retriable")
		}
	})
}

// FuzzDecodeOrders feeds arbitrary order lists to the order mapping.
func FuzzDecodeOrders(f *testing.F) {
	f.Add([]byte(`{"orders":[{"id":1,"status":"PROCESSING","substatus":"STARTED","creationDate":"23-09-2022 09:12:41","items":[{"offerId":"A","count":2,"partnerWarehouseId":"7"}]}],"paging":{}}`))
	f.Add([]byte(`{"orders":[{"items":null,"creationDate":7}]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var resp ordersResponse
		if json.Unmarshal(raw, &resp) != nil {
			return
		}
		for _, o := range resp.Orders {
			m := o.order("2")
			if m.State == 0 || len(m.Lines) != len(o.Items) || m.WarehouseID == "" {
				t.Fatalf("bad order %+v", m)
			}
		}
	})
}

// FuzzDecodeStocksRead feeds arbitrary stock reads to the level picker:
// only wanted offers come out.
func FuzzDecodeStocksRead(f *testing.F) {
	f.Add([]byte(`{"status":"OK","result":{"paging":{},"warehouses":[{"warehouseId":1,"offers":[{"offerId":"A","stocks":[{"type":"AVAILABLE","count":1},{"type":"FREEZE","count":2}]}]}]}}`))
	f.Add([]byte(`{"result":{"warehouses":[{"offers":[{"offerId":"B","stocks":[{"type":"FIT","count":-3}]}]}]}}`))
	want := map[marketsim.StockKey]bool{{OfferID: "A"}: true, {OfferID: "B", WarehouseID: "0"}: true}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var resp stocksReadResponse
		if json.Unmarshal(raw, &resp) != nil {
			return
		}
		for _, l := range levelsOf(&resp, want) {
			if l.OfferID != "A" && l.OfferID != "B" {
				t.Fatalf("unwanted offer %q", l.OfferID)
			}
		}
	})
}
