package ozon

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"stockd/adapters/marketsim"
)

// MaxOrderPages bounds the pages one NewOrders call follows.
const MaxOrderPages = 200

// MaxStatusIDs bounds the postings one OrderStatuses call looks up; each
// is one request.
const MaxStatusIDs = 1000

type postingWith struct {
	AnalyticsData bool `json:"analytics_data"`
	Barcodes      bool `json:"barcodes"`
	FinancialData bool `json:"financial_data"`
	LegalInfo     bool `json:"legal_info"`
}

type unfulfilledFilter struct {
	// Either the cutoff pair or delivering_date_from/to, never both.
	CutoffFrom string `json:"cutoff_from"`
	CutoffTo   string `json:"cutoff_to"`
}

type unfulfilledRequest struct {
	Cursor  string            `json:"cursor"`
	Limit   int64             `json:"limit"`
	SortDir string            `json:"sort_dir"`
	Filter  unfulfilledFilter `json:"filter"`
	With    postingWith       `json:"with"`
}

type postingDeliveryMethod struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	WarehouseID int64  `json:"warehouse_id"`
	Warehouse   string `json:"warehouse"`
}

type postingProduct struct {
	OfferID  string `json:"offer_id"`
	Name     string `json:"name"`
	SKU      int64  `json:"sku"`
	Quantity int64  `json:"quantity"`
}

type posting struct {
	PostingNumber  string                `json:"posting_number"`
	OrderID        int64                 `json:"order_id"`
	OrderNumber    string                `json:"order_number"`
	Status         string                `json:"status"`
	Substatus      string                `json:"substatus"`
	DeliveryMethod postingDeliveryMethod `json:"delivery_method"`
	InProcessAt    string                `json:"in_process_at"`
	ShipmentDate   string                `json:"shipment_date"`
	Products       []postingProduct      `json:"products"`
}

type unfulfilledResponse struct {
	Count    int64     `json:"count"`
	Cursor   string    `json:"cursor"`
	HasNext  bool      `json:"has_next"`
	Postings []posting `json:"postings"`
}

type postingGetRequest struct {
	PostingNumber string      `json:"posting_number"`
	With          postingWith `json:"with"`
}

type postingGetResponse struct {
	Result posting `json:"result"`
}

// NewOrders implements marketsim.OrderSource with
// POST /v4/posting/fbs/unfulfilled/list (cursor pages of MaxPostingsPage;
// v3 was switched off on 2026-06-01).
func (c *Client) NewOrders(ctx context.Context) ([]marketsim.Order, error) {
	now := c.opt.Now().UTC()
	req := unfulfilledRequest{
		Limit:   MaxPostingsPage,
		SortDir: "ASC",
		Filter: unfulfilledFilter{
			CutoffFrom: now.Add(-c.opt.OrderWindowBack).Format(time.RFC3339),
			CutoffTo:   now.Add(c.opt.OrderWindowAhead).Format(time.RFC3339),
		},
	}
	var out []marketsim.Order
	for page := 0; page < MaxOrderPages; page++ {
		var resp unfulfilledResponse
		if err := c.post(ctx, "/v4/posting/fbs/unfulfilled/list", nil, req, &resp); err != nil {
			return out, err
		}
		for _, p := range resp.Postings {
			out = append(out, p.order())
		}
		if !resp.HasNext || resp.Cursor == "" {
			return out, nil
		}
		req.Cursor = resp.Cursor
	}
	return out, nil
}

// OrderStatuses implements marketsim.OrderSource with one
// POST /v3/posting/fbs/get per posting number.
func (c *Client) OrderStatuses(ctx context.Context, ids []string) ([]marketsim.Order, error) {
	if len(ids) > MaxStatusIDs {
		ids = ids[:MaxStatusIDs]
	}
	out := make([]marketsim.Order, 0, len(ids))
	for _, id := range ids {
		var resp postingGetResponse
		err := c.post(ctx, "/v3/posting/fbs/get", nil, postingGetRequest{PostingNumber: id}, &resp)
		var apiErr *marketsim.APIError
		if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound {
			continue
		}
		if err != nil {
			return out, err
		}
		out = append(out, resp.Result.order())
	}
	return out, nil
}

func (p posting) order() marketsim.Order {
	o := marketsim.Order{
		ID:        p.PostingNumber,
		State:     StateOf(p.Status),
		RawStatus: p.Status,
		CreatedAt: parseTime(p.InProcessAt),
		Lines:     make([]marketsim.OrderLine, 0, len(p.Products)),
	}
	if p.Substatus != "" {
		o.RawStatus += "/" + p.Substatus
	}
	if p.DeliveryMethod.WarehouseID != 0 {
		o.WarehouseID = strconv.FormatInt(p.DeliveryMethod.WarehouseID, 10)
	}
	for _, pr := range p.Products {
		o.Lines = append(o.Lines, marketsim.OrderLine{OfferID: pr.OfferID, Qty: pr.Quantity})
	}
	return o
}

// StateOf maps an FBS posting status to what it means for stock.
func StateOf(status string) marketsim.OrderState {
	switch status {
	case "acceptance_in_progress", "awaiting_approve", "awaiting_registration",
		"awaiting_packaging", "awaiting_verification", "awaiting_deliver",
		"arbitration", "client_arbitration":
		return marketsim.OrderAwaiting
	case "delivering", "driver_pickup", "delivered", "sent_by_seller":
		return marketsim.OrderShipped
	case "cancelled", "cancelled_from_split_pending":
		return marketsim.OrderCancelled
	}
	return marketsim.OrderOther
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}
