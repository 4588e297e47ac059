// Package ozonsim simulates the Ozon Seller API for one account, as an
// http.Handler for tests and demos (httptest.NewServer, or
// marketsim.StartLocal on 127.0.0.1).
//
// It answers the paths the ozon adapter uses with Ozon's bodies, auth and
// limits: 50 requests/s per Client-Id and 80 stock updates/min (429 with
// Ozon's body), at most 100 stock pairs and 1000 prices a request, one
// update per (offer, warehouse) per 30 s (per-item TOO_MANY_REQUESTS),
// ten price changes per product per hour, offer_id of at most 50
// characters. Every broken rule is counted in Violations. It keeps the last
// stock and price it accepted, makes FBS postings from a seeded demand or
// PlaceOrder, cancels a share of them, and injects 5xx, hangs and slow
// replies from a seeded fault plan. The clock is injected.
//
//	sim := ozonsim.New(ozonsim.DefaultConfig("123", "key"))
//	sim.AddOffer("PH11042")
//	srv := httptest.NewServer(sim)
//	// ... push through ozon.Client at srv.URL ...
//	qty, ok := sim.Stock("PH11042", "22142605386000")
package ozonsim
