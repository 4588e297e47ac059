package ymsim

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"stockd/adapters/marketsim"
)

// moscow is the zone of YM's order dates.
var moscow = time.FixedZone("MSK", 3*3600)

// Order is a simulated FBS order.
type Order struct {
	ID        int64
	Campaign  int64
	Status    string // PROCESSING, CANCELLED, DELIVERY...
	Substatus string // STARTED, READY_TO_SHIP, SHIPPED, USER_CHANGED_MIND...
	CreatedAt time.Time
	Warehouse string // partnerWarehouseId of the items
	Lines     []marketsim.OrderLine
	CancelAt  time.Time
}

// PlaceOrder creates a PROCESSING/STARTED order in the first campaign
// and returns its id.
func (s *Sim) PlaceOrder(warehouse string, lines ...marketsim.OrderLine) (string, error) {
	if len(lines) == 0 || len(s.cfg.CampaignIDs) == 0 {
		return "", fmt.Errorf("ymsim: an order needs lines and a campaign")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	s.syncLocked(now)
	return strconv.FormatInt(s.createLocked(warehouse, lines, now, time.Time{}), 10), nil
}

// CancelOrder cancels an order not yet shipped, as the buyer would.
func (s *Sim) CancelOrder(id string) bool {
	n, _ := strconv.ParseInt(id, 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cancelLocked(n)
}

// ShipOrder hands an order to delivery (PROCESSING/SHIPPED).
func (s *Sim) ShipOrder(id string) bool {
	n, _ := strconv.ParseInt(id, 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[n]
	if o == nil || o.Status != "PROCESSING" || o.Substatus == "SHIPPED" {
		return false
	}
	o.Substatus = "SHIPPED"
	return true
}

// Orders returns every order so far, oldest first.
func (s *Sim) Orders() []Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.syncLocked(s.cfg.Now())
	out := make([]Order, 0, len(s.orderSeq))
	for _, id := range s.orderSeq {
		o := *s.orders[id]
		o.Lines = append([]marketsim.OrderLine(nil), o.Lines...)
		out = append(out, o)
	}
	return out
}

func (s *Sim) createLocked(warehouse string, lines []marketsim.OrderLine, at, cancelAt time.Time) int64 {
	s.seq++
	id := 50_000_000 + s.seq
	s.orders[id] = &Order{ID: id, Campaign: s.cfg.CampaignIDs[0], Status: "PROCESSING", Substatus: "STARTED",
		CreatedAt: at, Warehouse: warehouse, Lines: append([]marketsim.OrderLine(nil), lines...), CancelAt: cancelAt}
	s.orderSeq = append(s.orderSeq, id)
	for _, l := range lines {
		s.offers[l.OfferID] = true
	}
	return id
}

func (s *Sim) cancelLocked(id int64) bool {
	o := s.orders[id]
	if o == nil || o.Status != "PROCESSING" || o.Substatus == "SHIPPED" {
		return false
	}
	o.Status, o.Substatus = "CANCELLED", "USER_CHANGED_MIND"
	return true
}

func (s *Sim) syncLocked(now time.Time) {
	if len(s.cfg.CampaignIDs) == 0 {
		return
	}
	for _, g := range s.gen.Due(now) {
		if len(g.Lines) > 0 {
			s.createLocked(g.WarehouseID, g.Lines, g.At, g.CancelAt)
		}
	}
	for _, id := range s.orderSeq {
		o := s.orders[id]
		if !o.CancelAt.IsZero() && !now.Before(o.CancelAt) {
			s.cancelLocked(id)
			o.CancelAt = time.Time{}
		}
	}
}

// reservedLocked sums the units of orders not yet shipped per SKU.
func (s *Sim) reservedLocked() map[string]int64 {
	out := map[string]int64{}
	for _, o := range s.orders {
		if o.Status == "PROCESSING" && o.Substatus != "SHIPPED" {
			for _, l := range o.Lines {
				out[l.OfferID] += l.Qty
			}
		}
	}
	return out
}

type orderItemOut struct {
	ID                 int64   `json:"id"`
	OfferID            string  `json:"offerId"`
	OfferName          string  `json:"offerName"`
	Price              float64 `json:"price"`
	BuyerPrice         float64 `json:"buyerPrice"`
	Count              int64   `json:"count"`
	Vat                string  `json:"vat"`
	ShopSKU            string  `json:"shopSku"`
	PartnerWarehouseID string  `json:"partnerWarehouseId,omitempty"`
}

type orderOut struct {
	ID            int64          `json:"id"`
	Status        string         `json:"status"`
	Substatus     string         `json:"substatus"`
	CreationDate  string         `json:"creationDate"`
	UpdatedAt     string         `json:"updatedAt"`
	Currency      string         `json:"currency"`
	ItemsTotal    float64        `json:"itemsTotal"`
	PaymentType   string         `json:"paymentType"`
	PaymentMethod string         `json:"paymentMethod"`
	Fake          bool           `json:"fake"`
	Items         []orderItemOut `json:"items"`
	Delivery      map[string]any `json:"delivery"`
}

func (o *Order) out() orderOut {
	date := o.CreatedAt.In(moscow).Format("02-01-2006 15:04:05")
	out := orderOut{ID: o.ID, Status: o.Status, Substatus: o.Substatus, CreationDate: date, UpdatedAt: date,
		Currency: "RUR", PaymentType: "PREPAID", PaymentMethod: "YANDEX",
		Delivery: map[string]any{"type": "DELIVERY", "deliveryPartnerType": "YANDEX_MARKET"}}
	for i, l := range o.Lines {
		out.Items = append(out.Items, orderItemOut{ID: o.ID*10 + int64(i), OfferID: l.OfferID, OfferName: l.OfferID,
			Price: 1000, BuyerPrice: 1000, Count: l.Qty, Vat: "NO_VAT", ShopSKU: l.OfferID, PartnerWarehouseID: o.Warehouse})
		out.ItemsTotal += 1000 * float64(l.Qty)
	}
	return out
}

// listParam reads a list filter, repeated or comma-separated.
func listParam(r *http.Request, name string) []string {
	var out []string
	for _, v := range r.URL.Query()[name] {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// handleOrders answers GET /v2/campaigns/{campaignId}/orders with the
// status, substatus and orderIds filters and page_token/limit pages.
func (s *Sim) handleOrders(w http.ResponseWriter, r *http.Request) {
	if !s.quota(w, s.orderReqs, ViolationQuotaOrders, 1) {
		return
	}
	q := r.URL.Query()
	limit := s.cfg.MaxOrdersPage
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > s.cfg.MaxOrdersPage {
			s.violations.Add(ViolationBatchSize)
			writeError(w, http.StatusBadRequest, "BAD_REQUEST", fmt.Sprintf("limit: must be between 1 and %d", s.cfg.MaxOrdersPage))
			return
		}
		limit = n
	}
	statuses := set(listParam(r, "status"))
	substatuses := set(listParam(r, "substatus"))
	ids := listParam(r, "orderIds")
	if len(ids) > 50 {
		s.violations.Add(ViolationBatchSize)
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", "orderIds: size must be between 1 and 50")
		return
	}
	offset := 0
	if t := q.Get("page_token"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 {
			s.badRequest(w, "Invalid page_token")
			return
		}
		offset = n
	}
	campaign, _ := strconv.ParseInt(r.PathValue("campaignId"), 10, 64)
	wantIDs := set(ids)
	s.mu.Lock()
	s.syncLocked(s.cfg.Now())
	var match []orderOut
	for _, id := range s.orderSeq {
		o := s.orders[id]
		switch {
		case o.Campaign != campaign:
		case len(wantIDs) > 0 && !wantIDs[strconv.FormatInt(id, 10)]:
		case len(statuses) > 0 && !statuses[o.Status]:
		case len(substatuses) > 0 && !substatuses[o.Substatus]:
		default:
			match = append(match, o.out())
		}
	}
	s.mu.Unlock()
	end := min(offset+limit, len(match))
	page := []orderOut{}
	if offset < end {
		page = match[offset:end]
	}
	paging := map[string]string{}
	if end < len(match) {
		paging["nextPageToken"] = strconv.Itoa(end)
	}
	marketsim.WriteJSON(w, http.StatusOK, map[string]any{
		"pager":  map[string]int{"total": len(match), "from": offset + 1, "to": end, "pageSize": limit},
		"orders": page, "paging": paging,
	})
}

func set(v []string) map[string]bool {
	m := make(map[string]bool, len(v))
	for _, s := range v {
		m[s] = true
	}
	return m
}
