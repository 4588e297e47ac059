package wildberries

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"stockd/adapters/marketsim"
)

// ErrUnknownTask means WB knows no price upload by that id.
var ErrUnknownTask = errors.New("wildberries: unknown price upload")

// CodeInvalidPrice is the adapter's code for a price it refuses to send.
const CodeInvalidPrice = "INVALID_PRICE"

// MaxTaskGoodsPages bounds the pages one PriceTask call reads.
const MaxTaskGoodsPages = 100

// alreadySet is the errorText of a 400 for values that are already in
// place: the push succeeded in effect.
const alreadySet = "The specified prices and discounts are already set"

type goodPrice struct {
	NmID     int64 `json:"nmID"`
	Price    int64 `json:"price"`
	Discount int64 `json:"discount"`
}

type uploadRequest struct {
	Data []goodPrice `json:"data"`
}

type uploadResponse struct {
	Data *struct {
		ID            int64 `json:"id"`
		AlreadyExists bool  `json:"alreadyExists"`
	} `json:"data"`
	Error     bool   `json:"error"`
	ErrorText string `json:"errorText"`
}

// WBPrice turns a selling price and a crossed-out price (kopecks) into
// WB's whole-rouble price before discount and discount percent. WB sells
// at price × (100 − discount) / 100, so the selling price is met to the
// nearest per cent of the old price.
func WBPrice(price, oldPrice int64) (wbPrice, discount int64, err error) {
	if price <= 0 || oldPrice < 0 {
		return 0, 0, fmt.Errorf("wildberries: price %d must be positive, old price %d not negative", price, oldPrice)
	}
	base := price
	if oldPrice > price {
		base = oldPrice
	}
	if base%100 != 0 {
		return 0, 0, fmt.Errorf("wildberries: price %d.%02d is not whole roubles", base/100, base%100)
	}
	if base > price {
		discount = ((base-price)*100 + base/2) / base
		discount = min(discount, 99)
	}
	return base / 100, discount, nil
}

// PushPrices implements marketsim.PricePusher with POST /api/v2/upload/task.
// WB processes the upload later: accepted items are ItemAccepted with the
// upload id in TaskID; PriceTask tells how they ended. A 400 "already set"
// means the values are in place and counts as ItemOK; a 208 names an
// identical upload that exists already.
func (c *Client) PushPrices(ctx context.Context, updates []marketsim.PriceUpdate) ([]marketsim.ItemResult, error) {
	results := make([]marketsim.ItemResult, len(updates))
	goods := make([]goodPrice, len(updates))
	var valid []int
	for i, u := range updates {
		results[i] = marketsim.ItemResult{OfferID: u.OfferID}
		nm, err := ParseNmID(u.OfferID)
		if err != nil {
			reject(&results[i], CodeInvalidID, err.Error())
			continue
		}
		p, d, err := WBPrice(u.Price, u.OldPrice)
		if err != nil {
			reject(&results[i], CodeInvalidPrice, err.Error())
			continue
		}
		goods[i] = goodPrice{NmID: nm, Price: p, Discount: d}
		valid = append(valid, i)
	}
	for start := 0; start < len(valid); start += MaxPriceBatch {
		chunk := valid[start:min(start+MaxPriceBatch, len(valid))]
		req := uploadRequest{Data: make([]goodPrice, len(chunk))}
		for j, i := range chunk {
			req.Data[j] = goods[i]
		}
		status, taskID, err := c.upload(ctx, req)
		if err != nil {
			for _, i := range valid[start:] {
				marketsim.MarkNotSent(&results[i], err)
			}
			return results, err
		}
		for _, i := range chunk {
			results[i].Status = status
			results[i].TaskID = taskID
		}
	}
	return results, nil
}

func (c *Client) upload(ctx context.Context, req uploadRequest) (marketsim.ItemStatus, string, error) {
	const op = "POST /api/v2/upload/task"
	rep, err := c.do(ctx, call{method: http.MethodPost, base: c.opt.PricesURL, prices: true, path: "/api/v2/upload/task",
		in: req, group: c.opt.Limiters.Prices, accept: []int{http.StatusAlreadyReported}})
	var apiErr *marketsim.APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusBadRequest && strings.Contains(apiErr.Message, alreadySet) {
		return marketsim.ItemOK, "", nil
	}
	if err != nil {
		return 0, "", err
	}
	var resp uploadResponse
	if err := json.Unmarshal(rep.body, &resp); err != nil {
		return 0, "", decodeErr(op, rep.status, err)
	}
	if resp.Error || resp.Data == nil {
		return 0, "", &marketsim.APIError{Marketplace: marketplace, Op: op, StatusCode: rep.status,
			Message: resp.ErrorText, Err: marketsim.ErrInvalid}
	}
	return marketsim.ItemAccepted, strconv.FormatInt(resp.Data.ID, 10), nil
}

// Price upload task statuses (GET /api/v2/history/tasks; 1 in the buffer).
const (
	TaskProcessing = 1
	TaskOK         = 3
	TaskCancelled  = 4
	TaskPartial    = 5
	TaskFailed     = 6
)

// ErrTaskCancelled means WB cancelled a price upload: none of its items
// was set, so they must be sent again.
var ErrTaskCancelled = errors.New("wildberries: price upload cancelled")

// goodsPageSize is the page size of GET /api/v2/history/goods/task (its
// maximum).
const goodsPageSize = 1000

type taskSummary struct {
	UploadID int64 `json:"uploadID"`
	Status   int   `json:"status"`
	// OverAllGoodsNumber and SuccessGoodsNumber count the upload's goods
	// and those set.
	OverAllGoodsNumber int `json:"overAllGoodsNumber"`
	SuccessGoodsNumber int `json:"successGoodsNumber"`
}

