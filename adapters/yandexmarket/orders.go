package yandexmarket

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"stockd/adapters/marketsim"
)

// MaxOrderPages bounds the pages one NewOrders call follows.
const MaxOrderPages = 1000

// creationDateLayout is YM's order date format, in Moscow time.
const creationDateLayout = "02-01-2006 15:04:05"

// moscow is UTC+3 all year; YM's order dates are Moscow time (the zone is
// UNCONFIRMED in the docs; the samples carry none).
var moscow = time.FixedZone("MSK", 3*3600)

type orderItem struct {
	ID                 int64   `json:"id"`
	OfferID            string  `json:"offerId"`
	OfferName          string  `json:"offerName"`
	Price              float64 `json:"price"`
	Count              int64   `json:"count"`
	PartnerWarehouseID string  `json:"partnerWarehouseId"`
}

type order struct {
	ID           int64       `json:"id"`
	Status       string      `json:"status"`
	Substatus    string      `json:"substatus"`
	CreationDate string      `json:"creationDate"`
	Fake         bool        `json:"fake"`
	Items        []orderItem `json:"items"`
}

type ordersResponse struct {
	Orders []order `json:"orders"`
	Paging struct {
		NextPageToken string `json:"nextPageToken"`
	} `json:"paging"`
}

// NewOrders implements marketsim.OrderSource with
// GET /v2/campaigns/{campaignId}/orders?status=PROCESSING, keeping the
// orders not yet shipped (STARTED, READY_TO_SHIP...).
func (c *Client) NewOrders(ctx context.Context) ([]marketsim.Order, error) {
	var out []marketsim.Order
	err := c.listOrders(ctx, url.Values{"status": {"PROCESSING"}}, func(o order) {
		if m := o.order(c.campaignStr); m.State == marketsim.OrderAwaiting {
			out = append(out, m)
		}
	})
	return out, err
}

// OrderStatuses implements marketsim.OrderSource with the orderIds filter,
// MaxOrderIDs a request.
func (c *Client) OrderStatuses(ctx context.Context, ids []string) ([]marketsim.Order, error) {
	nums := make([]string, 0, len(ids))
	for _, id := range ids {
		if n, err := strconv.ParseInt(id, 10, 64); err == nil && n > 0 {
			nums = append(nums, id)
		}
	}
	var out []marketsim.Order
	for start := 0; start < len(nums); start += MaxOrderIDs {
		q := url.Values{"orderIds": {strings.Join(nums[start:min(start+MaxOrderIDs, len(nums))], ",")}}
		if err := c.listOrders(ctx, q, func(o order) { out = append(out, o.order(c.campaignStr)) }); err != nil {
			return out, err
		}
	}
	return out, nil
}

func (c *Client) listOrders(ctx context.Context, q url.Values, each func(order)) error {
	q.Set("limit", strconv.Itoa(MaxOrdersPage))
	for page := 0; page < MaxOrderPages; page++ {
		var resp ordersResponse
		err := c.do(ctx, call{method: http.MethodGet, path: "/v2/campaigns/" + c.campaignStr + "/orders?" + q.Encode(),
			group: c.opt.Limiters.Orders, cost: 1, slot: c.campaignSlot}, &resp)
		if err != nil {
			return err
		}
		for _, o := range resp.Orders {
			each(o)
		}
		if resp.Paging.NextPageToken == "" {
			return nil
		}
		q.Set("page_token", resp.Paging.NextPageToken)
	}
	return nil
}

func (o order) order(campaign string) marketsim.Order {
	created, _ := time.ParseInLocation(creationDateLayout, o.CreationDate, moscow)
	m := marketsim.Order{
		ID:          strconv.FormatInt(o.ID, 10),
		State:       StateOf(o.Status, o.Substatus),
		RawStatus:   o.Status,
		WarehouseID: campaign,
		CreatedAt:   created,
		Lines:       make([]marketsim.OrderLine, 0, len(o.Items)),
	}
	if o.Substatus != "" {
		m.RawStatus += "/" + o.Substatus
	}
	for _, it := range o.Items {
		m.Lines = append(m.Lines, marketsim.OrderLine{OfferID: it.OfferID, Qty: it.Count})
		if it.PartnerWarehouseID != "" {
			m.WarehouseID = it.PartnerWarehouseID
		}
	}
	return m
}

// StateOf maps an order's status and substatus to what it means for stock.
func StateOf(status, substatus string) marketsim.OrderState {
	switch status {
	case "PROCESSING":
		if substatus == "SHIPPED" {
			return marketsim.OrderShipped
		}
		return marketsim.OrderAwaiting
	case "DELIVERY", "PICKUP", "DELIVERED", "PARTIALLY_RETURNED", "RETURNED":
		return marketsim.OrderShipped
	case "CANCELLED":
		return marketsim.OrderCancelled
	}
	return marketsim.OrderOther
}
