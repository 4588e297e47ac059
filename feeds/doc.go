// Package feeds turns ledger changes into what each sales channel is sent:
// the channel quantity and price per offer by the channel's policies, a
// coalescing dirty set per channel with priorities, and the workers that
// push batches through each marketplace's rate limits.
//
// A change marks an offer dirty; the value is read again when a batch is
// built, so a 5 → 4 → 3 sequence sends one 3.
//
//	ds := feeds.NewDirtySet(feeds.MaxDirtyOffers)
//	ds.Mark("sku-1", feeds.PriorityDecrease, now)
//	batch := ds.Take(100, nil)
package feeds
