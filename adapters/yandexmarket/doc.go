// Package yandexmarket is the Yandex Market Partner API adapter
// («Маркет для продавцов»): it pushes stock by campaign
// (PUT /v2/campaigns/{campaignId}/offers/stocks, for cabinets with
// warehouse groups) or by partner warehouse
// (POST /v3/businesses/{businessId}/offers/stocks/update), cabinet-wide
// prices (POST /v2/businesses/{businessId}/offer-prices/updates), reads
// stock back (POST /v2/campaigns/{campaignId}/offers/stocks) and polls FBS
// orders (GET /v2/campaigns/{campaignId}/orders).
//
// Yandex Market answers a request as a whole: 200 {"status":"OK"} or an
// error for every item, so a batch refused with 400 must be bisected by
// the caller to find the bad offer. Over a quota or the parallel-request
// limit it answers 420; the client keeps at most MaxInFlight requests
// open per campaign and per business and reads the retry time from
// Retry-After or X-RateLimit-Resource-Until.
//
//	lim, _ := yandexmarket.NewLimiters(0.9, time.Now)
//	c, err := yandexmarket.New(yandexmarket.Options{
//		BaseURL: yandexmarket.DefaultBaseURL, APIKey: key, BusinessID: 10, CampaignID: 20,
//		StockMethod: yandexmarket.StockByCampaign, MaxInFlight: yandexmarket.DefaultMaxInFlight,
//		HTTP: &http.Client{Timeout: 30 * time.Second}, Limiters: lim, Now: time.Now,
//	})
//
// Package ymsim is a simulator of the same API for tests and demos.
package yandexmarket
