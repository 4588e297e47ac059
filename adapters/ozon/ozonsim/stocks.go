package ozonsim

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

	"stockd/adapters/marketsim"
)

// maxOfferIDRunes is the longest offer_id the schema allows.
const maxOfferIDRunes = 50

type stockIn struct {
	OfferID     string `json:"offer_id"`
	ProductID   int64  `json:"product_id"`
	Stock       *int64 `json:"stock"`
	WarehouseID int64  `json:"warehouse_id"`
	QuantSize   int64  `json:"quant_size"`
}

type itemErr struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type stockOut struct {
	WarehouseID int64     `json:"warehouse_id"`
	ProductID   int64     `json:"product_id"`
	OfferID     string    `json:"offer_id"`
	Updated     bool      `json:"updated"`
	Errors      []itemErr `json:"errors"`
}

func (s *Sim) handleStocks(w http.ResponseWriter, body []byte, now time.Time) {
	var req struct {
		Stocks []stockIn `json:"stocks"`
	}
	if !decode(w, body, &req) {
		return
	}
	switch {
	case len(req.Stocks) == 0:
		s.violations.Add(ViolationInvalid)
		writeError(w, http.StatusBadRequest, 3, "stocks: value must contain at least 1 item(s)")
		return
	case len(req.Stocks) > s.cfg.MaxStockBatch:
		s.violations.Add(ViolationBatchSize)
		writeError(w, http.StatusBadRequest, 3,
			fmt.Sprintf("stocks: value must contain at most %d item(s)", s.cfg.MaxStockBatch))
		return
	}
	for _, in := range req.Stocks {
		if msg := schemaProblem(in); msg != "" {
			s.violations.Add(ViolationInvalid)
			writeError(w, http.StatusBadRequest, 3, msg)
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]stockOut, 0, len(req.Stocks))
	for _, in := range req.Stocks {
		out = append(out, s.applyStockLocked(in, now))
	}
	marketsim.WriteJSON(w, http.StatusOK, map[string]any{"result": out})
}

// schemaProblem is what the schema says about one item, "" when valid.
func schemaProblem(in stockIn) string {
	switch {
	case in.OfferID == "" && in.ProductID == 0:
		return "stocks: offer_id or product_id is required"
	case utf8.RuneCountInString(in.OfferID) > maxOfferIDRunes:
		return fmt.Sprintf("stocks.offer_id: value length must be at most %d runes", maxOfferIDRunes)
	case in.Stock == nil:
		return "stocks.stock: value is required"
	case *in.Stock < 0:
		return "stocks.stock: value must be greater than or equal to 0"
	case in.WarehouseID <= 0:
		return "stocks.warehouse_id: value must be greater than 0"
	}
	return ""
}

// applyStockLocked decides one item. The per-item codes other than
// TOO_MANY_REQUESTS are the simulator's own: Ozon's full list is
// UNCONFIRMED.
func (s *Sim) applyStockLocked(in stockIn, now time.Time) stockOut {
	out := stockOut{WarehouseID: in.WarehouseID, ProductID: in.ProductID, OfferID: in.OfferID, Errors: []itemErr{}}
	offerID := in.OfferID
	if offerID == "" {
		offerID = s.offerByProduct(in.ProductID)
	}
	prodID, known := s.offers[offerID]
	if !known && s.cfg.AutoCreateOffers && offerID != "" {
		prodID, known = s.addOfferLocked(offerID), true
	}
	if !known {
		out.Errors = append(out.Errors, itemErr{Code: "NOT_FOUND", Message: "Product not found"})
		return out
	}
	out.ProductID = prodID
	if len(s.warehouses) > 0 && !s.warehouses[in.WarehouseID] {
		out.Errors = append(out.Errors, itemErr{Code: "WAREHOUSE_NOT_FOUND", Message: "Warehouse not found"})
		return out
	}
	key := pair{offerID, in.WarehouseID}
	if last, ok := s.stocks[key]; ok && now.Sub(last.at) < s.cfg.StockCooldown {
		s.violations.Add(ViolationItemCooldown)
		out.Errors = append(out.Errors, itemErr{Code: "TOO_MANY_REQUESTS", Message: "Stock is updated too frequently"})
		return out
	}
	s.stocks[key] = stockEntry{qty: *in.Stock, at: now}
	out.Updated = true
	return out
}

func (s *Sim) offerByProduct(productID int64) string {
	for offerID, id := range s.offers {
		if id == productID {
			return offerID
		}
	}
	return ""
}

type stocksReadIn struct {
	Cursor  string   `json:"cursor"`
	Limit   int64    `json:"limit"`
	OfferID []string `json:"offer_id"`
	SKU     []string `json:"sku"`
}

type stockReadOut struct {
	OfferID       string `json:"offer_id"`
	ProductID     int64  `json:"product_id"`
	SKU           int64  `json:"sku"`
	WarehouseID   int64  `json:"warehouse_id"`
	WarehouseName string `json:"warehouse_name"`
	Present       int64  `json:"present"`
	Reserved      int64  `json:"reserved"`
	FreeStock     int64  `json:"free_stock"`
}

// handleStocksRead answers /v2/product/info/stocks-by-warehouse/fbs:
// present = the stock last sent + units held by awaiting postings.
func (s *Sim) handleStocksRead(w http.ResponseWriter, body []byte) {
	var req stocksReadIn
	if !decode(w, body, &req) {
		return
	}
	if req.Limit < 1 || req.Limit > 1000 {
		s.violations.Add(ViolationInvalid)
		writeError(w, http.StatusBadRequest, 3, "limit: value must be between 1 and 1000")
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
	all := s.stockRowsLocked(req.OfferID)
	s.mu.Unlock()
	end := min(offset+int(req.Limit), len(all))
	page := []stockReadOut{}
	if offset < end {
		page = all[offset:end]
	}
	resp := map[string]any{"products": page, "has_next": end < len(all), "cursor": ""}
	if end < len(all) {
		resp["cursor"] = strconv.Itoa(end)
	}
	marketsim.WriteJSON(w, http.StatusOK, resp)
}

func (s *Sim) stockRowsLocked(offerIDs []string) []stockReadOut {
	want := make(map[string]bool, len(offerIDs))
	for _, id := range offerIDs {
		want[id] = true
	}
	reserved := s.reservedLocked()
	var rows []stockReadOut
	for k, e := range s.stocks {
		if !want[k.offerID] {
			continue
		}
		res := reserved[k]
		rows = append(rows, stockReadOut{
			OfferID: k.offerID, ProductID: s.offers[k.offerID], SKU: s.offers[k.offerID] + 1e9,
			WarehouseID: k.warehouseID, WarehouseName: "FBS " + strconv.FormatInt(k.warehouseID, 10),
			Present: e.qty + res, Reserved: res, FreeStock: e.qty,
		})
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].OfferID != rows[j].OfferID {
			return rows[i].OfferID < rows[j].OfferID
		}
		return rows[i].WarehouseID < rows[j].WarehouseID
	})
	return rows
}
