package wbsim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"stockd/adapters/marketsim"
)

// The task statuses of the history and buffer methods.
const (
	taskProcessing = 1
	taskOK         = 3
	taskPartial    = 5
	taskFailed     = 6
)

// QuarantineText is the errorText of an item sent to price quarantine.
// WB's exact wording is UNCONFIRMED.
const QuarantineText = "The price is in quarantine: the new price is much lower than the old one"

type task struct {
	id     int64
	body   string // the upload as sent, to detect a duplicate (208)
	goods  []good
	at     time.Time
	doneAt time.Time
	done   bool
	status int
}

type good struct {
	NmID      int64  `json:"nmID"`
	Price     int64  `json:"price"`
	Discount  int64  `json:"discount"`
	Status    int    `json:"status"` // 2 ok, 3 error, once processed
	ErrorText string `json:"errorText"`
}

type priceReply struct {
	Data      any    `json:"data"`
	Error     bool   `json:"error"`
	ErrorText string `json:"errorText"`
}

func priceError(w http.ResponseWriter, status int, text string) {
	marketsim.WriteJSON(w, status, priceReply{Data: nil, Error: true, ErrorText: text})
}

// handleUpload answers POST /api/v2/upload/task.
func (s *Sim) handleUpload(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	goods, problem := s.parseGoods(body)
	if problem != "" {
		priceError(w, http.StatusBadRequest, problem)
		return
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleLocked(now)
	for _, g := range goods {
		if !s.knownNmLocked(g.NmID) {
			s.violations.Add(ViolationInvalid)
			priceError(w, http.StatusBadRequest, "InvalidItemNo")
			return
		}
	}
	if t := s.lastTask; t != nil && !t.done && t.body == string(body) {
		marketsim.WriteJSON(w, http.StatusAlreadyReported, priceReply{
			Data: map[string]any{"id": t.id, "alreadyExists": true}})
		return
	}
	if s.allSetLocked(goods) {
		priceError(w, http.StatusBadRequest, "The specified prices and discounts are already set")
		return
	}
	s.taskSeq++
	t := &task{id: s.taskSeq, body: string(body), goods: goods, at: now, doneAt: now.Add(s.cfg.TaskDelay)}
	s.tasks[t.id] = t
	s.lastTask = t
	s.settleLocked(now)
	marketsim.WriteJSON(w, http.StatusOK, priceReply{Data: map[string]any{"id": t.id, "alreadyExists": false}})
}

// parseGoods reads an upload; a problem is the errorText of a 400, counted
// as a violation.
func (s *Sim) parseGoods(body []byte) ([]good, string) {
	var req struct {
		Data []struct {
			NmID     int64       `json:"nmID"`
			Price    json.Number `json:"price"`
			Discount json.Number `json:"discount"`
		} `json:"data"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	fail := func(kind, text string) ([]good, string) {
		s.violations.Add(kind)
		return nil, text
	}
	switch err := dec.Decode(&req); {
	case err != nil || len(req.Data) == 0:
		return fail(ViolationInvalid, "Invalid request body")
	case len(req.Data) > s.cfg.MaxPriceBatch:
		return fail(ViolationBatchSize, "UploadLimitExceeded")
	}
	goods := make([]good, 0, len(req.Data))
	seen := map[int64]bool{}
	for _, d := range req.Data {
		price, perr := wholeNumber(d.Price)
		discount, derr := wholeNumber(d.Discount)
		switch {
		case perr != nil || derr != nil:
			return fail(ViolationInvalid, "Price should be a whole number")
		case d.Price == "" && d.Discount == "":
			return fail(ViolationInvalid, "Price and discount cannot both be empty")
		case price < 0 || discount < 0 || discount > 99:
			return fail(ViolationInvalid, "InvalidPrice")
		case seen[d.NmID]:
			return fail(ViolationInvalid, "DuplicateItemNos")
		}
		seen[d.NmID] = true
		goods = append(goods, good{NmID: d.NmID, Price: price, Discount: discount})
	}
	return goods, ""
}

func wholeNumber(n json.Number) (int64, error) {
	if n == "" {
		return 0, nil
	}
	return strconv.ParseInt(string(n), 10, 64)
}

func (s *Sim) knownNmLocked(nm int64) bool {
	if s.cfg.AutoCreateSizes {
		return nm > 0
	}
	_, ok := s.vendor[nm]
	return ok
}

func (s *Sim) allSetLocked(goods []good) bool {
	for _, g := range goods {
		p, ok := s.prices[g.NmID]
		if !ok || p.Price != g.Price || p.Discount != g.Discount {
			return false
		}
	}
	return true
}

// settleLocked processes the uploads whose time has come, in order.
func (s *Sim) settleLocked(now time.Time) {
	for id := int64(1); id <= s.taskSeq; id++ {
		t := s.tasks[id]
		if t.done || now.Before(t.doneAt) {
			continue
		}
		ok := 0
		for i := range t.goods {
			g := &t.goods[i]
			if old, had := s.prices[g.NmID]; had && quarantined(old, *g, s.cfg.QuarantineFactor) {
				g.Status, g.ErrorText = 3, QuarantineText
				continue
			}
			if text, refuse := s.refuse[g.NmID]; refuse {
				g.Status, g.ErrorText = 3, text
				continue
			}
			s.prices[g.NmID] = Price{Price: g.Price, Discount: g.Discount, At: t.doneAt}
			g.Status = 2
			ok++
		}
		t.done = true
		switch ok {
		case len(t.goods):
			t.status = taskOK
		case 0:
			t.status = taskFailed
		default:
			t.status = taskPartial
		}
	}
}

// RefusePrices makes the uploads processed from now on refuse the goods
// nmIDs with errorText text (an empty text stops refusing them), as WB
// does for reasons the simulator does not model.
func (s *Sim) RefusePrices(text string, nmIDs ...int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, nm := range nmIDs {
		if text == "" {
			delete(s.refuse, nm)
		} else {
			s.refuse[nm] = text
		}
	}
}

// quarantined: the new discounted price is factor times lower or more.
func quarantined(old Price, g good, factor int64) bool {
	if factor <= 0 {
		return false
	}
	oldSell := old.Price * (100 - old.Discount)
	newSell := g.Price * (100 - g.Discount)
	return newSell*factor <= oldSell
}

func (s *Sim) taskOf(w http.ResponseWriter, r *http.Request) (*task, bool) {
	id, err := strconv.ParseInt(r.URL.Query().Get("uploadID"), 10, 64)
	if err != nil || id <= 0 {
		s.violations.Add(ViolationInvalid)
		priceError(w, http.StatusBadRequest, "Invalid uploadID")
		return nil, false
	}
	s.settleLocked(s.now())
	return s.tasks[id], true
}

func (t *task) summary(status int) map[string]any {
	okCount := 0
	for _, g := range t.goods {
		if g.Status == 2 {
			okCount++
		}
	}
	return map[string]any{
		"uploadID": t.id, "status": status,
		"uploadDate": t.at.UTC().Format(time.RFC3339), "activationDate": t.doneAt.UTC().Format(time.RFC3339),
		"overAllGoodsNumber": len(t.goods), "successGoodsNumber": okCount,
	}
}

// handleHistoryTask answers GET /api/v2/history/tasks?uploadID=: a
// processed upload's status; data null while it is in the buffer.
func (s *Sim) handleHistoryTask(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.taskOf(w, r)
	if !ok {
		return
	}
	if t == nil || !t.done {
		marketsim.WriteJSON(w, http.StatusOK, priceReply{})
		return
	}
	marketsim.WriteJSON(w, http.StatusOK, priceReply{Data: t.summary(t.status)})
}

// handleBufferTask answers GET /api/v2/buffer/tasks?uploadID=: status 1
// while the upload is processed.
func (s *Sim) handleBufferTask(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.taskOf(w, r)
	if !ok {
		return
	}
	if t == nil || t.done {
		marketsim.WriteJSON(w, http.StatusOK, priceReply{})
		return
	}
	marketsim.WriteJSON(w, http.StatusOK, priceReply{Data: t.summary(taskProcessing)})
}

// handleHistoryGoods answers GET /api/v2/history/goods/task with
// limit and offset.
func (s *Sim) handleHistoryGoods(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.taskOf(w, r)
	if !ok {
		return
	}
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	if limit < 1 || limit > 1000 || offset < 0 {
		s.violations.Add(ViolationInvalid)
		priceError(w, http.StatusBadRequest, "Invalid limit or offset")
		return
	}
	if t == nil || !t.done {
		marketsim.WriteJSON(w, http.StatusOK, priceReply{})
		return
	}
	type historyGood struct {
		NmID          int64  `json:"nmID"`
		VendorCode    string `json:"vendorCode"`
		Price         int64  `json:"price"`
		CurrencyIso   string `json:"currencyIsoCode4217"`
		Discount      int64  `json:"discount"`
		Status        int    `json:"status"`
		ErrorText     string `json:"errorText"`
		TechSizeName  string `json:"techSizeName"`
		SizeID        int64  `json:"sizeID"`
		ClubDiscount  int64  `json:"clubDiscount"`
		DiscountPrice int64  `json:"discountedPrice"`
	}
	page := []historyGood{}
	for i := offset; i < len(t.goods) && i < offset+limit; i++ {
		g := t.goods[i]
		page = append(page, historyGood{NmID: g.NmID, VendorCode: s.vendor[g.NmID], Price: g.Price,
			CurrencyIso: "RUB", Discount: g.Discount, Status: g.Status, ErrorText: g.ErrorText,
			DiscountPrice: g.Price * (100 - g.Discount) / 100})
	}
	marketsim.WriteJSON(w, http.StatusOK, priceReply{Data: map[string]any{"uploadID": t.id, "historyGoods": page}})
}
