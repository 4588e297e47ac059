package marketsim

import (
	"context"
	"time"
)

// This file is the contract between the push side (package feeds) and the
// marketplace adapters. It is proposed for package feeds; it lives here
// until the push side adopts it, so that moving it is a rename of the
// import path and nothing else.

// StockUpdate is one absolute stock figure for one offer at one
// marketplace warehouse. Values are absolute, so a resend is harmless.
type StockUpdate struct {
	// OfferID is the marketplace's key of the offer: Ozon offer_id,
	// Wildberries chrtId (decimal), Yandex Market sku.
	OfferID string
	// WarehouseID is the marketplace's warehouse: Ozon warehouse_id,
	// Wildberries seller warehouseId, Yandex Market partnerWarehouseId
	// (empty for the campaign-level stock method).
	WarehouseID string
	// Qty is the quantity the channel may sell, never negative.
	Qty int64
	// At is the time the figure is true as of (the 1C snapshot time);
	// the zero time means now. Yandex Market receives it as updatedAt.
	At time.Time
}

// PriceUpdate is one absolute price of one offer. Amounts are in minor
// units (kopecks), as feeds.Money.
type PriceUpdate struct {
	// OfferID is the marketplace's key of the priced item: Ozon offer_id,
	// Wildberries nmID (decimal), Yandex Market offerId.
	OfferID string
	// Price is the selling price in kopecks.
	Price int64
	// OldPrice is the crossed-out price in kopecks; 0 means none.
	OldPrice int64
	// Currency is the ISO 4217 code ("RUB"); adapters translate it to the
	// marketplace's spelling (Yandex Market "RUR").
	Currency string
}

// ItemStatus is what became of one item of a push.
type ItemStatus uint8

// The item outcomes.
const (
	// ItemOK: the marketplace acknowledged the value.
	ItemOK ItemStatus = iota + 1
	// ItemAccepted: the marketplace queued the value for asynchronous
	// processing (Wildberries prices); TaskID confirms it later.
	ItemAccepted
	// ItemRejected: the marketplace refused this item; Code and Message
	// say why and Retriable says whether sending it again can succeed.
	ItemRejected
	// ItemNotSent: the request that carried the item failed as a whole
	// or was never made; the push returns the error.
	ItemNotSent
)

func (s ItemStatus) String() string {
	switch s {
	case ItemOK:
		return "ok"
	case ItemAccepted:
		return "accepted"
	case ItemRejected:
		return "rejected"
	case ItemNotSent:
		return "not_sent"
	}
	return "unknown"
}

// ItemResult is the outcome of one update of a push, in input order.
type ItemResult struct {
	OfferID     string
	WarehouseID string
	Status      ItemStatus
	Code        string        // marketplace error code, or the adapter's own
	Message     string        // marketplace message, for a person
	Retriable   bool          // sending the same item again may succeed
	RetryAfter  time.Duration // when positive: not before this wait
	TaskID      string        // asynchronous task that carries the item, if any
	// HeldBack: not sent because the marketplace refused its request for
	// other items (ItemNotSent); it was never refused itself, so it does
	// not count toward giving up on it
	HeldBack bool
}

// StockPusher sends stock figures to one marketplace account.
//
// PushStocks splits updates into requests of at most MaxStockBatch items.
// It returns one result per update, in input order, whatever happens. The
// error is the first request-level failure (an *APIError, or the context's
// error); the items it concerns are ItemNotSent and carry its retry hint.
// Items after a failed request are not sent.
type StockPusher interface {
	PushStocks(ctx context.Context, updates []StockUpdate) ([]ItemResult, error)
	MaxStockBatch() int
}

// PricePusher sends prices to one marketplace account, with the same
// result and error rules as StockPusher.
type PricePusher interface {
	PushPrices(ctx context.Context, updates []PriceUpdate) ([]ItemResult, error)
	MaxPriceBatch() int
}

// StockKey names one offer at one marketplace warehouse.
type StockKey struct {
	OfferID     string
	WarehouseID string
}

// StockLevel is a figure read back from a marketplace.
type StockLevel struct {
	OfferID     string
	WarehouseID string
	Qty         int64 // what the marketplace will sell
	Reserved    int64 // units in its own reserve, where it reports them
}

// StockReader reads stock back for a reconcile job. Keys the marketplace
// does not know are absent from the result.
type StockReader interface {
	ReadStocks(ctx context.Context, keys []StockKey) ([]StockLevel, error)
}

// OrderState is a marketplace order status reduced to what stock needs.
type OrderState uint8

// The order states.
const (
	// OrderAwaiting: placed and not yet handed to delivery; its units are
	// still on the seller's shelf and promised.
	OrderAwaiting OrderState = iota + 1
	// OrderShipped: handed to delivery; the units have left.
	OrderShipped
	// OrderCancelled: cancelled before it left; the units are free again.
	OrderCancelled
	// OrderOther: any status the adapter does not map.
	OrderOther
)

func (s OrderState) String() string {
	switch s {
	case OrderAwaiting:
		return "awaiting"
	case OrderShipped:
		return "shipped"
	case OrderCancelled:
		return "cancelled"
	case OrderOther:
		return "other"
	}
	return "unknown"
}

// OrderLine is one offer of an order.
type OrderLine struct {
	OfferID string // same key as StockUpdate.OfferID
	Qty     int64
}

// Order is a marketplace FBS order (an Ozon posting, a Wildberries
// assembly task, a Yandex Market order).
type Order struct {
	ID          string // posting_number, assembly task id, order id
	State       OrderState
	RawStatus   string // the marketplace's status, "status/substatus" where it has two
	WarehouseID string
	CreatedAt   time.Time
	Lines       []OrderLine
}

// OrderSource polls a marketplace account's FBS orders.
type OrderSource interface {
	// NewOrders returns every order that awaits the seller now.
	NewOrders(ctx context.Context) ([]Order, error)
	// OrderStatuses returns the current state of the named orders,
	// cancellations included; unknown ids are absent from the result.
	OrderStatuses(ctx context.Context, ids []string) ([]Order, error)
}

// Limiter paces the requests of one method group of one marketplace
// account; *limit.Bucket (package feeds/limit) implements it.
type Limiter interface {
	// Wait blocks until cost tokens are granted or ctx ends.
	Wait(ctx context.Context, cost int) error
	// Charge takes cost tokens without waiting (a cost learned after the
	// fact, such as a Wildberries 409 that counts as 10 requests).
	Charge(cost int)
	// Penalize grants nothing before until (a Retry-After).
	Penalize(until time.Time)
}
