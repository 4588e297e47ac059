package wildberries

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"stockd/adapters/marketsim"
)

// assemblyTask is an FBS assembly task of GET /api/v3/orders/new: one unit
// of one size. Prices are in minor units (×100).
type assemblyTask struct {
	ID             int64    `json:"id"`
	RID            string   `json:"rid"`
	OrderUID       string   `json:"orderUid"`
	Article        string   `json:"article"`
	NmID           int64    `json:"nmId"`
	ChrtID         int64    `json:"chrtId"`
	SKUs           []string `json:"skus"`
	WarehouseID    int64    `json:"warehouseId"`
	Price          int64    `json:"price"`
	ConvertedPrice int64    `json:"convertedPrice"`
	CreatedAt      string   `json:"createdAt"`
	CargoType      int      `json:"cargoType"`
}

type newOrdersResponse struct {
	Orders []assemblyTask `json:"orders"`
}

type statusRequest struct {
	Orders []int64 `json:"orders"`
}

type taskStatus struct {
	ID             int64  `json:"id"`
	SupplierStatus string `json:"supplierStatus"`
	WBStatus       string `json:"wbStatus"`
}

type statusResponse struct {
	Orders []taskStatus `json:"orders"`
}

// NewOrders implements marketsim.OrderSource with GET /api/v3/orders/new:
// every assembly task that awaits the seller, one unit each.
func (c *Client) NewOrders(ctx context.Context) ([]marketsim.Order, error) {
	const path = "/api/v3/orders/new"
	rep, err := c.do(ctx, call{method: http.MethodGet, base: c.opt.MarketplaceURL, path: path, group: c.opt.Limiters.Orders})
	if err != nil {
		return nil, err
	}
	var resp newOrdersResponse
	if err := json.Unmarshal(rep.body, &resp); err != nil {
		return nil, decodeErr("GET "+path, rep.status, err)
	}
	out := make([]marketsim.Order, 0, len(resp.Orders))
	for _, t := range resp.Orders {
		out = append(out, t.order())
	}
	return out, nil
}

func (t assemblyTask) order() marketsim.Order {
	created, _ := time.Parse(time.RFC3339Nano, t.CreatedAt)
	return marketsim.Order{
		ID:          strconv.FormatInt(t.ID, 10),
		State:       marketsim.OrderAwaiting,
		RawStatus:   "new",
		WarehouseID: strconv.FormatInt(t.WarehouseID, 10),
		CreatedAt:   created,
		Lines:       []marketsim.OrderLine{{OfferID: strconv.FormatInt(t.ChrtID, 10), Qty: 1}},
	}
}

// OrderStatuses implements marketsim.OrderSource with
// POST /api/v3/orders/status, MaxStatusBatch tasks a request. The results
// carry state and status only (no lines).
func (c *Client) OrderStatuses(ctx context.Context, ids []string) ([]marketsim.Order, error) {
	const path = "/api/v3/orders/status"
	nums := make([]int64, 0, len(ids))
	for _, id := range ids {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || n <= 0 {
			continue // not a WB assembly task id: unknown to WB
		}
		nums = append(nums, n)
	}
	var out []marketsim.Order
	for start := 0; start < len(nums); start += MaxStatusBatch {
		rep, err := c.do(ctx, call{method: http.MethodPost, base: c.opt.MarketplaceURL, path: path,
			in: statusRequest{Orders: nums[start:min(start+MaxStatusBatch, len(nums))]}, group: c.opt.Limiters.Orders})
		if err != nil {
			return out, err
		}
		var resp statusResponse
		if err := json.Unmarshal(rep.body, &resp); err != nil {
			return out, decodeErr("POST "+path, rep.status, err)
		}
		for _, s := range resp.Orders {
			out = append(out, marketsim.Order{
				ID:        strconv.FormatInt(s.ID, 10),
				State:     StateOf(s.SupplierStatus, s.WBStatus),
				RawStatus: s.SupplierStatus + "/" + s.WBStatus,
			})
		}
	}
	return out, nil
}

// StateOf maps an assembly task's supplierStatus and wbStatus to what it
// means for stock.
func StateOf(supplierStatus, wbStatus string) marketsim.OrderState {
	switch wbStatus {
	case "canceled", "canceled_by_client", "declined_by_client", "defect":
		return marketsim.OrderCancelled
	}
	switch supplierStatus {
	case "cancel", "reject":
		return marketsim.OrderCancelled
	case "complete", "receive":
		return marketsim.OrderShipped
	case "new", "confirm":
		switch wbStatus {
		case "", "waiting":
			return marketsim.OrderAwaiting
		case "sorted", "sold", "ready_for_pickup", "on_way_to_client", "delivered":
			return marketsim.OrderShipped
		}
	}
	return marketsim.OrderOther
}
