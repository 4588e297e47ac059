// Package intake turns marketplace FBS orders into holds on the
// reservation ledger, so that a unit sold on Ozon, Wildberries or Yandex
// Market is no longer offered anywhere else.
//
// One poller per marketplace channel asks the marketplace for the orders
// that await the seller (marketsim.OrderSource.NewOrders) every
// PollInterval. Each order it does not track yet becomes a forced,
// confirmed hold (Ledger.RecordOrder): the marketplace has sold the units
// already, so the hold is recorded whatever the stock, and a SKU without
// enough becomes short in the ledger, which lowers every other channel at
// once (the feeds hub sends a drop to zero before anything else). The hold
// id is "<kind>:<marketplace order id>" ("ozon:0123-0001-1"), so polling
// the same order again, after a restart or a crash, creates nothing twice.
//
// Order lines name marketplace offers; the channel's offer mapping
// (feeds.Mapping.ByStockID) turns them back into 1C SKUs. A line whose
// offer is not mapped cannot be held: it is counted and logged, and the
// order is recorded with the lines that are mapped (an order with no
// mapped line holds nothing). docs/ORDERS.md gives the reasons.
//
// Orders the poller tracks but that are missing from the awaiting list
// are looked up (OrderStatuses, at most MaxStatusPerPoll a poll): a
// cancelled order's hold is released, a shipped order stops being tracked
// and its hold stays until 1C takes the order over (hand-off), and one
// still awaiting stays tracked.
//
// The poller keeps nothing that a crash can lose: on start it loads the
// open marketplace holds of its channel from the ledger (Ledger.OpenHolds)
// and polls again; every decision is in the ledger's journal.
//
//	in, err := intake.New(intake.Config{Ledger: engineLedger, Now: time.Now, Logger: log,
//		Channels: intake.FromFeeds(feedChannels, nil)})
//	go in.Run(ctx) // returns when ctx ends
//	st := in.Stats()
package intake
