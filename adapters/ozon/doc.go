// Package ozon is the Ozon Seller API adapter: it pushes FBS stock
// (POST /v2/products/stocks) and prices (POST /v1/product/import/prices)
// with per-item results, reads stock back for reconciliation
// (POST /v2/product/info/stocks-by-warehouse/fbs) and polls FBS postings
// (POST /v4/posting/fbs/unfulfilled/list, POST /v3/posting/fbs/get).
//
// The client does not retry: every failure comes back as a
// *marketsim.APIError that says whether a retry is safe and how long Ozon
// asked to wait, and every item of a batch gets its own result (HTTP 200
// does not mean every item was applied). Requests are paced by the
// Limiters given to New, which NewLimiters builds at a share of the
// documented limits. "Circle is open" (a method blocked for minutes) is
// ErrCircleOpen, retriable after CircleOpenPause; only that method's
// limiter is held back.
//
//	lim, _ := ozon.NewLimiters(0.9, time.Now)
//	c, err := ozon.New(ozon.Options{
//		BaseURL: ozon.DefaultBaseURL, ClientID: id, APIKey: key,
//		HTTP: &http.Client{Timeout: 30 * time.Second}, Limiters: lim, Now: time.Now,
//	})
//	results, err := c.PushStocks(ctx, updates)
//
// Package ozonsim is a simulator of the same API for tests and demos.
package ozon
