package ozonsim

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"stockd/adapters/marketsim"
)

// Posting statuses the simulator uses.
const (
	StatusAwaitingPackaging = "awaiting_packaging"
	StatusDelivering        = "delivering"
	StatusCancelled         = "cancelled"
)

// Posting is a simulated FBS posting.
type Posting struct {
	PostingNumber string
	OrderID       int64
	OrderNumber   string
	Status        string
	WarehouseID   int64
	InProcessAt   time.Time
	ShipmentDate  time.Time
	Lines         []marketsim.OrderLine
	CancelAt      time.Time // zero: not scheduled
	CancelReason  string
}

// PlaceOrder creates an awaiting posting now, as a buyer would, and
// returns its posting number.
func (s *Sim) PlaceOrder(warehouseID string, lines ...marketsim.OrderLine) (string, error) {
	wh, err := strconv.ParseInt(warehouseID, 10, 64)
	if err != nil || wh <= 0 {
		return "", fmt.Errorf("ozonsim: warehouse %q is not a positive integer", warehouseID)
	}
	if len(lines) == 0 {
		return "", fmt.Errorf("ozonsim: an order needs lines")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	s.syncLocked(now)
	return s.createLocked(wh, lines, now, time.Time{}), nil
}

// CancelOrder cancels an awaiting posting, as a buyer would.
func (s *Sim) CancelOrder(postingNumber string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cancelLocked(postingNumber, "Покупатель отменил заказ")
}

// ShipOrder hands an awaiting posting to delivery.
func (s *Sim) ShipOrder(postingNumber string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.postings[postingNumber]
	if p == nil || p.Status != StatusAwaitingPackaging {
		return false
	}
	p.Status = StatusDelivering
	return true
}

// Postings returns every posting so far, generated ones included, oldest
// first.
func (s *Sim) Postings() []Posting {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.syncLocked(s.cfg.Now())
	out := make([]Posting, 0, len(s.order))
	for _, n := range s.order {
		p := *s.postings[n]
		p.Lines = append([]marketsim.OrderLine(nil), p.Lines...)
		out = append(out, p)
	}
	return out
}

func (s *Sim) createLocked(wh int64, lines []marketsim.OrderLine, at, cancelAt time.Time) string {
	s.seq++
	orderNumber := fmt.Sprintf("%08d-%04d", 40000000+s.seq, s.seq%10000)
	p := &Posting{
		PostingNumber: orderNumber + "-1",
		OrderID:       30000000000 + s.seq,
		OrderNumber:   orderNumber,
		Status:        StatusAwaitingPackaging,
		WarehouseID:   wh,
		InProcessAt:   at.UTC(),
		ShipmentDate:  at.UTC().Add(24 * time.Hour),
		Lines:         append([]marketsim.OrderLine(nil), lines...),
		CancelAt:      cancelAt,
	}
	for _, l := range lines {
		s.addOfferLocked(l.OfferID)
	}
	s.postings[p.PostingNumber] = p
	s.order = append(s.order, p.PostingNumber)
	return p.PostingNumber
}

func (s *Sim) cancelLocked(postingNumber, reason string) bool {
	p := s.postings[postingNumber]
	if p == nil || p.Status != StatusAwaitingPackaging {
		return false
	}
	p.Status = StatusCancelled
	p.CancelReason = reason
	return true
}

// syncLocked creates the postings the demand generated up to now and
// carries out the cancellations that are due.
func (s *Sim) syncLocked(now time.Time) {
	for _, g := range s.gen.Due(now) {
		wh, err := strconv.ParseInt(g.WarehouseID, 10, 64)
		if err != nil || len(g.Lines) == 0 {
			continue
		}
		s.createLocked(wh, g.Lines, g.At, g.CancelAt)
	}
	for _, n := range s.order {
		p := s.postings[n]
		if !p.CancelAt.IsZero() && !now.Before(p.CancelAt) {
			s.cancelLocked(n, "Покупатель отменил заказ")
			p.CancelAt = time.Time{}
		}
	}
}

// reservedLocked sums the units of awaiting postings per pair.
func (s *Sim) reservedLocked() map[pair]int64 {
	out := make(map[pair]int64)
	for _, p := range s.postings {
		if p.Status != StatusAwaitingPackaging {
			continue
		}
		for _, l := range p.Lines {
			out[pair{l.OfferID, p.WarehouseID}] += l.Qty
		}
	}
	return out
}

type unfulfilledIn struct {
	Cursor  string `json:"cursor"`
	Limit   int64  `json:"limit"`
	SortDir string `json:"sort_dir"`
	Filter  struct {
		CutoffFrom         string `json:"cutoff_from"`
		CutoffTo           string `json:"cutoff_to"`
		DeliveringDateFrom string `json:"delivering_date_from"`
		DeliveringDateTo   string `json:"delivering_date_to"`
	} `json:"filter"`
}

type money struct {
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
}

type deliveryMethod struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	WarehouseID int64  `json:"warehouse_id"`
	Warehouse   string `json:"warehouse"`
}

