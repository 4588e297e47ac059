package wildberries

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"stockd/adapters/marketsim"
)

// Codes: WB's 409 codes the client acts on, and the adapter's own for
// items it refuses before sending.
const (
	CodeStoreIsProcessing = "StoreIsProcessing" // retry in a few seconds
	CodeUploadDataLimit   = "UploadDataLimit"   // amount over MaxAmount
	CodeNotFound          = "NotFound"
	CodeInvalidID         = "INVALID_ID"
	CodeInvalidQty        = "INVALID_QTY"
	// CodeBatchRejected marks items of a 409 batch that WB did not name:
	// whether a 409 rejects the whole batch or only the named items is
	// UNCONFIRMED, so they are taken as not applied and safe to resend.
	CodeBatchRejected = "BATCH_REJECTED"
)

type stockItem struct {
	ChrtID int64 `json:"chrtId"`
	Amount int64 `json:"amount"`
}

type stocksRequest struct {
	Stocks []stockItem `json:"stocks"`
}

// conflict is one element of a 409 reply:
// [{code, message, data: [{chrtId | sku, amount}]}].
type conflict struct {
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

type conflictItem struct {
	ChrtID int64  `json:"chrtId"`
	SKU    string `json:"sku"`
	Amount int64  `json:"amount"`
}

func decodeConflicts(raw []byte) ([]conflict, bool) {
	var cs []conflict
	if json.Unmarshal(raw, &cs) != nil {
		return nil, false
	}
	return cs, true
}

// conflictIDs returns the chrtIds a conflict names. Old replies name
// items by "sku"; a numeric sku is taken as the chrtId.
func (c conflict) conflictIDs() []int64 {
	var items []conflictItem
	if json.Unmarshal(c.Data, &items) != nil {
		return nil
	}
	ids := make([]int64, 0, len(items))
	for _, it := range items {
		id := it.ChrtID
		if id == 0 {
			id, _ = strconv.ParseInt(it.SKU, 10, 64)
		}
		if id > 0 {
			ids = append(ids, id)
		}
	}
	return ids
}

// PushStocks implements marketsim.StockPusher: one PUT per warehouse and
// MaxStockBatch sizes, 204 on success. WB does not validate key names (a
// misspelt key gives 204 and changes nothing), so the body is built from
// typed structs only. A 409 names the refused sizes; it is not returned as
// an error unless it names none.
func (c *Client) PushStocks(ctx context.Context, updates []marketsim.StockUpdate) ([]marketsim.ItemResult, error) {
	results := make([]marketsim.ItemResult, len(updates))
	byWarehouse := make(map[int64][]int)
	var order []int64
	chrt := make([]int64, len(updates))
	for i, u := range updates {
		results[i] = marketsim.ItemResult{OfferID: u.OfferID, WarehouseID: u.WarehouseID}
		wh, err := ParseWarehouseID(u.WarehouseID)
		if err == nil {
			chrt[i], err = ParseChrtID(u.OfferID)
		}
		switch {
		case err != nil:
			reject(&results[i], CodeInvalidID, err.Error())
		case u.Qty < 0 || u.Qty > MaxAmount:
			reject(&results[i], CodeInvalidQty, "amount must be within 0..100000")
		default:
			if _, ok := byWarehouse[wh]; !ok {
				order = append(order, wh)
			}
			byWarehouse[wh] = append(byWarehouse[wh], i)
		}
	}
	var todo [][]int // requests in send order, for marking the rest not sent
	var whs []int64
	for _, wh := range order {
		idx := byWarehouse[wh]
		for start := 0; start < len(idx); start += MaxStockBatch {
			todo = append(todo, idx[start:min(start+MaxStockBatch, len(idx))])
			whs = append(whs, wh)
		}
	}
	for n, chunk := range todo {
		req := stocksRequest{Stocks: make([]stockItem, len(chunk))}
		for j, i := range chunk {
			req.Stocks[j] = stockItem{ChrtID: chrt[i], Amount: updates[i].Qty}
		}
		rep, err := c.do(ctx, call{method: http.MethodPut, base: c.opt.MarketplaceURL,
			path: "/api/v3/stocks/" + strconv.FormatInt(whs[n], 10), in: req, group: c.opt.Limiters.Stocks})
		var apiErr *marketsim.APIError
		if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusConflict {
			if applyConflicts(results, chunk, chrt, rep.body, apiErr.RetryAfter) {
				continue
			}
		}
		if err != nil {
			for _, rest := range todo[n:] {
				for _, i := range rest {
					marketsim.MarkNotSent(&results[i], err)
				}
			}
			return results, err
		}
		for _, i := range chunk {
			results[i].Status = marketsim.ItemOK
		}
	}
	return results, nil
}

// applyConflicts sets the results of a 409 batch; false when the reply
// names no item, so the 409 concerns the whole request. retryAfter, the
// wait the reply's headers asked for, goes to every item to be retried.
func applyConflicts(results []marketsim.ItemResult, chunk []int, chrt []int64, raw []byte, retryAfter time.Duration) bool {
	cs, ok := decodeConflicts(raw)
	if !ok {
		return false
	}
	byChrt := make(map[int64][]int, len(chunk))
	for _, i := range chunk {
		byChrt[chrt[i]] = append(byChrt[chrt[i]], i)
	}
	named := false
	for _, cf := range cs {
		for _, id := range cf.conflictIDs() {
			for _, i := range byChrt[id] {
				named = true
				results[i].Status = marketsim.ItemRejected
				results[i].Code = cf.Code
				results[i].Message = cf.Message
				results[i].Retriable = cf.Code == CodeStoreIsProcessing
				if results[i].Retriable {
					results[i].RetryAfter = retryAfter
				}
			}
		}
	}
	if !named {
		return false
	}
	for _, i := range chunk {
		if results[i].Status == 0 {
			results[i].Status = marketsim.ItemNotSent
			results[i].Code = CodeBatchRejected
			results[i].Message = "the request was refused with 409 for other items"
			results[i].Retriable, results[i].HeldBack = true, true
			results[i].RetryAfter = retryAfter
		}
	}
	return true
}

func reject(r *marketsim.ItemResult, code, msg string) {
	r.Status = marketsim.ItemRejected
	r.Code = code
	r.Message = msg
	r.Retriable = false
}

type stocksReadRequest struct {
	ChrtIDs []int64 `json:"chrtIds"`
}

type stocksReadResponse struct {
	Stocks []stockItem `json:"stocks"`
}

// ReadStocks implements marketsim.StockReader with
// POST /api/v3/stocks/{warehouseId}, MaxStockBatch sizes a request.
func (c *Client) ReadStocks(ctx context.Context, keys []marketsim.StockKey) ([]marketsim.StockLevel, error) {
	byWarehouse := make(map[int64][]int64)
	var order []int64
	for _, k := range keys {
		wh, err := ParseWarehouseID(k.WarehouseID)
		if err != nil {
			return nil, err
		}
		id, err := ParseChrtID(k.OfferID)
		if err != nil {
			return nil, err
		}
		if _, ok := byWarehouse[wh]; !ok {
			order = append(order, wh)
		}
		byWarehouse[wh] = append(byWarehouse[wh], id)
	}
	var out []marketsim.StockLevel
	for _, wh := range order {
		ids := byWarehouse[wh]
		for start := 0; start < len(ids); start += MaxStockBatch {
			path := "/api/v3/stocks/" + strconv.FormatInt(wh, 10)
			rep, err := c.do(ctx, call{method: http.MethodPost, base: c.opt.MarketplaceURL, path: path,
				in: stocksReadRequest{ChrtIDs: ids[start:min(start+MaxStockBatch, len(ids))]}, group: c.opt.Limiters.Stocks})
			if err != nil {
				return out, err
			}
			var resp stocksReadResponse
			if err := json.Unmarshal(rep.body, &resp); err != nil {
				return out, decodeErr("POST "+path, rep.status, err)
			}
			for _, s := range resp.Stocks {
				out = append(out, marketsim.StockLevel{OfferID: strconv.FormatInt(s.ChrtID, 10),
					WarehouseID: strconv.FormatInt(wh, 10), Qty: s.Amount})
			}
		}
	}
	return out, nil
}
