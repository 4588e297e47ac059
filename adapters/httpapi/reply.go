package httpapi

import (
	"time"

	"stockd/reservation"
)

// HoldReply is a hold as the API shows it.
type HoldReply struct {
	ID         string      `json:"id"`
	Channel    string      `json:"channel"`
	State      string      `json:"state"`
	Forced     bool        `json:"forced,omitempty"`
	Lines      []LineReply `json:"lines"`
	CreatedAt  time.Time   `json:"created_at"`
	ExpiresAt  *time.Time  `json:"expires_at"` // null: no expiry
	TTLSeconds int64       `json:"ttl_seconds,omitempty"`
}

// LineReply is one requested line with where its units are held.
type LineReply struct {
	SKU         string            `json:"sku"`
	Qty         int64             `json:"qty"`
	Allocations []AllocationReply `json:"allocations"`
}

// AllocationReply is part of a line held in one warehouse. For a kit line
// SKU names the component.
type AllocationReply struct {
	SKU       string `json:"sku"`
	Warehouse string `json:"warehouse"`
	Qty       int64  `json:"qty"`
	HandedOff bool   `json:"handed_off,omitempty"`
}

// Availability is one SKU across warehouses and channels.
type Availability struct {
	SKU        string              `json:"sku"`
	Known      bool                `json:"known"`
	Short      bool                `json:"short"`
	Warehouses []WarehouseReply    `json:"warehouses"`
	Channels   []ChannelAvailReply `json:"channels"`
	Kit        []KitReply          `json:"kit,omitempty"`
}

// KitReply is one component of a kit.
type KitReply struct {
	SKU string `json:"sku"`
	Qty int64  `json:"qty"`
}

// WarehouseReply is a SKU's figures in one warehouse.
type WarehouseReply struct {
	Warehouse string `json:"warehouse"`
	Free      int64  `json:"free"`
	Held      int64  `json:"held"`
	Safety    int64  `json:"safety"`
	Available int64  `json:"available"`
}

// ChannelAvailReply is what one channel may sell of the SKU.
type ChannelAvailReply struct {
	Channel   string `json:"channel"`
	Available int64  `json:"available"`
}

// holdReply renders a ledger hold as its JSON shape; the server writes
// the same bytes with appendHoldReply.
func holdReply(h *reservation.Hold) HoldReply {
	r := HoldReply{
		ID: h.ID, Channel: h.Channel, State: h.State.String(), Forced: h.Forced,
		CreatedAt: h.CreatedAt.UTC(), TTLSeconds: int64(h.TTL / time.Second),
		Lines: make([]LineReply, len(h.Lines)),
	}
	if !h.ExpiresAt.IsZero() {
		t := h.ExpiresAt.UTC()
		r.ExpiresAt = &t
	}
	for i, ln := range h.Lines {
		r.Lines[i] = LineReply{SKU: ln.SKU, Qty: ln.Qty, Allocations: []AllocationReply{}}
	}
	for _, a := range h.Allocations {
		if a.Line < 0 || a.Line >= len(r.Lines) {
			panic("httpapi: allocation names a line the hold does not have")
		}
		r.Lines[a.Line].Allocations = append(r.Lines[a.Line].Allocations,
			AllocationReply{SKU: a.SKU, Warehouse: a.Warehouse, Qty: a.Qty, HandedOff: a.HandedOff})
	}
	return r
}
