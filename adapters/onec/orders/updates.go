package orders

import (
	"context"
	"strings"
	"time"

	"stockd/adapters/onec/commerceml"
	"stockd/adapters/onec/exchange"
)

// Attribute names 1C writes in the documents it uploads (type=sale&mode=file).
const (
	AttrPosted  = "Проведен"
	AttrShipped = "Отгружен"
)

// MaxLoggedUpdates bounds the orders one uploaded document names in the log.
const MaxLoggedUpdates = 20

// UpdateStats count what 1C reported about orders in the documents it
// uploaded (type=sale&mode=file), since start.
type UpdateStats struct {
	Files  uint64 `json:"files"`
	Orders uint64 `json:"orders"` // "Заказ товара" documents read
	// Ours: orders the uploading account took from stockd (by Ид).
	Ours uint64 `json:"ours"`
	// Cancelled: ours that 1C reports cancelled (Отменен or ПометкаУдаления).
	Cancelled uint64 `json:"cancelled"`
	// Shipped: ours that 1C reports shipped (Отгружен).
	Shipped  uint64    `json:"shipped"`
	LastFile string    `json:"last_file"`
	LastAt   time.Time `json:"last_at"`
}

var _ exchange.OrderUpdates = (*Source)(nil)

// OrdersUpdated implements exchange.OrderUpdates: it counts and logs what
// 1C reports about the orders it took. It changes no hold: a hold 1C
// cancelled stays until it is released (POST /v1/reservations/{id}/release,
// or the marketplace's cancellation through the intake) or 1C's figures
// hand it off; the warning names it.
func (s *Source) OrdersUpdated(_ context.Context, account string, up exchange.OrderUpload) error {
	var st UpdateStats
	logged := 0
	for i := range up.Orders {
		o := &up.Orders[i]
		if !s.cfg.Store.Exported(account, o.ID) {
			continue
		}
		st.Ours++
		cancelled := o.Deleted || attrTrue(o.Attributes, AttrCancelled)
		if attrTrue(o.Attributes, AttrShipped) {
			st.Shipped++
		}
		if !cancelled {
			continue
		}
		st.Cancelled++
		if logged < MaxLoggedUpdates {
			logged++
			s.cfg.Logger.Warn("1C reports an order cancelled; its hold stays until released or handed off",
				"account", account, "file", up.File, "order", o.ID, "number_1c", o.Number1C)
		}
	}
	s.cfg.Logger.Info("1C reported order states", "account", account, "file", up.File, "orders", up.Total,
		"ours", st.Ours, "cancelled", st.Cancelled, "shipped", st.Shipped, "warnings", up.Warnings)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updates.Files++
	s.updates.Orders += uint64(up.Total)
	s.updates.Ours += st.Ours
	s.updates.Cancelled += st.Cancelled
	s.updates.Shipped += st.Shipped
	s.updates.LastFile, s.updates.LastAt = up.File, s.cfg.Now()
	return nil
}

// UpdateStats returns the counters of the documents 1C uploaded.
func (s *Source) UpdateStats() UpdateStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.updates
}

func attrTrue(attrs []commerceml.Attribute, name string) bool {
	for _, a := range attrs {
		if strings.EqualFold(strings.TrimSpace(a.Name), name) {
			return strings.EqualFold(strings.TrimSpace(a.Value), "true")
		}
	}
	return false
}