type taskResponse struct {
	Data      *taskSummary `json:"data"`
	Error     bool         `json:"error"`
	ErrorText string       `json:"errorText"`
}

type historyGood struct {
	NmID      int64  `json:"nmID"`
	Price     int64  `json:"price"`
	Discount  int64  `json:"discount"`
	Status    int    `json:"status"` // 2 ok, 3 error
	ErrorText string `json:"errorText"`
}

type goodsResponse struct {
	Data *struct {
		UploadID     int64         `json:"uploadID"`
		HistoryGoods []historyGood `json:"historyGoods"`
	} `json:"data"`
	Error     bool   `json:"error"`
	ErrorText string `json:"errorText"`
}

// PriceTask reports how a price upload ended: done is false while WB is
// still processing it. Once it is done, refused lists the goods WB did
// not set (ItemRejected with WB's errorText, such as price quarantine,
// OfferID the nmID); every other good of the upload was set. An upload
// WB processed without an error (status 3) costs one request; one with
// errors also reads its goods, a page per 1000. A cancelled upload is
// ErrTaskCancelled, an unknown one ErrUnknownTask. Every call counts
// against the prices limit.
func (c *Client) PriceTask(ctx context.Context, taskID string) (done bool, refused []marketsim.ItemResult, err error) {
	id, err := strconv.ParseInt(taskID, 10, 64)
	if err != nil || id <= 0 {
		return false, nil, fmt.Errorf("wildberries: task id %q is not a positive integer", taskID)
	}
	q := "?uploadID=" + strconv.FormatInt(id, 10)
	sum, err := c.taskStatus(ctx, "/api/v2/history/tasks"+q)
	if err != nil {
		return false, nil, err
	}
	if sum.Status == 0 {
		// Not in the history yet: look in the processing buffer.
		sum, err = c.taskStatus(ctx, "/api/v2/buffer/tasks"+q)
		if err != nil {
			return false, nil, err
		}
		if sum.Status == 0 {
			return false, nil, fmt.Errorf("%w: %s", ErrUnknownTask, taskID)
		}
		return false, nil, nil
	}
	switch sum.Status {
	case TaskProcessing:
		return false, nil, nil
	case TaskOK:
		return true, nil, nil
	case TaskCancelled:
		return true, nil, fmt.Errorf("%w: %s", ErrTaskCancelled, taskID)
	}
	refused, err = c.taskGoods(ctx, id, sum.OverAllGoodsNumber)
	if err != nil {
		return false, nil, err
	}
	if len(refused) == 0 {
		// Errors announced, none listed: what was set is unknown, so
		// nothing is taken as set.
		return false, nil, fmt.Errorf("wildberries: price upload %s has status %d but lists no refused good", taskID, sum.Status)
	}
	return true, refused, nil
}

func (c *Client) taskStatus(ctx context.Context, path string) (taskSummary, error) {
	rep, err := c.do(ctx, call{method: http.MethodGet, base: c.opt.PricesURL, prices: true, path: path, group: c.opt.Limiters.Prices})
	var apiErr *marketsim.APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound {
		return taskSummary{}, nil
	}
	if err != nil {
		return taskSummary{}, err
	}
	var resp taskResponse
	if err := json.Unmarshal(rep.body, &resp); err != nil {
		return taskSummary{}, decodeErr("GET "+pathOnly(path), rep.status, err)
	}
	if resp.Data == nil {
		return taskSummary{}, nil
	}
	return *resp.Data, nil
}

// taskGoods reads the goods of a processed upload, total of them when
// WB gave the number, and returns the refused ones.
func (c *Client) taskGoods(ctx context.Context, id int64, total int) ([]marketsim.ItemResult, error) {
	var refused []marketsim.ItemResult
	read := 0
	for page := 0; page < MaxTaskGoodsPages; page++ {
		path := fmt.Sprintf("/api/v2/history/goods/task?uploadID=%d&limit=%d&offset=%d", id, goodsPageSize, page*goodsPageSize)
		rep, err := c.do(ctx, call{method: http.MethodGet, base: c.opt.PricesURL, prices: true, path: path, group: c.opt.Limiters.Prices})
		if err != nil {
			return nil, err
		}
		var resp goodsResponse
		if err := json.Unmarshal(rep.body, &resp); err != nil {
			return nil, decodeErr("GET /api/v2/history/goods/task", rep.status, err)
		}
		if resp.Data == nil {
			break
		}
		for _, g := range resp.Data.HistoryGoods {
			if r, ok := refusedGood(g, id); ok {
				refused = append(refused, r)
			}
		}
		read += len(resp.Data.HistoryGoods)
		if len(resp.Data.HistoryGoods) < goodsPageSize || (total > 0 && read >= total) {
			break
		}
	}
	return refused, nil
}

// refusedGood is the result of a good WB did not set; ok is false for a
// good it set (status 2, whatever note its errorText carries).
func refusedGood(g historyGood, taskID int64) (marketsim.ItemResult, bool) {
	if g.Status == 2 {
		return marketsim.ItemResult{}, false
	}
	msg := g.ErrorText
	if msg == "" {
		msg = fmt.Sprintf("good not set (status %d)", g.Status)
	}
	return marketsim.ItemResult{OfferID: strconv.FormatInt(g.NmID, 10), TaskID: strconv.FormatInt(taskID, 10),
		Status: marketsim.ItemRejected, Code: "status_" + strconv.Itoa(g.Status), Message: msg}, true
}
