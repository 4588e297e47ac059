package yandexmarket

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"stockd/adapters/marketsim"
)

// DefaultBaseURL is the Partner API host.
const DefaultBaseURL = "https://api.partner.market.yandex.ru"

// MaxResponseBytes bounds the reply bodies the client reads.
const MaxResponseBytes = 16 << 20

const marketplace = "yandexmarket"

// StockMethod is how stock is pushed; the cabinet's set-up decides it.
type StockMethod uint8

// The stock methods.
const (
	// StockByCampaign: PUT /v2/campaigns/{campaignId}/offers/stocks, for
	// cabinets with warehouse groups (send stock for any one warehouse
	// of a group). StockUpdate.WarehouseID must be empty or the campaign
	// id.
	StockByCampaign StockMethod = iota + 1
	// StockByWarehouse: POST /v3/businesses/{businessId}/offers/stocks/update,
	// for cabinets without warehouse groups; StockUpdate.WarehouseID is the
	// partnerWarehouseId.
	StockByWarehouse
)

// Options configure a Client. Every field is explicit.
type Options struct {
	BaseURL     string
	APIKey      string // Api-Key header; OAuth is deprecated and not supported
	BusinessID  int64  // cabinet, for prices and warehouse stock
	CampaignID  int64  // store, for campaign stock, stock reads and orders
	StockMethod StockMethod
	// MaxInFlight caps open requests per campaign and per business
	// (1..MaxParallel); DefaultMaxInFlight stays under both readings of
	// the documented limit.
	MaxInFlight int
	// HTTP sends the requests; its Timeout must be set.
	HTTP     *http.Client
	Limiters Limiters
	Now      func() time.Time
}

// Client talks to one Yandex Market cabinet and campaign. Safe for
// concurrent use.
type Client struct {
	opt          Options
	campaignSlot chan struct{}
	businessSlot chan struct{}
	campaignStr  string
}

var (
	_ marketsim.StockPusher = (*Client)(nil)
	_ marketsim.PricePusher = (*Client)(nil)
	_ marketsim.StockReader = (*Client)(nil)
	_ marketsim.OrderSource = (*Client)(nil)
)

// New checks the options.
func New(opt Options) (*Client, error) {
	switch {
	case opt.BaseURL == "":
		return nil, errors.New("yandexmarket: no base URL")
	case opt.HTTP == nil:
		return nil, errors.New("yandexmarket: no HTTP client")
	case opt.HTTP.Timeout <= 0:
		return nil, errors.New("yandexmarket: the HTTP client has no timeout")
	case opt.APIKey == "":
		return nil, errors.New("yandexmarket: no Api-Key")
	case opt.BusinessID <= 0 || opt.CampaignID <= 0:
		return nil, errors.New("yandexmarket: business and campaign ids must be positive")
	case opt.StockMethod != StockByCampaign && opt.StockMethod != StockByWarehouse:
		return nil, errors.New("yandexmarket: unknown stock method")
	case opt.MaxInFlight < 1 || opt.MaxInFlight > MaxParallel:
		return nil, fmt.Errorf("yandexmarket: MaxInFlight %d is outside 1..%d", opt.MaxInFlight, MaxParallel)
	case opt.Now == nil:
		return nil, errors.New("yandexmarket: no clock")
	}
	opt.BaseURL = strings.TrimRight(opt.BaseURL, "/")
	return &Client{
		opt:          opt,
		campaignSlot: make(chan struct{}, opt.MaxInFlight),
		businessSlot: make(chan struct{}, opt.MaxInFlight),
		campaignStr:  strconv.FormatInt(opt.CampaignID, 10),
	}, nil
}

// MaxStockBatch implements marketsim.StockPusher.
func (c *Client) MaxStockBatch() int { return MaxStockBatch }

// MaxPriceBatch implements marketsim.PricePusher.
func (c *Client) MaxPriceBatch() int { return MaxPriceBatch }

