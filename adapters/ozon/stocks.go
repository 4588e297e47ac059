package ozon

import (
	"context"
	"strconv"
	"strings"
	"time"

	"stockd/adapters/marketsim"
)

// Codes the adapter gives items it refuses before sending.
const (
	CodeInvalidID  = "INVALID_ID"
	CodeInvalidQty = "INVALID_QTY"
	CodeNoResult   = "NO_RESULT"
	// CodeTooManyRequests is Ozon's per-item code for a pair updated
	// more often than StockCooldown allows.
	CodeTooManyRequests = "TOO_MANY_REQUESTS"
)

// MaxStockPages bounds the pages one stock read-back request follows.
const MaxStockPages = 100

type stockItem struct {
	OfferID string `json:"offer_id"`
	// ProductID is marked required in the current schema, but offer_id
	// wins when both are sent; the adapter keys offers by offer_id and
	// leaves it out. Whether Ozon accepts its absence is UNCONFIRMED.
	ProductID   int64 `json:"product_id,omitempty"`
	Stock       int64 `json:"stock"`
	WarehouseID int64 `json:"warehouse_id"`
}

type stocksRequest struct {
	Stocks []stockItem `json:"stocks"`
}

type itemError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type stockResult struct {
	WarehouseID int64       `json:"warehouse_id"`
	ProductID   int64       `json:"product_id"`
	OfferID     string      `json:"offer_id"`
	Updated     bool        `json:"updated"`
	Errors      []itemError `json:"errors"`
}

type stocksResponse struct {
	Result []stockResult `json:"result"`
}

// PushStocks implements marketsim.StockPusher with POST /v2/products/stocks.
// Items with an invalid offer_id, warehouse_id or quantity are refused
// before anything is sent.
func (c *Client) PushStocks(ctx context.Context, updates []marketsim.StockUpdate) ([]marketsim.ItemResult, error) {
	results := make([]marketsim.ItemResult, len(updates))
	items := make([]stockItem, len(updates))
	var valid []int
	for i, u := range updates {
		results[i] = marketsim.ItemResult{OfferID: u.OfferID, WarehouseID: u.WarehouseID}
		wh, err := ParseWarehouseID(u.WarehouseID)
		if err == nil {
			err = ValidateOfferID(u.OfferID)
		}
		switch {
		case err != nil:
			reject(&results[i], CodeInvalidID, err.Error())
		case u.Qty < 0:
			reject(&results[i], CodeInvalidQty, "stock must not be negative")
		default:
			items[i] = stockItem{OfferID: u.OfferID, Stock: u.Qty, WarehouseID: wh}
			valid = append(valid, i)
		}
	}
	for start := 0; start < len(valid); start += MaxStockBatch {
		chunk := valid[start:min(start+MaxStockBatch, len(valid))]
		req := stocksRequest{Stocks: make([]stockItem, len(chunk))}
		for j, i := range chunk {
			req.Stocks[j] = items[i]
		}
		var resp stocksResponse
		if err := c.post(ctx, "/v2/products/stocks", c.opt.Limiters.Stocks, req, &resp); err != nil {
			for _, i := range valid[start:] {
				marketsim.MarkNotSent(&results[i], err)
			}
			return results, err
		}
		c.applyStockResults(results, chunk, req.Stocks, resp.Result)
	}
	return results, nil
}

