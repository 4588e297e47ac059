package ymsim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
)

type priceIn struct {
	Value        json.Number `json:"value"`
	CurrencyID   string      `json:"currencyId"`
	DiscountBase json.Number `json:"discountBase"`
}

// handlePrices answers POST /v2/businesses/{businessId}/offer-prices/updates.
func (s *Sim) handlePrices(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var req struct {
		Offers []struct {
			OfferID string   `json:"offerId"`
			Price   *priceIn `json:"price"`
		} `json:"offers"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	decodeErr := dec.Decode(&req)
	if !s.quota(w, s.priceOffers, ViolationQuotaPrices, max(int64(len(req.Offers)), 1)) {
		return
	}
	if s.cfg.PricesLocked {
		writeError(w, http.StatusLocked, "LOCKED", "Partner use only default price")
		return
	}
	switch {
	case decodeErr != nil:
		s.badRequest(w, "Invalid request body")
		return
	case len(req.Offers) == 0:
		s.badRequest(w, "offers: size must be between 1 and 500")
		return
	case len(req.Offers) > s.cfg.MaxPriceBatch:
		s.violations.Add(ViolationBatchSize)
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", "offers: size must be between 1 and 500")
		return
	}
	seen := map[string]bool{}
	for _, o := range req.Offers {
		if problem := priceProblem(o.OfferID, o.Price, seen); problem != "" {
			s.badRequest(w, problem)
			return
		}
		seen[o.OfferID] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range req.Offers {
		if !s.knownLocked(o.OfferID) {
			s.badRequest(w, "Offer not found: "+o.OfferID)
			return
		}
	}
	for _, o := range req.Offers {
		s.prices[o.OfferID] = Price{Value: o.Price.Value.String(), DiscountBase: o.Price.DiscountBase.String(),
			CurrencyID: o.Price.CurrencyID}
	}
	writeOK(w)
}

// priceProblem is the 400 message for one offer, "" when it is valid.
func priceProblem(offerID string, p *priceIn, seen map[string]bool) string {
	switch {
	case !validSKU(offerID):
		return "Value of field must match the pattern: 'offerId'"
	case seen[offerID]:
		return "Duplicate offerId: " + offerID
	case p == nil:
		return "price: must not be null"
	case scale(p.Value) > 2 || (p.DiscountBase != "" && scale(p.DiscountBase) > 2):
		return "Value of field has too high scale: 'price'"
	case !positive(p.Value):
		return "value: must be greater than 0"
	case p.CurrencyID != "RUR":
		return "currencyId: unsupported currency " + p.CurrencyID
	case p.DiscountBase != "" && !greater(p.DiscountBase, p.Value):
		return "discountBase: must be greater than value"
	}
	return ""
}

// scale is the number of decimals a JSON number is written with.
func scale(n json.Number) int {
	s := strings.ToLower(n.String())
	if strings.ContainsAny(s, "e") {
		return 99
	}
	if _, frac, ok := strings.Cut(s, "."); ok {
		return len(frac)
	}
	return 0
}

func positive(n json.Number) bool {
	f, err := strconv.ParseFloat(n.String(), 64)
	return err == nil && f > 0
}

func greater(a, b json.Number) bool {
	x, err1 := strconv.ParseFloat(a.String(), 64)
	y, err2 := strconv.ParseFloat(b.String(), 64)
	return err1 == nil && err2 == nil && x > y
}