type call struct {
	method string
	path   string // with the query
	body   []byte // nil: none
	group  marketsim.Limiter
	cost   int           // tokens taken from group
	slot   chan struct{} // campaign or business in-flight slots
}

// apiError is YM's error body: {"status":"ERROR","errors":[{code,message}]}.
type apiError struct {
	Status string `json:"status"`
	Errors []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
}

func (c *Client) do(ctx context.Context, k call, out any) error {
	op := k.method + " " + pathOnly(k.path)
	if k.group != nil {
		if err := k.group.Wait(ctx, max(k.cost, 1)); err != nil {
			return err
		}
	}
	select {
	case k.slot <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-k.slot }()
	var body io.Reader
	if k.body != nil {
		body = bytes.NewReader(k.body)
	}
	req, err := http.NewRequestWithContext(ctx, k.method, c.opt.BaseURL+k.path, body)
	if err != nil {
		return fmt.Errorf("yandexmarket: %s: %w", op, err)
	}
	if k.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Api-Key", c.opt.APIKey)
	resp, err := c.opt.HTTP.Do(req)
	if err != nil {
		return transportError(ctx, op, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return transportError(ctx, op, err)
	}
	if len(raw) > MaxResponseBytes {
		return &marketsim.APIError{Marketplace: marketplace, Op: op, StatusCode: resp.StatusCode,
			Message: "reply larger than MaxResponseBytes", Err: marketsim.ErrDecode}
	}
	if resp.StatusCode != http.StatusOK {
		e := c.statusError(op, resp, raw)
		if e.Err == marketsim.ErrRateLimited && e.RetryAfter > 0 && k.group != nil {
			k.group.Penalize(c.opt.Now().Add(e.RetryAfter))
		}
		return e
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return &marketsim.APIError{Marketplace: marketplace, Op: op, StatusCode: resp.StatusCode,
			Message: err.Error(), Err: marketsim.ErrDecode}
	}
	return nil
}

func (c *Client) statusError(op string, resp *http.Response, raw []byte) *marketsim.APIError {
	cause, retriable := marketsim.CauseForStatus(resp.StatusCode)
	e := &marketsim.APIError{Marketplace: marketplace, Op: op, StatusCode: resp.StatusCode,
		Retriable: retriable, Err: cause}
	var body apiError
	if json.Unmarshal(raw, &body) == nil && len(body.Errors) > 0 {
		e.Code = body.Errors[0].Code
		msgs := make([]string, 0, len(body.Errors))
		for _, m := range body.Errors {
			msgs = append(msgs, m.Message)
		}
		e.Message = strings.Join(msgs, "; ")
	} else {
		e.Message = strings.TrimSpace(string(truncate(raw, 512)))
	}
	e.RetryAfter = retryHint(resp.Header, c.opt.Now())
	return e
}

// retryHint reads Retry-After, then X-RateLimit-Resource-Until (an RFC 822
// date at which the quota resets).
func retryHint(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if secs, err := strconv.ParseFloat(v, 64); err == nil && secs > 0 && secs <= 24*3600 {
			return time.Duration(secs * float64(time.Second))
		}
		if d := untilDate(v, now); d > 0 {
			return d
		}
	}
	return untilDate(h.Get("X-RateLimit-Resource-Until"), now)
}

func untilDate(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	for _, layout := range []string{time.RFC1123, time.RFC1123Z, time.RFC822, time.RFC822Z, time.RFC850, time.ANSIC, time.RFC3339} {
		if t, err := time.Parse(layout, v); err == nil {
			if d := t.Sub(now); d > 0 && d <= 24*time.Hour {
				return d
			}
			return 0
		}
	}
	return 0
}

func transportError(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	e := &marketsim.APIError{Marketplace: marketplace, Op: op, Retriable: true,
		Err: fmt.Errorf("%w: %w", marketsim.ErrTransport, err)}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		e.Err = fmt.Errorf("%w: %w", marketsim.ErrTimeout, err)
	}
	return e
}

func pathOnly(p string) string {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		return p[:i]
	}
	return p
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

type okReply struct {
	Status string `json:"status"`
}
