package yandexmarket

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"stockd/adapters/marketsim"
)

// CodeInvalidPrice is the adapter's code for a price it refuses to send.
const CodeInvalidPrice = "INVALID_PRICE"

type priceValue struct {
	Value        json.Number `json:"value"`
	CurrencyID   string      `json:"currencyId"`
	DiscountBase json.Number `json:"discountBase,omitempty"`
}

type offerPrice struct {
	OfferID string     `json:"offerId"`
	Price   priceValue `json:"price"`
}

// Number renders kopecks as a JSON number with at most two decimals:
// YM refuses a higher scale ("Value of field has too high scale").
func Number(kopecks int64) json.Number {
	if kopecks%100 == 0 {
		return json.Number(strconv.FormatInt(kopecks/100, 10))
	}
	return json.Number(fmt.Sprintf("%d.%02d", kopecks/100, kopecks%100))
}

// currencyID spells a currency as YM does: RUR for roubles.
func currencyID(iso string) string {
	if iso == "RUB" {
		return "RUR"
	}
	return iso
}

// PushPrices implements marketsim.PricePusher with the cabinet-wide
// POST /v2/businesses/{businessId}/offer-prices/updates, MaxPriceBatch
// unique offers a request. OldPrice goes out as discountBase (the
// crossed-out price) and only when above the price.
func (c *Client) PushPrices(ctx context.Context, updates []marketsim.PriceUpdate) ([]marketsim.ItemResult, error) {
	results := make([]marketsim.ItemResult, len(updates))
	type batch struct {
		idx    []int
		offers []offerPrice
		seen   map[string]bool
	}
	var batches []*batch
	cur := &batch{seen: map[string]bool{}}
	for i, u := range updates {
		results[i] = marketsim.ItemResult{OfferID: u.OfferID}
		if err := ValidateOfferID(u.OfferID); err != nil {
			reject(&results[i], CodeInvalidID, err.Error())
			continue
		}
		if u.Price <= 0 || u.OldPrice < 0 || u.Currency == "" {
			reject(&results[i], CodeInvalidPrice, "price must be positive, old price not negative, currency set")
			continue
		}
		p := offerPrice{OfferID: u.OfferID, Price: priceValue{Value: Number(u.Price), CurrencyID: currencyID(u.Currency)}}
		if u.OldPrice > u.Price {
			p.Price.DiscountBase = Number(u.OldPrice)
		}
		if len(cur.idx) == MaxPriceBatch || cur.seen[u.OfferID] {
			batches = append(batches, cur)
			cur = &batch{seen: map[string]bool{}}
		}
		cur.idx = append(cur.idx, i)
		cur.offers = append(cur.offers, p)
		cur.seen[u.OfferID] = true
	}
	if len(cur.idx) > 0 {
		batches = append(batches, cur)
	}
	path := "/v2/businesses/" + strconv.FormatInt(c.opt.BusinessID, 10) + "/offer-prices/updates"
	for n, b := range batches {
		body, err := json.Marshal(map[string]any{"offers": b.offers})
		if err == nil {
			var reply okReply
			err = c.do(ctx, call{method: http.MethodPost, path: path, body: body,
				group: c.opt.Limiters.PriceOffers, cost: len(b.offers), slot: c.businessSlot}, &reply)
		}
		if err != nil {
			for _, rest := range batches[n:] {
				for _, i := range rest.idx {
					marketsim.MarkNotSent(&results[i], err)
				}
			}
			return results, err
		}
		for _, i := range b.idx {
			results[i].Status = marketsim.ItemOK
		}
	}
	return results, nil
}
