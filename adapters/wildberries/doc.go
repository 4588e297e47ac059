// Package wildberries is the Wildberries seller API adapter: it pushes
// seller-warehouse stock (PUT /api/v3/stocks/{warehouseId}, one warehouse
// a request), prices and discounts (POST /api/v2/upload/task, processed
// asynchronously and confirmed with PriceTask), reads stock back
// (POST /api/v3/stocks/{warehouseId}) and polls FBS assembly tasks
// (GET /api/v3/orders/new, POST /api/v3/orders/status).
//
// Stock is keyed by chrtId (the size id) and prices by nmID: the 1C
// article must be mapped to them beforehand (the seller's vendorCode is not
// used by either call). The client does not retry; failures are
// *marketsim.APIError values with the hint of X-Ratelimit-Retry,
// Retry-After or X-Ratelimit-Reset. A 409 counts as 10 requests against
// the account's limit; the client charges its limiter for it.
//
//	lim, _ := wildberries.NewLimiters(0.9, time.Now)
//	c, err := wildberries.New(wildberries.Options{
//		MarketplaceURL: wildberries.DefaultMarketplaceURL, PricesURL: wildberries.DefaultPricesURL,
//		Token: token, HTTP: &http.Client{Timeout: 30 * time.Second}, Limiters: lim, Now: time.Now,
//	})
//
// Package wbsim is a simulator of the same API for tests and demos.
package wildberries
