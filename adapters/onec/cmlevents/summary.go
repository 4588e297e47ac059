package cmlevents

import "stockd/adapters/onec/commerceml"

// MaxSummaryWarehouses bounds Summary.StockByWarehouse; figures for further warehouses
// are counted under the key "".
const MaxSummaryWarehouses = 1000

// Summary counts what an Import turned into events.
type Summary struct {
	Products   int // catalog products visited
	Offers     int // offers visited
	NoStock    int // offers without any stock element (no stock event)
	TotalOnly  int // offers with only a total, sent to DefaultWarehouse
	StockSets  int // stock.set events for offers' figures (one per offer and our warehouse)
	Fractional int // stock figures floored
	Negative   int // stock figures below zero (sent as they are)
	Prices     int // price.set events
	// PricesSkipped counts prices of price types that Config.PriceTypes does not name.
	PricesSkipped int
	Items         int // item.upsert events
	Deletes       int // item.delete events
	Services      int // products skipped because they are services
	Dropped       int // figures and items that could not become a valid event (a warning says why)
	// StockByWarehouse counts stock.set events per our warehouse id (missing-offer
	// zeroes included).
	StockByWarehouse map[string]int

	FullSnapshots int      // catalogs read as full snapshots
	MissingCount  int      // offers known before that a full snapshot no longer lists
	Missing       []string // the first MaxMissingListed of them, by SKU
	Zeroed        int      // stock.set 0 events sent for them (Config.ZeroMissing)

	Events   int    // events published
	Batches  int    // Publish calls
	FirstSeq uint64 // seq of the first event published, 0 when none
	LastSeq  uint64 // seq of the last event published

	WarningCount int                  // warnings, the reader's and ours, including those not kept
	Warnings     []commerceml.Warning // the first MaxWarnings
}

// Warning codes of this package (the reader's codes pass through unchanged).
const (
	// WarnNoDefaultWarehouse: an offer gave only a total and no DefaultWarehouse is set; skipped.
	WarnNoDefaultWarehouse commerceml.WarningCode = "no_default_warehouse"
	// WarnEventDropped: a figure or item cannot be a valid event (too long an id, out of range); skipped.
	WarnEventDropped commerceml.WarningCode = "event_dropped"
	// WarnPriceSkipped: a price of a configured type without a usable currency, per Коэффициент ≠ 1
	// units, or not a valid event price; skipped.
	WarnPriceSkipped commerceml.WarningCode = "price_skipped"
	// WarnUnconfiguredPriceType: a price type not named in Config.PriceTypes (once per type).
	WarnUnconfiguredPriceType commerceml.WarningCode = "unconfigured_price_type"
	// WarnDate: ДатаФормирования unreadable (the import time is used) or later than the import
	// time (capped to it).
	WarnDate commerceml.WarningCode = "generated_at"
	// WarnStoreFull: the Store has no room; offers are no longer remembered, so later
	// missing reports are incomplete.
	WarnStoreFull commerceml.WarningCode = "store_full"
	// WarnSnapshotTooLarge: a full snapshot lists more than MaxSnapshotOffers offers; no
	// missing report for its catalog.
	WarnSnapshotTooLarge commerceml.WarningCode = "snapshot_too_large"
	// WarnTextTruncated: an article or name longer than an event allows; cut at a character boundary.
	WarnTextTruncated commerceml.WarningCode = "text_truncated"
)
