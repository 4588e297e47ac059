package wildberries

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

// The hosts.
const (
	DefaultMarketplaceURL = "https://marketplace-api.wildberries.ru"
	DefaultPricesURL      = "https://discounts-prices-api.wildberries.ru"
)

// MaxResponseBytes bounds the reply bodies the client reads.
const MaxResponseBytes = 16 << 20

const marketplace = "wildberries"

// Options configure a Client. Every field is explicit; New rejects a
// client without timeouts.
type Options struct {
	MarketplaceURL string // stocks and FBS orders
	PricesURL      string // prices and discounts
	// Token is sent as "Authorization: <token>" to the marketplace host.
	// WB tokens carry categories (Marketplace, Prices & discounts...).
	Token string
	// PricesToken, if set, is used for the prices host instead of Token.
	PricesToken string
	// HTTP sends the requests; its Timeout must be set.
	HTTP     *http.Client
	Limiters Limiters
	Now      func() time.Time
}

// Client talks to one Wildberries seller account. Safe for concurrent use.
type Client struct {
	opt Options
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
	case opt.MarketplaceURL == "" || opt.PricesURL == "":
		return nil, errors.New("wildberries: need the marketplace and prices URLs")
	case opt.HTTP == nil:
		return nil, errors.New("wildberries: no HTTP client")
	case opt.HTTP.Timeout <= 0:
		return nil, errors.New("wildberries: the HTTP client has no timeout")
	case opt.Token == "":
		return nil, errors.New("wildberries: no token")
	case opt.Now == nil:
		return nil, errors.New("wildberries: no clock")
	}
	if opt.PricesToken == "" {
		opt.PricesToken = opt.Token
	}
	opt.MarketplaceURL = strings.TrimRight(opt.MarketplaceURL, "/")
	opt.PricesURL = strings.TrimRight(opt.PricesURL, "/")
	return &Client{opt: opt}, nil
}

// MaxStockBatch implements marketsim.StockPusher.
func (c *Client) MaxStockBatch() int { return MaxStockBatch }

// MaxPriceBatch implements marketsim.PricePusher.
func (c *Client) MaxPriceBatch() int { return MaxPriceBatch }

// call is one request.
type call struct {
	method string
	prices bool   // the prices host (PricesURL, PricesToken), else the marketplace host
	base   string // MarketplaceURL or PricesURL
	path   string // with the query, if any
	in     any    // nil: no body
	group  marketsim.Limiter
	// accept lists the statuses decoded as success besides 200 and 204.
	accept []int
}

// reply is what came back from a successful call.
type reply struct {
	status int
	body   []byte
}

func (c *Client) do(ctx context.Context, k call) (reply, error) {
	op := k.method + " " + pathOnly(k.path)
	if k.group != nil {
		if err := k.group.Wait(ctx, 1); err != nil {
			return reply{}, err
		}
	}
	var body io.Reader
	if k.in != nil {
		raw, err := json.Marshal(k.in)
		if err != nil {
			return reply{}, fmt.Errorf("wildberries: %s: encode: %w", op, err)
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, k.method, k.base+k.path, body)
	if err != nil {
		return reply{}, fmt.Errorf("wildberries: %s: %w", op, err)
	}
	if k.in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	token := c.opt.Token
	if k.prices {
		token = c.opt.PricesToken
	}
	req.Header.Set("Authorization", token)
	resp, err := c.opt.HTTP.Do(req)
	if err != nil {
		return reply{}, transportError(ctx, op, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return reply{}, transportError(ctx, op, err)
	}
	if len(raw) > MaxResponseBytes {
		return reply{}, &marketsim.APIError{Marketplace: marketplace, Op: op, StatusCode: resp.StatusCode,
			Message: "reply larger than MaxResponseBytes", Err: marketsim.ErrDecode}
	}
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusNoContent || accepted(resp.StatusCode, k.accept) {
		return reply{status: resp.StatusCode, body: raw}, nil
	}
	apiErr := c.statusError(op, resp, raw)
	if k.group != nil {
		switch {
		case resp.StatusCode == http.StatusConflict:
			k.group.Charge(ConflictCost - 1) // a 409 counts as 10 requests
		case apiErr.Err == marketsim.ErrRateLimited && apiErr.RetryAfter > 0:
			k.group.Penalize(c.opt.Now().Add(apiErr.RetryAfter))
		}
	}
	return reply{status: resp.StatusCode, body: raw}, apiErr
}

func accepted(status int, list []int) bool {
	for _, s := range list {
		if s == status {
			return true
		}
	}
	return false
}

func pathOnly(p string) string {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		return p[:i]
	}
	return p
}

// errorBody covers WB's error shapes: the common one
// {title, detail, code, requestId, origin, status, statusText, timestamp},
// the marketplace one {code, message, data} and the prices one
// {data, error, errorText}.
type errorBody struct {
	Title     string          `json:"title"`
	Detail    string          `json:"detail"`
	Code      json.RawMessage `json:"code"`
	Message   string          `json:"message"`
	ErrorText string          `json:"errorText"`
	RequestID string          `json:"requestId"`
}

// statusError turns a failed reply into an *APIError.
func (c *Client) statusError(op string, resp *http.Response, raw []byte) *marketsim.APIError {
	cause, retriable := marketsim.CauseForStatus(resp.StatusCode)
	if resp.StatusCode == http.StatusConflict {
		cause, retriable = marketsim.ErrConflict, false
	}
	e := &marketsim.APIError{Marketplace: marketplace, Op: op, StatusCode: resp.StatusCode,
		Retriable: retriable, Err: cause}
	var body errorBody
	if err := json.Unmarshal(raw, &body); err == nil {
		e.Code = rawCode(body.Code)
		e.Message = firstNonEmpty(body.Detail, body.Message, body.ErrorText, body.Title)
	} else if conflicts, ok := decodeConflicts(raw); ok && len(conflicts) > 0 {
		e.Code, e.Message = conflicts[0].Code, conflicts[0].Message
		e.Retriable = conflicts[0].Code == CodeStoreIsProcessing
	} else {
		e.Message = strings.TrimSpace(string(truncate(raw, 512)))
	}
	e.RetryAfter = retryHint(resp.Header, c.opt.Now())
	return e
}

// retryHint reads the wait WB asked for: X-Ratelimit-Retry (seconds),
// then Retry-After, then X-Ratelimit-Reset (read as seconds until the
// bucket refills; its exact meaning is UNCONFIRMED).
func retryHint(h http.Header, now time.Time) time.Duration {
	for _, name := range []string{"X-Ratelimit-Retry", "Retry-After", "X-Ratelimit-Reset"} {
		if d := parseWait(h.Get(name), now); d > 0 {
			return d
		}
	}
	return 0
}

func parseWait(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 || secs > 24*3600 {
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) && t.Sub(now) <= 24*time.Hour {
		return t.Sub(now)
	}
	return 0
}

func rawCode(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
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

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

func decodeErr(op string, status int, err error) *marketsim.APIError {
	return &marketsim.APIError{Marketplace: marketplace, Op: op, StatusCode: status,
		Message: err.Error(), Err: marketsim.ErrDecode}
}
