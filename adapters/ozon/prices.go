package ozon

import (
	"context"
	"fmt"
	"time"

	"stockd/adapters/marketsim"
)

// CodeInvalidPrice is the adapter's code for a price it refuses to send.
const CodeInvalidPrice = "INVALID_PRICE"

// priceCooldown is the spacing PriceChangesPerHour allows one product.
const priceCooldown = time.Hour / PriceChangesPerHour

type priceItem struct {
	OfferID      string `json:"offer_id"`
	Price        string `json:"price"`
	OldPrice     string `json:"old_price"`
	CurrencyCode string `json:"currency_code"`
	// "UNKNOWN" leaves the auto-promotion and pricing-strategy settings
	// as they are in the cabinet.
	AutoActionEnabled    string `json:"auto_action_enabled"`
	PriceStrategyEnabled string `json:"price_strategy_enabled"`
}

type pricesRequest struct {
	Prices []priceItem `json:"prices"`
}

type priceResult struct {
	ProductID int64       `json:"product_id"`
	OfferID   string      `json:"offer_id"`
	Updated   bool        `json:"updated"`
	Errors    []itemError `json:"errors"`
}

type pricesResponse struct {
	Result []priceResult `json:"result"`
}

// FormatPrice renders kopecks as Ozon's price string: whole roubles, or
// two decimals when there are kopecks ("1448", "1448.50").
func FormatPrice(kopecks int64) string {
	if kopecks%100 == 0 {
		return fmt.Sprintf("%d", kopecks/100)
	}
	return fmt.Sprintf("%d.%02d", kopecks/100, kopecks%100)
}

// PushPrices implements marketsim.PricePusher with
// POST /v1/product/import/prices. OldPrice 0 is sent as "0", which clears
// the crossed-out price. The old_price spacing rule (it must exceed the
// price by 20 RUB, 5 % or 500 RUB by band) is Ozon's to enforce; its
// refusal comes back per item.
func (c *Client) PushPrices(ctx context.Context, updates []marketsim.PriceUpdate) ([]marketsim.ItemResult, error) {
	results := make([]marketsim.ItemResult, len(updates))
	items := make([]priceItem, len(updates))
	var valid []int
	for i, u := range updates {
		results[i] = marketsim.ItemResult{OfferID: u.OfferID}
		switch {
		case ValidateOfferID(u.OfferID) != nil:
			reject(&results[i], CodeInvalidID, ValidateOfferID(u.OfferID).Error())
		case u.Price <= 0 || u.OldPrice < 0:
			reject(&results[i], CodeInvalidPrice, "price must be positive and old price not negative")
		case u.Currency == "":
			reject(&results[i], CodeInvalidPrice, "no currency")
		default:
			items[i] = priceItem{
				OfferID: u.OfferID, Price: FormatPrice(u.Price), OldPrice: FormatPrice(u.OldPrice),
				CurrencyCode: u.Currency, AutoActionEnabled: "UNKNOWN", PriceStrategyEnabled: "UNKNOWN",
			}
			valid = append(valid, i)
		}
	}
	for start := 0; start < len(valid); start += MaxPriceBatch {
		chunk := valid[start:min(start+MaxPriceBatch, len(valid))]
		req := pricesRequest{Prices: make([]priceItem, len(chunk))}
		pending := make(map[string][]int, len(chunk))
		for j, i := range chunk {
			req.Prices[j] = items[i]
			pending[items[i].OfferID] = append(pending[items[i].OfferID], i)
		}
		var resp pricesResponse
		if err := c.post(ctx, "/v1/product/import/prices", nil, req, &resp); err != nil {
			for _, i := range valid[start:] {
				marketsim.MarkNotSent(&results[i], err)
			}
			return results, err
		}
		for _, r := range resp.Result {
			queue := pending[r.OfferID]
			if len(queue) == 0 {
				continue
			}
			pending[r.OfferID] = queue[1:]
			applyItem(&results[queue[0]], r.Updated, r.Errors, priceCooldown)
		}
		for _, queue := range pending {
			for _, i := range queue {
				results[i].Status = marketsim.ItemNotSent
				results[i].Code = CodeNoResult
				results[i].Message = "Ozon returned no result for this item"
				results[i].Retriable = true
			}
		}
	}
	return results, nil
}
