package ozon

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

// DefaultBaseURL is the Seller API host.
const DefaultBaseURL = "https://api-seller.ozon.ru"

// MaxResponseBytes bounds the reply bodies the client reads.
const MaxResponseBytes = 16 << 20

// marketplace names this adapter in errors.
const marketplace = "ozon"

// Options configure a Client. Every field is explicit; New rejects a
// client without timeouts.
type Options struct {
	BaseURL  string // DefaultBaseURL, or a simulator's URL
	ClientID string // Client-Id header
	APIKey   string // Api-Key header
	// BearerToken, if set, is sent as "Authorization: Bearer" instead of
	// Client-Id and Api-Key (OAuth applications).
	BearerToken string
	// HTTP sends the requests; its Timeout must be set (never
	// http.DefaultClient).
	HTTP     *http.Client
	Limiters Limiters
	Now      func() time.Time // clock for retry hints and penalties
	// OrderWindowBack and OrderWindowAhead bound the cutoff filter of the
	// unfulfilled postings list around now. Whether the list needs the
	// filter and how wide it may be is UNCONFIRMED for v4; 30 days each
	// way is a safe choice.
	OrderWindowBack  time.Duration
	OrderWindowAhead time.Duration
	// StockCooldown is put into the RetryAfter of items Ozon refused as
	// updated too often: StockCooldown (30 s) or 2 minutes on old rules.
	StockCooldown time.Duration
}

// Client talks to one Ozon seller account. Safe for concurrent use.
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
	case opt.BaseURL == "":
		return nil, errors.New("ozon: no base URL")
	case opt.HTTP == nil:
		return nil, errors.New("ozon: no HTTP client")
	case opt.HTTP.Timeout <= 0:
		return nil, errors.New("ozon: the HTTP client has no timeout")
	case opt.BearerToken == "" && (opt.ClientID == "" || opt.APIKey == ""):
		return nil, errors.New("ozon: need Client-Id and Api-Key, or a bearer token")
	case opt.Now == nil:
		return nil, errors.New("ozon: no clock")
	case opt.OrderWindowBack <= 0 || opt.OrderWindowAhead <= 0:
		return nil, errors.New("ozon: order window must be positive both ways")
	case opt.StockCooldown <= 0:
		return nil, errors.New("ozon: stock cooldown must be positive")
	}
	opt.BaseURL = strings.TrimRight(opt.BaseURL, "/")
	return &Client{opt: opt}, nil
}

// MaxStockBatch implements marketsim.StockPusher.
func (c *Client) MaxStockBatch() int { return MaxStockBatch }

// MaxPriceBatch implements marketsim.PricePusher.
func (c *Client) MaxPriceBatch() int { return MaxPriceBatch }

// errorBody is Ozon's common error reply: {code, message, details[]}.
type errorBody struct {
	Code    int               `json:"code"`
	Message string            `json:"message"`
	Details []json.RawMessage `json:"details"`
}

// post sends one paced request and decodes a 200 reply into out.
func (c *Client) post(ctx context.Context, path string, group marketsim.Limiter, in, out any) error {
	op := "POST " + path
	if err := c.pace(ctx, group); err != nil {
		return err
	}
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("ozon: %s: encode: %w", op, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.opt.BaseURL+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("ozon: %s: %w", op, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.opt.BearerToken != "" {
		req.Header.Set("Authorization", "Bearer "+c.opt.BearerToken)
	} else {
		req.Header.Set("Client-Id", c.opt.ClientID)
		req.Header.Set("Api-Key", c.opt.APIKey)
	}
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
		apiErr := c.statusError(op, resp, raw)
		switch {
		case errors.Is(apiErr, ErrCircleOpen):
			// Only this method is blocked: the others go on.
			if group != nil {
				group.Penalize(c.opt.Now().Add(apiErr.RetryAfter))
			}
		case apiErr.StatusCode == http.StatusTooManyRequests && apiErr.RetryAfter > 0:
			c.penalize(group, c.opt.Now().Add(apiErr.RetryAfter))
		}
		return apiErr
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return &marketsim.APIError{Marketplace: marketplace, Op: op, StatusCode: resp.StatusCode,
			Message: err.Error(), Err: marketsim.ErrDecode}
	}
	return nil
}

func (c *Client) pace(ctx context.Context, group marketsim.Limiter) error {
	if c.opt.Limiters.Global != nil {
		if err := c.opt.Limiters.Global.Wait(ctx, 1); err != nil {
			return err
		}
	}
	if group != nil {
		return group.Wait(ctx, 1)
	}
	return nil
}

func (c *Client) penalize(group marketsim.Limiter, until time.Time) {
	if c.opt.Limiters.Global != nil {
		c.opt.Limiters.Global.Penalize(until)
	}
	if group != nil {
		group.Penalize(until)
	}
}

// statusError turns a non-200 reply into an *APIError.
func (c *Client) statusError(op string, resp *http.Response, raw []byte) *marketsim.APIError {
	cause, retriable := marketsim.CauseForStatus(resp.StatusCode)
	e := &marketsim.APIError{Marketplace: marketplace, Op: op, StatusCode: resp.StatusCode,
		Retriable: retriable, Err: cause}
	var body errorBody
	if json.Unmarshal(raw, &body) == nil && (body.Code != 0 || body.Message != "") {
		e.Code = strconv.Itoa(body.Code)
		e.Message = body.Message
	} else {
		e.Message = strings.TrimSpace(string(truncate(raw, 512)))
	}
	// Whether Ozon sends Retry-After is UNCONFIRMED; read it if present.
	e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), c.opt.Now())
	// Ozon's "Circle is open" (at any status; which one is UNCONFIRMED):
	// the method is blocked for a few minutes after too many calls.
	// Retriable after CircleOpenPause, not after a short backoff.
	if IsCircleOpen(e.Message) {
		e.Retriable = true
		e.Err = fmt.Errorf("%w: %w", marketsim.ErrRateLimited, ErrCircleOpen)
		e.RetryAfter = max(e.RetryAfter, CircleOpenPause)
	}
	return e
}

// ErrCircleOpen is the cause of a request Ozon refused with "Circle is
// open": the method is blocked for the account for a few minutes.
var ErrCircleOpen = errors.New("ozon: method blocked (circle is open)")

// IsCircleOpen reports whether an Ozon error message is "Circle is open".
func IsCircleOpen(message string) bool {
	return strings.Contains(strings.ToLower(message), "circle is open")
}

// retryAfter parses a Retry-After value: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
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

// transportError classifies a failure with no HTTP reply. The caller's own
// cancellation is returned as is; a timeout of the HTTP client is a
// retriable *APIError.
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
