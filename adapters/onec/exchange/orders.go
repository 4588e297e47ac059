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
