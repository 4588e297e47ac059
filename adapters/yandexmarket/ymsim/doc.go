// Package ymsim simulates the Yandex Market Partner API for one cabinet
// (a business and its campaigns), as an http.Handler for tests and demos.
//
// It checks the Api-Key (401) and the campaign or business of each path
// (403), allows at most MaxParallel open requests per campaign and per
// business (420 "Hit rate limit of N parallel requests"), charges the
// resource quotas per period — stock offers, warehouse-stock requests,
// price offers, order requests — on 2xx and 4xx replies alike, with
// X-RateLimit-Resource-Limit/-Remaining/-Until headers and 420 over them,
// refuses bodies over 512 KB, batches over 2000 stocks or 500 prices,
// SKUs outside YM's pattern and prices with more than two decimals. Every
// broken rule is counted in Violations. It keeps the last stock and price
// per offer, makes orders from a seeded demand or PlaceOrder, cancels a
// share, and injects faults from a seeded plan.
//
//	sim := ymsim.New(ymsim.DefaultConfig("ACMA:key", 10, 20))
//	sim.AddOffer("КР-7/2")
//	srv := httptest.NewServer(sim)
package ymsim
