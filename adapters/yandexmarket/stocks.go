package yandexmarket

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"stockd/adapters/marketsim"
)

// Codes the adapter gives items it refuses before sending.
const (
	CodeInvalidID  = "INVALID_ID"
	CodeInvalidQty = "INVALID_QTY"
)

// updatedAtLayout is ISO 8601 with an explicit offset.
const updatedAtLayout = "2006-01-02T15:04:05-07:00"

// MaxStockReadPages bounds the pages one stock read follows.
const MaxStockReadPages = 1000

type campaignStockItem struct {
	Count     int64  `json:"count"`
	UpdatedAt string `json:"updatedAt"`
}

type campaignStockSKU struct {
	SKU   string              `json:"sku"`
	Items []campaignStockItem `json:"items"` // exactly one
}

type warehouseStockItem struct {
	SKU                string `json:"sku"`
	PartnerWarehouseID int64  `json:"partnerWarehouseId"`
	Count              int64  `json:"count"`
	UpdatedAt          string `json:"updatedAt"`
}

// stockBatch is one request being built: at most MaxStockBatch unique
// keys and MaxBodyBytes of body.
type stockBatch struct {
	idx   []int
	items []json.RawMessage
	bytes int
	keys  map[string]bool
}

// PushStocks implements marketsim.StockPusher with the Options.StockMethod.
// YM answers for the request as a whole: every item of a refused request
// is ItemNotSent with the error's retry hint.
func (c *Client) PushStocks(ctx context.Context, updates []marketsim.StockUpdate) ([]marketsim.ItemResult, error) {
	results := make([]marketsim.ItemResult, len(updates))
	now := c.opt.Now()
	var batches []*stockBatch
	cur := &stockBatch{keys: map[string]bool{}}
	for i, u := range updates {
		results[i] = marketsim.ItemResult{OfferID: u.OfferID, WarehouseID: u.WarehouseID}
		item, key, code, err := c.stockItem(u, now)
		if err != nil {
			reject(&results[i], code, err.Error())
			continue
		}
		if len(cur.idx) == MaxStockBatch || cur.keys[key] || cur.bytes+len(item)+64 > MaxBodyBytes {
			batches = append(batches, cur)
			cur = &stockBatch{keys: map[string]bool{}}
		}
		cur.idx = append(cur.idx, i)
		cur.items = append(cur.items, item)
		cur.bytes += len(item) + 1
		cur.keys[key] = true
	}
	if len(cur.idx) > 0 {
		batches = append(batches, cur)
	}
	for n, b := range batches {
		if err := c.sendStocks(ctx, b); err != nil {
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

// stockItem encodes one update for the configured method.
func (c *Client) stockItem(u marketsim.StockUpdate, now time.Time) (json.RawMessage, string, string, error) {
	if err := ValidateOfferID(u.OfferID); err != nil {
		return nil, "", CodeInvalidID, err
	}
	if u.Qty < 0 || u.Qty > MaxStockCount {
		return nil, "", CodeInvalidQty, fmt.Errorf("yandexmarket: count %d is outside 0..%d", u.Qty, int64(MaxStockCount))
	}
	at := u.At
	if at.IsZero() {
		at = now
	}
	stamp := at.Format(updatedAtLayout)
	var item any
	key := u.OfferID
	switch c.opt.StockMethod {
	case StockByCampaign:
		if u.WarehouseID != "" && u.WarehouseID != c.campaignStr {
			return nil, "", CodeInvalidID, fmt.Errorf("%w: warehouse %q: campaign stock takes no warehouse", ErrInvalidID, u.WarehouseID)
		}
		item = campaignStockSKU{SKU: u.OfferID, Items: []campaignStockItem{{Count: u.Qty, UpdatedAt: stamp}}}
	default:
		wh, err := ParseWarehouseID(u.WarehouseID)
		if err != nil {
			return nil, "", CodeInvalidID, err
		}
		item = warehouseStockItem{SKU: u.OfferID, PartnerWarehouseID: wh, Count: u.Qty, UpdatedAt: stamp}
		key += "\x00" + u.WarehouseID
	}
	raw, err := json.Marshal(item)
	return raw, key, CodeInvalidID, err
}

func (c *Client) sendStocks(ctx context.Context, b *stockBatch) error {
	var k call
	var body []byte
	var err error
	switch c.opt.StockMethod {
	case StockByCampaign:
		body, err = json.Marshal(map[string]any{"skus": b.items})
		k = call{method: http.MethodPut, path: "/v2/campaigns/" + c.campaignStr + "/offers/stocks",
			group: c.opt.Limiters.StockOffers, cost: len(b.items), slot: c.campaignSlot}
	default:
		body, err = json.Marshal(map[string]any{"skuItems": b.items})
		k = call{method: http.MethodPost,
			path:  "/v3/businesses/" + strconv.FormatInt(c.opt.BusinessID, 10) + "/offers/stocks/update",
			group: c.opt.Limiters.StockRequests, cost: 1, slot: c.businessSlot}
	}
	if err != nil {
		return fmt.Errorf("yandexmarket: encode stocks: %w", err)
	}
	k.body = body
	var reply okReply
	return c.do(ctx, k, &reply)
}

func reject(r *marketsim.ItemResult, code, msg string) {
	r.Status = marketsim.ItemRejected
	r.Code = code
	r.Message = msg
	r.Retriable = false
}

type stocksReadResponse struct {
	Status string `json:"status"`
	Result struct {
		Paging struct {
			NextPageToken string `json:"nextPageToken"`
		} `json:"paging"`
		Warehouses []struct {
			WarehouseID int64 `json:"warehouseId"`
			Offers      []struct {
				OfferID string `json:"offerId"`
				Stocks  []struct {
					Type  string `json:"type"`
					Count int64  `json:"count"`
				} `json:"stocks"`
			} `json:"offers"`
		} `json:"warehouses"`
	} `json:"result"`
}

// ReadStocks implements marketsim.StockReader with
// POST /v2/campaigns/{campaignId}/offers/stocks. Qty is the AVAILABLE
// figure (FIT when AVAILABLE is absent) and Reserved the FREEZE one; how
// these types map to the count pushed is UNCONFIRMED. WarehouseID is YM's
// warehouseId; a key with an empty WarehouseID matches any warehouse.
func (c *Client) ReadStocks(ctx context.Context, keys []marketsim.StockKey) ([]marketsim.StockLevel, error) {
	want := make(map[marketsim.StockKey]bool, len(keys))
	var offers []string
	seen := map[string]bool{}
	for _, k := range keys {
		if err := ValidateOfferID(k.OfferID); err != nil {
			return nil, err
		}
		want[k] = true
		if !seen[k.OfferID] {
			seen[k.OfferID] = true
			offers = append(offers, k.OfferID)
		}
	}
	var out []marketsim.StockLevel
	for start := 0; start < len(offers); start += MaxStockReadPage {
		body, err := json.Marshal(map[string]any{"offerIds": offers[start:min(start+MaxStockReadPage, len(offers))]})
		if err != nil {
			return out, err
		}
		token := ""
		for page := 0; page < MaxStockReadPages; page++ {
			q := url.Values{"limit": {strconv.Itoa(MaxStockReadPage)}}
			if token != "" {
				q.Set("page_token", token)
			}
			var resp stocksReadResponse
			if err := c.do(ctx, call{method: http.MethodPost, path: "/v2/campaigns/" + c.campaignStr + "/offers/stocks?" + q.Encode(),
				body: body, slot: c.campaignSlot}, &resp); err != nil {
				return out, err
			}
			out = append(out, levelsOf(&resp, want)...)
			token = resp.Result.Paging.NextPageToken
			if token == "" {
				break
			}
		}
	}
	return out, nil
}

// levelsOf picks the wanted offers out of one page of a stock read.
func levelsOf(resp *stocksReadResponse, want map[marketsim.StockKey]bool) []marketsim.StockLevel {
	var out []marketsim.StockLevel
	for _, wh := range resp.Result.Warehouses {
		whID := strconv.FormatInt(wh.WarehouseID, 10)
		for _, o := range wh.Offers {
			if !want[marketsim.StockKey{OfferID: o.OfferID, WarehouseID: whID}] && !want[marketsim.StockKey{OfferID: o.OfferID}] {
				continue
			}
			lvl := marketsim.StockLevel{OfferID: o.OfferID, WarehouseID: whID, Qty: -1}
			fit := int64(0)
			for _, s := range o.Stocks {
				switch s.Type {
				case "AVAILABLE":
					lvl.Qty = s.Count
				case "FIT":
					fit = s.Count
				case "FREEZE":
					lvl.Reserved = s.Count
				}
			}
			if lvl.Qty < 0 {
				lvl.Qty = fit
			}
			out = append(out, lvl)
		}
	}
	return out
}
