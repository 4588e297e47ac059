package ymsim

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"stockd/adapters/marketsim"
)

const maxCount = 2_000_000_000

// validSKU applies YM's pattern ^(?=.*\S.*)[^\x00-\x08\x0A-\x1f\x7f]{1,255}$
// (RE2 has no lookahead, so it is spelt out).
func validSKU(sku string) bool {
	if !utf8.ValidString(sku) || sku == "" || utf8.RuneCountInString(sku) > 255 || strings.TrimSpace(sku) == "" {
		return false
	}
	for _, r := range sku {
		if r <= 0x08 || (r >= 0x0A && r <= 0x1F) || r == 0x7F {
			return false
		}
	}
	return true
}

func (s *Sim) badRequest(w http.ResponseWriter, msg string) {
	s.violations.Add(ViolationInvalid)
	writeError(w, http.StatusBadRequest, "BAD_REQUEST", msg)
}

// knownLocked reports whether a SKU is in the catalogue (adding it when
// AutoCreateOffers is set).
func (s *Sim) knownLocked(sku string) bool {
	if !s.offers[sku] && s.cfg.AutoCreateOffers {
		s.offers[sku] = true
	}
	return s.offers[sku]
}

func validStamp(v string) bool {
	if v == "" {
		return true // defaults to now
	}
	_, err := time.Parse(time.RFC3339, v)
	return err == nil
}

// handleCampaignStocks answers PUT /v2/campaigns/{campaignId}/offers/stocks.
func (s *Sim) handleCampaignStocks(w http.ResponseWriter, r *http.Request) {
	var req struct {
		SKUs []struct {
			SKU   string `json:"sku"`
			Items []struct {
				Count     *int64 `json:"count"`
				UpdatedAt string `json:"updatedAt"`
			} `json:"items"`
		} `json:"skus"`
	}
	decodeErr := json.NewDecoder(r.Body).Decode(&req)
	if !s.quota(w, s.stockOffers, ViolationQuotaStocks, max(int64(len(req.SKUs)), 1)) {
		return
	}
	switch {
	case decodeErr != nil:
		s.badRequest(w, "Invalid request body")
		return
	case len(req.SKUs) == 0:
		s.badRequest(w, "skus: size must be between 1 and 2000")
		return
	case len(req.SKUs) > s.cfg.MaxStockBatch:
		s.violations.Add(ViolationBatchSize)
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", "skus: size must be between 1 and 2000")
		return
	}
	seen := map[string]bool{}
	for _, it := range req.SKUs {
		switch {
		case !validSKU(it.SKU):
			s.badRequest(w, "Value of field must match the pattern: 'sku'")
			return
		case len(it.Items) != 1:
			s.badRequest(w, "items: size must be between 1 and 1")
			return
		case it.Items[0].Count == nil || *it.Items[0].Count < 0 || *it.Items[0].Count > maxCount:
			s.badRequest(w, "count: must be between 0 and 2000000000")
			return
		case !validStamp(it.Items[0].UpdatedAt):
			s.badRequest(w, "updatedAt: invalid date-time")
			return
		case seen[it.SKU]:
			s.badRequest(w, "Duplicate sku: "+it.SKU)
			return
		}
		seen[it.SKU] = true
	}
	campaign := r.PathValue("campaignId")
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, it := range req.SKUs {
		if !s.knownLocked(it.SKU) {
			s.badRequest(w, "Offer not found: "+it.SKU)
			return
		}
	}
	for _, it := range req.SKUs {
		s.stocks[stockKey{it.SKU, campaign}] = Stock{Count: *it.Items[0].Count, UpdatedAt: it.Items[0].UpdatedAt}
	}
	writeOK(w)
}