// applyStockResults matches Ozon's per-item results to the items sent, by
// (offer_id, warehouse_id), in order for repeated pairs.
func (c *Client) applyStockResults(results []marketsim.ItemResult, chunk []int, sent []stockItem, got []stockResult) {
	pending := make(map[string][]int, len(chunk))
	for j, i := range chunk {
		k := pairKey(sent[j].OfferID, sent[j].WarehouseID)
		pending[k] = append(pending[k], i)
	}
	for _, r := range got {
		k := pairKey(r.OfferID, r.WarehouseID)
		queue := pending[k]
		if len(queue) == 0 {
			continue // a result for something not sent: ignore
		}
		i := queue[0]
		pending[k] = queue[1:]
		applyItem(&results[i], r.Updated, r.Errors, c.opt.StockCooldown)
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

// applyItem sets one result from Ozon's updated flag and errors: 200 is
// not success, every item carries its own verdict. An item refused as
// updated too often may be sent again after cooldown.
func applyItem(res *marketsim.ItemResult, updated bool, errs []itemError, cooldown time.Duration) {
	if updated && len(errs) == 0 {
		res.Status = marketsim.ItemOK
		return
	}
	res.Status = marketsim.ItemRejected
	if len(errs) == 0 {
		res.Code = CodeNoResult
		res.Message = "not updated, no error given"
		res.Retriable = true
		return
	}
	res.Code = errs[0].Code
	msgs := make([]string, 0, len(errs))
	for _, e := range errs {
		msgs = append(msgs, e.Message)
		if e.Code == CodeTooManyRequests {
			res.Code = e.Code
			res.Retriable = true
			res.RetryAfter = cooldown
		}
	}
	res.Message = strings.Join(msgs, "; ")
}

func reject(r *marketsim.ItemResult, code, msg string) {
	r.Status = marketsim.ItemRejected
	r.Code = code
	r.Message = msg
	r.Retriable = false
}

func pairKey(offerID string, warehouseID int64) string {
	return offerID + "\x00" + strconv.FormatInt(warehouseID, 10)
}

type stocksReadRequest struct {
	Cursor  string   `json:"cursor"`
	Limit   int64    `json:"limit"`
	OfferID []string `json:"offer_id"`
}

type stockReadProduct struct {
	OfferID       string `json:"offer_id"`
	ProductID     int64  `json:"product_id"`
	SKU           int64  `json:"sku"`
	WarehouseID   int64  `json:"warehouse_id"`
	WarehouseName string `json:"warehouse_name"`
	Present       int64  `json:"present"`
	Reserved      int64  `json:"reserved"`
	FreeStock     int64  `json:"free_stock"`
}

type stocksReadResponse struct {
	Cursor   string             `json:"cursor"`
	HasNext  bool               `json:"has_next"`
	Products []stockReadProduct `json:"products"`
}

// stockReadPageLimit is the page size asked of the read-back method; its
// maximum is UNCONFIRMED.
const stockReadPageLimit = 1000

// ReadStocks implements marketsim.StockReader with
// POST /v2/product/info/stocks-by-warehouse/fbs. Qty is present − reserved,
// the figure PushStocks sends (stock excluding reserves).
func (c *Client) ReadStocks(ctx context.Context, keys []marketsim.StockKey) ([]marketsim.StockLevel, error) {
	want := make(map[string]bool, len(keys))
	var offers []string
	seen := make(map[string]bool)
	for _, k := range keys {
		wh, err := ParseWarehouseID(k.WarehouseID)
		if err != nil {
			return nil, err
		}
		if err := ValidateOfferID(k.OfferID); err != nil {
			return nil, err
		}
		want[pairKey(k.OfferID, wh)] = true
		if !seen[k.OfferID] {
			seen[k.OfferID] = true
			offers = append(offers, k.OfferID)
		}
	}
	var out []marketsim.StockLevel
	for start := 0; start < len(offers); start += MaxStockReadBatch {
		req := stocksReadRequest{Limit: stockReadPageLimit, OfferID: offers[start:min(start+MaxStockReadBatch, len(offers))]}
		for page := 0; page < MaxStockPages; page++ {
			var resp stocksReadResponse
			if err := c.post(ctx, "/v2/product/info/stocks-by-warehouse/fbs", nil, req, &resp); err != nil {
				return out, err
			}
			for _, p := range resp.Products {
				if want[pairKey(p.OfferID, p.WarehouseID)] {
					out = append(out, marketsim.StockLevel{
						OfferID:     p.OfferID,
						WarehouseID: strconv.FormatInt(p.WarehouseID, 10),
						Qty:         p.Present - p.Reserved,
						Reserved:    p.Reserved,
					})
				}
			}
			if !resp.HasNext || resp.Cursor == "" {
				break
			}
			req.Cursor = resp.Cursor
		}
	}
	return out, nil
}
