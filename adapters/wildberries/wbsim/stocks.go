package wbsim

import (
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strconv"
	"time"

	"stockd/adapters/marketsim"
)

type stockIn struct {
	ChrtID *int64 `json:"chrtId"`
	Amount *int64 `json:"amount"`
}

type stockOut struct {
	ChrtID int64 `json:"chrtId"`
	Amount int64 `json:"amount"`
}

// conflictOut is one element of WB's 409 array.
type conflictOut struct {
	Code    string     `json:"code"`
	Message string     `json:"message"`
	Data    []stockOut `json:"data"`
}

func (s *Sim) warehouse(w http.ResponseWriter, r *http.Request) (int64, bool) {
	wh, err := strconv.ParseInt(r.PathValue("warehouseId"), 10, 64)
	if err != nil || wh <= 0 {
		s.violations.Add(ViolationInvalid)
		writeMarketError(w, http.StatusBadRequest, "IncorrectParameter", "Передан некорректный параметр warehouseId")
		return 0, false
	}
	s.mu.Lock()
	known := len(s.warehouses) == 0 || s.warehouses[wh]
	s.mu.Unlock()
	if !known {
		writeMarketError(w, http.StatusNotFound, "NotFound", "Склад не найден")
		return 0, false
	}
	return wh, true
}

// handleStocksPut answers PUT /api/v3/stocks/{warehouseId}: 204, or 409
// naming the sizes refused. Key names are not validated by WB: a body with
// unknown keys gets 204 and changes nothing.
func (s *Sim) handleStocksPut(w http.ResponseWriter, r *http.Request) {
	wh, ok := s.warehouse(w, r)
	if !ok {
		return
	}
	body, _ := io.ReadAll(r.Body)
	var req struct {
		Stocks []stockIn `json:"stocks"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		s.violations.Add(ViolationInvalid)
		writeMarketError(w, http.StatusBadRequest, "IncorrectRequestBody", "Некорректное тело запроса")
		return
	}
	if !exactKeys(body) {
		// WB does not validate key names: 204, and nothing changes.
		s.violations.Add(ViolationIgnoredPayload)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	switch {
	case len(req.Stocks) == 0:
		s.violations.Add(ViolationInvalid)
		writeMarketError(w, http.StatusBadRequest, "IncorrectRequestBody", "Некорректное тело запроса")
		return
	case len(req.Stocks) > s.cfg.MaxStockBatch:
		s.violations.Add(ViolationBatchSize)
		writeMarketError(w, http.StatusBadRequest, "IncorrectRequestBody", "Превышено количество остатков в запросе")
		return
	}
	for _, in := range req.Stocks {
		if in.ChrtID == nil || in.Amount == nil {
			// A missing key is a misspelt one to WB: accepted, ignored.
			s.violations.Add(ViolationIgnoredPayload)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if *in.Amount < 0 || *in.ChrtID <= 0 {
			s.violations.Add(ViolationInvalid)
			writeMarketError(w, http.StatusBadRequest, "IncorrectParameter", "Передан некорректный параметр")
			return
		}
	}
	s.mu.Lock()
	conflicts := s.conflictsLocked(wh, req.Stocks)
	if len(conflicts) > 0 {
		s.mu.Unlock()
		s.stocksRate.Charge(s.cfg.Now(), 9) // a 409 counts as 10 requests
		s.violations.Add(ViolationConflict)
		if !s.cfg.Reject409WholeBatch {
			s.applyUnnamed(wh, req.Stocks, conflicts)
		}
		marketsim.WriteJSON(w, http.StatusConflict, conflicts)
		return
	}
	for _, in := range req.Stocks {
		s.stocks[stockKey{*in.ChrtID, wh}] = *in.Amount
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// exactKeys reports whether the body spells every key exactly as WB's
// schema does ({"stocks":[{"chrtId","amount"}]}); encoding/json alone
// would accept "chrtID" or "Amount".
func exactKeys(body []byte) bool {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil || len(top) != 1 || top["stocks"] == nil {
		return false
	}
	var items []map[string]json.RawMessage
	if json.Unmarshal(top["stocks"], &items) != nil {
		return false
	}
	for _, it := range items {
		if len(it) != 2 || it["chrtId"] == nil || it["amount"] == nil {
			return false
		}
	}
	return true
}

// conflictsLocked lists the sizes WB refuses, grouped by code.
func (s *Sim) conflictsLocked(wh int64, items []stockIn) []conflictOut {
	if s.processing[wh] {
		return []conflictOut{{Code: "StoreIsProcessing", Message: "Склад обрабатывается, повторите через несколько секунд", Data: []stockOut{}}}
	}
	byCode := map[string]*conflictOut{}
	var order []string
	add := func(code, msg string, in stockIn) {
		c := byCode[code]
		if c == nil {
			c = &conflictOut{Code: code, Message: msg}
			byCode[code] = c
			order = append(order, code)
		}
		c.Data = append(c.Data, stockOut{ChrtID: *in.ChrtID, Amount: *in.Amount})
	}
	for _, in := range items {
		_, known := s.sizes[*in.ChrtID]
		switch {
		case !known && !s.cfg.AutoCreateSizes:
			add("NotFound", "Размер не найден", in)
		case *in.Amount > s.cfg.MaxAmount:
			add("UploadDataLimit", "Превышен лимит загружаемых данных", in)
		}
	}
	out := make([]conflictOut, 0, len(order))
	for _, code := range order {
		out = append(out, *byCode[code])
	}
	return out
}

func (s *Sim) applyUnnamed(wh int64, items []stockIn, conflicts []conflictOut) {
	named := map[int64]bool{}
	for _, c := range conflicts {
		for _, d := range c.Data {
			named[d.ChrtID] = true
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.processing[wh] {
		return
	}
	for _, in := range items {
		if !named[*in.ChrtID] {
			s.stocks[stockKey{*in.ChrtID, wh}] = *in.Amount
		}
	}
}

// handleStocksRead answers POST /api/v3/stocks/{warehouseId} {"chrtIds"}.
func (s *Sim) handleStocksRead(w http.ResponseWriter, r *http.Request) {
	wh, ok := s.warehouse(w, r)
	if !ok {
		return
	}
	var req struct {
		ChrtIDs []int64 `json:"chrtIds"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.ChrtIDs) == 0 {
		s.violations.Add(ViolationInvalid)
		writeMarketError(w, http.StatusBadRequest, "IncorrectRequestBody", "Некорректное тело запроса")
		return
	}
	if len(req.ChrtIDs) > s.cfg.MaxStockBatch {
		s.violations.Add(ViolationBatchSize)
		writeMarketError(w, http.StatusBadRequest, "IncorrectRequestBody", "Превышено количество размеров в запросе")
		return
	}
	s.mu.Lock()
	out := make([]stockOut, 0, len(req.ChrtIDs))
	for _, id := range req.ChrtIDs {
		if q, ok := s.stocks[stockKey{id, wh}]; ok {
			out = append(out, stockOut{ChrtID: id, Amount: q})
		}
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ChrtID < out[j].ChrtID })
	marketsim.WriteJSON(w, http.StatusOK, map[string]any{"stocks": out})
}

// now is the simulator's clock, for handlers.
func (s *Sim) now() time.Time { return s.cfg.Now() }
