// Package marketsim holds what the marketplace adapters and their
// simulators share.
//
// For the push side it declares the adapter contract (contract.go):
// StockPusher, PricePusher, StockReader and OrderSource over
// marketplace-neutral StockUpdate, PriceUpdate, ItemResult and Order
// values, the Limiter the clients pace themselves with, and APIError, the
// typed error every adapter returns (status, retry hint, retriable, the
// marketplace's message). The contract is proposed for package feeds and
// kept here until the push side adopts it.
//
// For the simulators (ozon/ozonsim, wildberries/wbsim, yandexmarket/ymsim)
// it provides the machinery that is the same for all three: server-side
// limits as each marketplace documents them (token bucket, sliding window,
// fixed-window quota), a violations counter, a fault plan drawn from a
// seeded generator (5xx, hangs, slow replies) and a seeded order
// generator.
//
//	var faults marketsim.Faults
//	faults.SetPlan(marketsim.FaultPlan{Seed: 7, ErrorRate: 0.05, ErrorStatus: 503})
//	if f := faults.Next(r.URL.Path); f.Kind == marketsim.FaultServerError { ... }
package marketsim
