package wildberries

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"stockd/adapters/marketsim"
)

// FuzzDecodeConflict feeds arbitrary 409 bodies to the per-item mapping:
// every item ends with a status, and refused items are never ok.
func FuzzDecodeConflict(f *testing.F) {
	f.Add([]byte(`[{"code":"NotFound","message":"x","data":[{"chrtId":1,"amount":1}]}]`))
	f.Add([]byte(`[{"code":"UploadDataLimit","data":[{"sku":"2","amount":100001}]},{"code":"StoreIsProcessing","data":[]}]`))
	f.Add([]byte(`{"code":"x"}`))
	f.Add([]byte(`[{"data":{"chrtId":1}}]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		chrt := []int64{1, 2, 3}
		results := make([]marketsim.ItemResult, 3)
		if !applyConflicts(results, []int{0, 1, 2}, chrt, raw, 0) {
			for _, r := range results {
				if r.Status != 0 {
					t.Fatalf("results set although the reply named no item: %+v", results)
				}
			}
			return
		}
		for i, r := range results {
			if r.Status != marketsim.ItemRejected && r.Status != marketsim.ItemNotSent {
				t.Fatalf("item %d: %+v after %s", i, r, raw)
			}
		}
	})
}

// FuzzDecodeError feeds arbitrary error replies and headers to the parser.
func FuzzDecodeError(f *testing.F) {
	f.Add(429, []byte(`{"title":"too many requests","detail":"limited","status":429}`), "7", "")
	f.Add(400, []byte(`{"data":null,"error":true,"errorText":"InvalidItemNo"}`), "", "")
	f.Add(409, []byte(`[{"code":"StoreIsProcessing","message":"retry","data":[]}]`), "", "2")
	f.Add(500, []byte(`oops`), "Wed, 21 Oct 2015 07:28:00 GMT", "x")
	c, err := New(Options{MarketplaceURL: "http://x", PricesURL: "http://y", Token: "t",
		HTTP: &http.Client{Timeout: time.Second}, Now: func() time.Time { return time.Unix(1e9, 0) }})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, status int, raw []byte, retry, reset string) {
		if status < 100 || status > 999 {
			return
		}
		h := http.Header{}
		h.Set("X-Ratelimit-Retry", retry)
		h.Set("X-Ratelimit-Reset", reset)
		e := c.statusError("PUT /api/v3/stocks/1", &http.Response{StatusCode: status, Header: h}, raw)
		if e.StatusCode != status || e.Err == nil || e.RetryAfter < 0 || e.RetryAfter > 24*time.Hour {
			t.Fatalf("bad error %#v", e)
		}
	})
}

// FuzzDecodeOrders feeds arbitrary new-order lists to the mapping.
func FuzzDecodeOrders(f *testing.F) {
	f.Add([]byte(`{"orders":[{"id":1,"chrtId":2,"warehouseId":3,"createdAt":"2026-01-01T00:00:00Z"}]}`))
	f.Add([]byte(`{"orders":[{"createdAt":null}]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var resp newOrdersResponse
		if json.Unmarshal(raw, &resp) != nil {
			return
		}
		for _, task := range resp.Orders {
			o := task.order()
			if o.State != marketsim.OrderAwaiting || len(o.Lines) != 1 || o.Lines[0].Qty != 1 {
				t.Fatalf("bad order %+v", o)
			}
		}
	})
}