type cancellation struct {
	CancelReasonID        int64  `json:"cancel_reason_id"`
	CancelReason          string `json:"cancel_reason"`
	CancellationType      string `json:"cancellation_type"`
	CancelledAfterShip    bool   `json:"cancelled_after_ship"`
	AffectCancelRating    bool   `json:"affect_cancellation_rating"`
	CancellationInitiator string `json:"cancellation_initiator"`
}

type postingOut struct {
	PostingNumber  string         `json:"posting_number"`
	OrderID        int64          `json:"order_id"`
	OrderNumber    string         `json:"order_number"`
	Status         string         `json:"status"`
	Substatus      string         `json:"substatus"`
	DeliveryMethod deliveryMethod `json:"delivery_method"`
	DeliverySchema string         `json:"delivery_schema"`
	TrackingNumber string         `json:"tracking_number"`
	InProcessAt    string         `json:"in_process_at"`
	ShipmentDate   string         `json:"shipment_date"`
	Cancellation   cancellation   `json:"cancellation"`
	Products       []any          `json:"products"`
}

func (p *Posting) out(v3 bool) postingOut {
	o := postingOut{
		PostingNumber: p.PostingNumber, OrderID: p.OrderID, OrderNumber: p.OrderNumber,
		Status: p.Status, Substatus: substatus(p.Status),
		DeliveryMethod: deliveryMethod{ID: p.WarehouseID, Name: "Ozon Логистика",
			WarehouseID: p.WarehouseID, Warehouse: strconv.FormatInt(p.WarehouseID, 10)},
		DeliverySchema: "fbs",
		InProcessAt:    p.InProcessAt.Format(time.RFC3339),
		ShipmentDate:   p.ShipmentDate.Format(time.RFC3339),
		Products:       make([]any, 0, len(p.Lines)),
	}
	if p.Status == StatusCancelled {
		o.Cancellation = cancellation{CancelReasonID: 402, CancelReason: p.CancelReason,
			CancellationType: "client", CancellationInitiator: "CLIENT"}
	}
	for i, l := range p.Lines {
		sku := int64(1_000_000_000 + i)
		if v3 {
			// v3 carries the price as a string with currency_code.
			o.Products = append(o.Products, map[string]any{"offer_id": l.OfferID, "name": l.OfferID,
				"sku": sku, "quantity": l.Qty, "price": "100.0000", "currency_code": "RUB"})
			continue
		}
		o.Products = append(o.Products, map[string]any{"offer_id": l.OfferID, "name": l.OfferID,
			"sku": sku, "quantity": l.Qty, "price": money{Amount: "100", Currency: "RUB"}})
	}
	return o
}

func substatus(status string) string {
	switch status {
	case StatusAwaitingPackaging:
		return "posting_created"
	case StatusDelivering:
		return "posting_transferred_to_courier_service"
	case StatusCancelled:
		return "posting_canceled"
	}
	return ""
}

func (s *Sim) handleUnfulfilled(w http.ResponseWriter, body []byte, now time.Time) {
	var req unfulfilledIn
	if !decode(w, body, &req) {
		return
	}
	f := req.Filter
	cutoff := f.CutoffFrom != "" || f.CutoffTo != ""
	delivering := f.DeliveringDateFrom != "" || f.DeliveringDateTo != ""
	switch {
	case req.Limit < 1 || req.Limit > 100:
		s.violations.Add(ViolationInvalid)
		writeError(w, http.StatusBadRequest, 3, "limit: value must be between 1 and 100")
		return
	case cutoff && delivering:
		s.violations.Add(ViolationInvalid)
		writeError(w, http.StatusBadRequest, 3, "filter: use either cutoff or delivering_date, not both")
		return
	}
	offset := 0
	if req.Cursor != "" {
		n, err := strconv.Atoi(req.Cursor)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, 3, "invalid cursor")
			return
		}
		offset = n
	}
	s.mu.Lock()
	s.syncLocked(now)
	var awaiting []postingOut
	for _, n := range s.order {
		if p := s.postings[n]; p.Status == StatusAwaitingPackaging {
			awaiting = append(awaiting, p.out(false))
		}
	}
	s.mu.Unlock()
	end := min(offset+int(req.Limit), len(awaiting))
	page := []postingOut{}
	if offset < end {
		page = awaiting[offset:end]
	}
	resp := map[string]any{"postings": page, "count": len(page), "has_next": end < len(awaiting), "cursor": ""}
	if end < len(awaiting) {
		resp["cursor"] = strconv.Itoa(end)
	}
	marketsim.WriteJSON(w, http.StatusOK, resp)
}

func (s *Sim) handlePostingGet(w http.ResponseWriter, body []byte, now time.Time) {
	var req struct {
		PostingNumber string `json:"posting_number"`
	}
	if !decode(w, body, &req) {
		return
	}
	s.mu.Lock()
	s.syncLocked(now)
	p := s.postings[req.PostingNumber]
	var out postingOut
	if p != nil {
		out = p.out(true)
	}
	s.mu.Unlock()
	if p == nil {
		writeError(w, http.StatusNotFound, 5, "Posting not found")
		return
	}
	marketsim.WriteJSON(w, http.StatusOK, map[string]any{"result": out})
}
