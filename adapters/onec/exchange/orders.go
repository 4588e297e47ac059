package exchange

import (
	"context"

	"stockd/adapters/onec/commerceml"
)

// OrderSource supplies the orders 1C takes with type=sale&mode=query and learns which
// ones it took (mode=success).
type OrderSource interface {
	// Orders returns at most max orders that the 1C base of account has not taken yet.
	Orders(ctx context.Context, account string, max int) ([]commerceml.Order, error)
	// Exported records that account's 1C base took these orders: the ids of the
	// orders of the session's last query.
	Exported(ctx context.Context, account string, orderIDs []string) error
}

// NoOrders is an OrderSource with no orders: mode=query answers an empty document.
type NoOrders struct{}

var _ OrderSource = NoOrders{}

// Orders returns none.
func (NoOrders) Orders(context.Context, string, int) ([]commerceml.Order, error) { return nil, nil }

// Exported does nothing.
func (NoOrders) Exported(context.Context, string, []string) error { return nil }

// OrderUpload is what 1C reported in one order document it uploaded with
// type=sale&mode=file: the state of orders it took (Проведен, Отменен, Отгружен,
// ПометкаУдаления and other ЗначенияРеквизитов), keyed by the Ид stockd gave them.
type OrderUpload struct {
	// File is the sanitised name 1C uploaded the document under.
	File string
	// Orders are the "Заказ товара" documents, at most MaxUploadedOrders of them.
	Orders []commerceml.Order
	// Total counts every order in the file, also those past MaxUploadedOrders.
	Total int
	// Warnings counts the reader's warnings (documents skipped, unreadable values).
	Warnings int
}

// OrderUpdates is implemented by an OrderSource that takes what 1C reports about the
// orders (type=sale&mode=file). An OrderSource without it has the documents read,
// counted and logged only.
type OrderUpdates interface {
	// OrdersUpdated receives one uploaded document. An error answers 1C failure.
	OrdersUpdated(ctx context.Context, account string, up OrderUpload) error
}
