package feeds

import (
	"stockd/reservation"
)

// Source is where the push workers read the value to send, at send time:
// the ledger, behind the engine's lock. Calls must be cheap (a map
// lookup); the hub never holds its own locks while calling them.
type Source interface {
	// ChannelQty is the SKU's quantity in a ledger channel or view (Σ
	// available over its warehouses, kits included) before the channel's
	// stock policy. An unknown SKU has 0.
	ChannelQty(sku, view string) (int64, error)
	// Price is the SKU's price of a 1C price type.
	Price(sku, priceType string) (reservation.Price, bool)
}

// SourceFuncs adapts two functions to Source: the engine passes closures
// over its ledger (reservation.Ledger.Available and Ledger.Price, under
// its lock).
type SourceFuncs struct {
	Qty     func(sku, view string) (int64, error)
	PriceOf func(sku, priceType string) (reservation.Price, bool)
}

// ChannelQty implements Source.
func (s SourceFuncs) ChannelQty(sku, view string) (int64, error) { return s.Qty(sku, view) }

// Price implements Source.
func (s SourceFuncs) Price(sku, priceType string) (reservation.Price, bool) {
	return s.PriceOf(sku, priceType)
}
