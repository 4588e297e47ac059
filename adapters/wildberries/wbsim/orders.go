package wbsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"stockd/adapters/marketsim"
)

// AssemblyTask is a simulated FBS assembly task: one unit of one size.
type AssemblyTask struct {
	ID             int64
	OrderUID       string
	RID            string
	NmID           int64
	ChrtID         int64
	WarehouseID    int64
	CreatedAt      time.Time
	SupplierStatus string // new, confirm, complete, cancel
	WBStatus       string // waiting, sorted, canceled_by_client, ...
	CancelAt       time.Time
}

// PlaceOrder creates one assembly task per unit of each line (the offer
// is a chrtId) and returns their ids.
func (s *Sim) PlaceOrder(warehouseID string, lines ...marketsim.OrderLine) ([]string, error) {
	wh, err := strconv.ParseInt(warehouseID, 10, 64)
	if err != nil || wh <= 0 {
		return nil, fmt.Errorf("wbsim: warehouse %q is not a positive integer", warehouseID)
	}
	for _, l := range lines {
		if c, err := strconv.ParseInt(l.OfferID, 10, 64); err != nil || c <= 0 || l.Qty < 1 {
			return nil, fmt.Errorf("wbsim: line %+v needs a chrtId and a positive quantity", l)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.syncLocked(now)
	return s.createLocked(wh, lines, now, time.Time{}), nil
}

// CancelOrder cancels a new assembly task as the buyer would.
func (s *Sim) CancelOrder(id string) bool {
	n, _ := strconv.ParseInt(id, 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cancelLocked(n)
}

// ShipOrder hands a task to WB: supplier status complete, WB status sorted.
func (s *Sim) ShipOrder(id string) bool {
	n, _ := strconv.ParseInt(id, 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.orders[n]
	if t == nil || t.WBStatus != "waiting" {
		return false
	}
	t.SupplierStatus, t.WBStatus = "complete", "sorted"
	return true
}

// Orders returns every assembly task so far, oldest first.
func (s *Sim) Orders() []AssemblyTask {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.syncLocked(s.now())
	out := make([]AssemblyTask, 0, len(s.orderSeq))
	for _, id := range s.orderSeq {
		out = append(out, *s.orders[id])
	}
	return out
}

func (s *Sim) createLocked(wh int64, lines []marketsim.OrderLine, at, cancelAt time.Time) []string {
	s.seq++
	orderUID := fmt.Sprintf("sim_%d_%d", at.Unix(), s.seq)
	var ids []string
	for _, l := range lines {
		chrt, _ := strconv.ParseInt(l.OfferID, 10, 64)
		for range l.Qty {
			id := int64(1_000_000_000) + int64(len(s.orderSeq)) + 1
			t := &AssemblyTask{ID: id, OrderUID: orderUID, RID: fmt.Sprintf("%d.%s.0.0", id, orderUID),
				NmID: s.sizes[chrt], ChrtID: chrt, WarehouseID: wh, CreatedAt: at.UTC(),
				SupplierStatus: "new", WBStatus: "waiting", CancelAt: cancelAt}
			s.orders[id] = t
			s.orderSeq = append(s.orderSeq, id)
			ids = append(ids, strconv.FormatInt(id, 10))
		}
	}
	return ids
}

func (s *Sim) cancelLocked(id int64) bool {
	t := s.orders[id]
	if t == nil || t.WBStatus != "waiting" {
		return false
	}
	t.WBStatus = "canceled_by_client"
	return true
}

// syncLocked makes the tasks the demand generated up to now and carries
// out due cancellations.
func (s *Sim) syncLocked(now time.Time) {
	for _, g := range s.gen.Due(now) {
		wh, err := strconv.ParseInt(g.WarehouseID, 10, 64)
		if err != nil {
			continue
		}
		var lines []marketsim.OrderLine
		for _, l := range g.Lines {
			if c, err := strconv.ParseInt(l.OfferID, 10, 64); err == nil && c > 0 {
				lines = append(lines, l)
			}
		}
		s.createLocked(wh, lines, g.At, g.CancelAt)
	}
	for _, id := range s.orderSeq {
		t := s.orders[id]
		if !t.CancelAt.IsZero() && !now.Before(t.CancelAt) {
			s.cancelLocked(id)
			t.CancelAt = time.Time{}
		}
	}
}

type orderOut struct {
	ID                    int64    `json:"id"`
	RID                   string   `json:"rid"`
	OrderUID              string   `json:"orderUid"`
	Article               string   `json:"article"`
	NmID                  int64    `json:"nmId"`
	ChrtID                int64    `json:"chrtId"`
	SKUs                  []string `json:"skus"`
	WarehouseID           int64    `json:"warehouseId"`
	Offices               []string `json:"offices"`
	Price                 int64    `json:"price"`
	ConvertedPrice        int64    `json:"convertedPrice"`
	CurrencyCode          int      `json:"currencyCode"`
	ConvertedCurrencyCode int      `json:"convertedCurrencyCode"`
	CargoType             int      `json:"cargoType"`
	DeliveryType          string   `json:"deliveryType"`
	CreatedAt             string   `json:"createdAt"`
}

// handleOrdersNew answers GET /api/v3/orders/new.
func (s *Sim) handleOrdersNew(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.syncLocked(s.now())
	out := []orderOut{}
	for _, id := range s.orderSeq {
		t := s.orders[id]
		if t.SupplierStatus != "new" || t.WBStatus != "waiting" {
			continue
		}
		out = append(out, orderOut{ID: t.ID, RID: t.RID, OrderUID: t.OrderUID, Article: s.vendor[t.NmID],
			NmID: t.NmID, ChrtID: t.ChrtID, SKUs: []string{fmt.Sprintf("20%011d", t.ChrtID%1e11)},
			WarehouseID: t.WarehouseID, Offices: []string{"Москва"}, Price: 99900, ConvertedPrice: 99900,
			CurrencyCode: 643, ConvertedCurrencyCode: 643, CargoType: 1, DeliveryType: "fbs",
			CreatedAt: t.CreatedAt.Format(time.RFC3339)})
	}
	s.mu.Unlock()
	marketsim.WriteJSON(w, http.StatusOK, map[string]any{"orders": out})
}

// handleOrdersStatus answers POST /api/v3/orders/status {"orders": [ids]}.
func (s *Sim) handleOrdersStatus(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Orders []int64 `json:"orders"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Orders) == 0 {
		s.violations.Add(ViolationInvalid)
		writeMarketError(w, http.StatusBadRequest, "IncorrectRequestBody", "Некорректное тело запроса")
		return
	}
	if len(req.Orders) > s.cfg.MaxStatusBatch {
		s.violations.Add(ViolationBatchSize)
		writeMarketError(w, http.StatusBadRequest, "IncorrectRequestBody", "Превышено количество заказов в запросе")
		return
	}
	type statusOut struct {
		ID             int64  `json:"id"`
		SupplierStatus string `json:"supplierStatus"`
		WBStatus       string `json:"wbStatus"`
	}
	s.mu.Lock()
	s.syncLocked(s.now())
	out := []statusOut{}
	for _, id := range req.Orders {
		if t := s.orders[id]; t != nil {
			out = append(out, statusOut{ID: id, SupplierStatus: t.SupplierStatus, WBStatus: t.WBStatus})
		}
	}
	s.mu.Unlock()
	marketsim.WriteJSON(w, http.StatusOK, map[string]any{"orders": out})
}