// handleWarehouseStocks answers
// POST /v3/businesses/{businessId}/offers/stocks/update. Its reply shape
// is UNCONFIRMED; the simulator answers {"status":"OK"}.
func (s *Sim) handleWarehouseStocks(w http.ResponseWriter, r *http.Request) {
	var req struct {
		SKUItems []struct {
			SKU                string `json:"sku"`
			PartnerWarehouseID int64  `json:"partnerWarehouseId"`
			Count              *int64 `json:"count"`
			UpdatedAt          string `json:"updatedAt"`
		} `json:"skuItems"`
	}
	decodeErr := json.NewDecoder(r.Body).Decode(&req)
	if !s.quota(w, s.stockReqs, ViolationQuotaStockW, 1) {
		return
	}
	switch {
	case decodeErr != nil:
		s.badRequest(w, "Invalid request body")
		return
	case len(req.SKUItems) == 0:
		s.badRequest(w, "skuItems: size must be between 1 and 2000")
		return
	case len(req.SKUItems) > s.cfg.MaxStockBatch:
		s.violations.Add(ViolationBatchSize)
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", "skuItems: size must be between 1 and 2000")
		return
	}
	seen := map[stockKey]bool{}
	for _, it := range req.SKUItems {
		key := stockKey{it.SKU, strconv.FormatInt(it.PartnerWarehouseID, 10)}
		switch {
		case !validSKU(it.SKU):
			s.badRequest(w, "Value of field must match the pattern: 'sku'")
			return
		case it.Count == nil || *it.Count < 0 || *it.Count > maxCount:
			s.badRequest(w, "count: must be between 0 and 2000000000")
			return
		case !validStamp(it.UpdatedAt):
			s.badRequest(w, "updatedAt: invalid date-time")
			return
		case len(s.warehouses) > 0 && !s.warehouses[it.PartnerWarehouseID]:
			s.badRequest(w, "Warehouse not found: "+key.warehouse)
			return
		case seen[key]:
			s.badRequest(w, "Duplicate sku and partnerWarehouseId: "+it.SKU)
			return
		}
		seen[key] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, it := range req.SKUItems {
		if !s.knownLocked(it.SKU) {
			s.badRequest(w, "Offer not found: "+it.SKU)
			return
		}
	}
	for _, it := range req.SKUItems {
		s.stocks[stockKey{it.SKU, strconv.FormatInt(it.PartnerWarehouseID, 10)}] = Stock{Count: *it.Count, UpdatedAt: it.UpdatedAt}
	}
	writeOK(w)
}

type stockTypeOut struct {
	Type  string `json:"type"`
	Count int64  `json:"count"`
}

type offerStocksOut struct {
	OfferID   string         `json:"offerId"`
	Stocks    []stockTypeOut `json:"stocks"`
	UpdatedAt string         `json:"updatedAt,omitempty"`
}

type warehouseOut struct {
	WarehouseID int64            `json:"warehouseId"`
	Offers      []offerStocksOut `json:"offers"`
}

// handleStocksRead answers POST /v2/campaigns/{campaignId}/offers/stocks:
// AVAILABLE is the count last sent, FREEZE the units of open orders, FIT
// both together.
func (s *Sim) handleStocksRead(w http.ResponseWriter, r *http.Request) {
	var req struct {
		OfferIDs []string `json:"offerIds"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		s.badRequest(w, "Invalid request body")
		return
	}
	limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if err != nil || limit < 1 || limit > 100 {
		s.badRequest(w, "limit: must be between 1 and 100")
		return
	}
	offset := 0
	if t := r.URL.Query().Get("page_token"); t != "" {
		if offset, err = strconv.Atoi(t); err != nil || offset < 0 {
			s.badRequest(w, "Invalid page_token")
			return
		}
	}
	want := map[string]bool{}
	for _, id := range req.OfferIDs {
		want[id] = true
	}
	type row struct {
		wh    int64
		offer offerStocksOut
	}
	s.mu.Lock()
	reserved := s.reservedLocked()
	var rows []row
	for k, st := range s.stocks {
		if len(want) > 0 && !want[k.sku] {
			continue
		}
		wh, _ := strconv.ParseInt(k.warehouse, 10, 64)
		res := reserved[k.sku]
		rows = append(rows, row{wh, offerStocksOut{OfferID: k.sku, UpdatedAt: st.UpdatedAt, Stocks: []stockTypeOut{
			{Type: "FIT", Count: st.Count + res}, {Type: "AVAILABLE", Count: st.Count}, {Type: "FREEZE", Count: res}}}})
	}
	s.mu.Unlock()
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].wh != rows[j].wh {
			return rows[i].wh < rows[j].wh
		}
		return rows[i].offer.OfferID < rows[j].offer.OfferID
	})
	end := min(offset+limit, len(rows))
	whs := []warehouseOut{}
	for i := offset; i < end; i++ {
		if len(whs) == 0 || whs[len(whs)-1].WarehouseID != rows[i].wh {
			whs = append(whs, warehouseOut{WarehouseID: rows[i].wh})
		}
		whs[len(whs)-1].Offers = append(whs[len(whs)-1].Offers, rows[i].offer)
	}
	paging := map[string]string{}
	if end < len(rows) {
		paging["nextPageToken"] = strconv.Itoa(end)
	}
	marketsim.WriteJSON(w, http.StatusOK, map[string]any{"status": "OK",
		"result": map[string]any{"paging": paging, "warehouses": whs}})
}
