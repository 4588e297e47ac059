package ozonsim

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"stockd/adapters/marketsim"
)

type priceIn struct {
	OfferID              string `json:"offer_id"`
	ProductID            int64  `json:"product_id"`
	Price                string `json:"price"`
	OldPrice             string `json:"old_price"`
	MinPrice             string `json:"min_price"`
	CurrencyCode         string `json:"currency_code"`
	AutoActionEnabled    string `json:"auto_action_enabled"`
	PriceStrategyEnabled string `json:"price_strategy_enabled"`
}

type priceOut struct {
	ProductID int64     `json:"product_id"`
	OfferID   string    `json:"offer_id"`
	Updated   bool      `json:"updated"`
	Errors    []itemErr `json:"errors"`
}

func (s *Sim) handlePrices(w http.ResponseWriter, body []byte, now time.Time) {
	var req struct {
		Prices []priceIn `json:"prices"`
	}
	if !decode(w, body, &req) {
		return
	}
	switch {
	case len(req.Prices) == 0:
		s.violations.Add(ViolationInvalid)
		writeError(w, http.StatusBadRequest, 3, "prices: value must contain at least 1 item(s)")
		return
	case len(req.Prices) > s.cfg.MaxPriceBatch:
		s.violations.Add(ViolationBatchSize)
		writeError(w, http.StatusBadRequest, 3,
			fmt.Sprintf("prices: value must contain at most %d item(s)", s.cfg.MaxPriceBatch))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]priceOut, 0, len(req.Prices))
	for _, in := range req.Prices {
		out = append(out, s.applyPriceLocked(in, now))
	}
	marketsim.WriteJSON(w, http.StatusOK, map[string]any{"result": out})
}

// applyPriceLocked decides one item. Apart from
// action_price_enabled_min_price_missing, the codes are the simulator's
// own (Ozon's are UNCONFIRMED), and so is the code for a product priced
// too often.
func (s *Sim) applyPriceLocked(in priceIn, now time.Time) priceOut {
	out := priceOut{ProductID: in.ProductID, OfferID: in.OfferID, Errors: []itemErr{}}
	fail := func(code, msg string) priceOut {
		out.Errors = append(out.Errors, itemErr{Code: code, Message: msg})
		return out
	}
	prodID, known := s.offers[in.OfferID]
	if !known && s.cfg.AutoCreateOffers && in.OfferID != "" {
		prodID, known = s.addOfferLocked(in.OfferID), true
	}
	if !known {
		return fail("NOT_FOUND", "Product not found")
	}
	out.ProductID = prodID
	price, ok := parseMoney(in.Price)
	if !ok || price <= 0 {
		return fail("INVALID_PRICE", "price must be a positive number with at most 2 decimals")
	}
	oldPrice := int64(0)
	if in.OldPrice != "" {
		if oldPrice, ok = parseMoney(in.OldPrice); !ok || oldPrice < 0 {
			return fail("INVALID_PRICE", "old_price must be a number with at most 2 decimals")
		}
	}
	if in.CurrencyCode != s.cfg.Currency {
		return fail("CURRENCY_MISMATCH", "currency_code must match the cabinet currency "+s.cfg.Currency)
	}
	if oldPrice > 0 && oldPrice-price < oldPriceGap(price) {
		return fail("INCORRECT_OLD_PRICE", "old_price must exceed price by 20 RUB below 400, 5 % up to 10 000, 500 RUB above")
	}
	if in.AutoActionEnabled == "ENABLED" && in.MinPrice == "" {
		return fail("action_price_enabled_min_price_missing", "turn off auto-promotions or set min_price first")
	}
	log := s.priceLog[in.OfferID]
	if log == nil {
		log = marketsim.NewSlidingWindow(s.cfg.PriceChangesPerHour, time.Hour)
		s.priceLog[in.OfferID] = log
	}
	if ok, _ := log.Take(now, 1); !ok {
		s.violations.Add(ViolationPriceFrequency)
		return fail("TOO_MANY_REQUESTS", "price is updated too frequently")
	}
	s.prices[in.OfferID] = Price{Price: in.Price, OldPrice: in.OldPrice, Currency: in.CurrencyCode, At: now}
	out.Updated = true
	return out
}

// oldPriceGap is by how much old_price must exceed price, in kopecks.
func oldPriceGap(price int64) int64 {
	switch {
	case price < 400_00:
		return 20_00
	case price <= 10_000_00:
		return (price*5 + 99) / 100
	}
	return 500_00
}

// parseMoney reads a decimal string with at most two decimals into kopecks.
func parseMoney(s string) (int64, bool) {
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || len(frac) > 2 || (hasFrac && frac == "") {
		return 0, false
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w < 0 || w > 1e12 {
		return 0, false
	}
	f := int64(0)
	if frac != "" {
		if f, err = strconv.ParseInt(frac, 10, 64); err != nil || f < 0 {
			return 0, false
		}
		if len(frac) == 1 {
			f *= 10
		}
	}
	return w*100 + f, true
}
