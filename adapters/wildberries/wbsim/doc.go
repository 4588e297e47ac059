// Package wbsim simulates the Wildberries marketplace and prices APIs for
// one seller, as one http.Handler serving both hosts' paths, for tests and
// demos.
//
// It enforces WB's token buckets per method group (stocks 300/min burst
// 20, FBS orders 300/min burst 20, prices 10 per 6 s burst 5; 429 with
// X-Ratelimit-Retry, -Reset, -Remaining, -Limit), the 1000-item batches,
// amount ≤ 100000, 409 replies that name the refused sizes and cost 10
// requests, the 204 that WB gives a body with misspelt keys (nothing is
// updated), asynchronous price uploads with task history, 208 for a
// duplicate upload, 400 "already set" and price quarantine. Broken rules
// are counted in Violations; faults come from a seeded plan; assembly
// tasks come from a seeded demand or PlaceOrder.
//
//	sim := wbsim.New(wbsim.DefaultConfig("token"))
//	sim.AddProduct(12345678, "КР-7/2", 87654321)
//	srv := httptest.NewServer(sim)
package wbsim
