package marketsim

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The causes an *APIError wraps, for errors.Is.
var (
	ErrRateLimited  = errors.New("marketsim: rate limited")          // 429, 420
	ErrUnauthorized = errors.New("marketsim: unauthorized")          // 401, 403
	ErrInvalid      = errors.New("marketsim: request rejected")      // other 4xx: validation
	ErrConflict     = errors.New("marketsim: conflict")              // Wildberries 409
	ErrServer       = errors.New("marketsim: marketplace error")     // 5xx
	ErrTimeout      = errors.New("marketsim: timed out")             // no reply in time
	ErrTransport    = errors.New("marketsim: transport failure")     // connection refused, reset...
	ErrDecode       = errors.New("marketsim: undecodable reply")     // a 2xx body we cannot read
	ErrLocked       = errors.New("marketsim: locked by marketplace") // Yandex Market 423
)

// APIError is a failed marketplace request. Retriable says whether the same
// request may succeed later; RetryAfter, when positive, is the wait the
// marketplace asked for (Retry-After, X-Ratelimit-Retry, X-Ratelimit-Reset,
// X-RateLimit-Resource-Until, whichever it sends).
type APIError struct {
	Marketplace string        // "ozon", "wildberries", "yandexmarket"
	Op          string        // "POST /v2/products/stocks"
	StatusCode  int           // HTTP status; 0 when no reply came
	Code        string        // the marketplace's error code, if any
	Message     string        // the marketplace's message, if any
	RetryAfter  time.Duration // 0: no hint
	Retriable   bool
	Err         error // one of the Err* causes above, or a transport error
}

func (e *APIError) Error() string {
	msg := e.Message
	if e.Code != "" {
		msg = e.Code + ": " + msg
	}
	status := "no reply"
	if e.StatusCode != 0 {
		status = fmt.Sprintf("HTTP %d", e.StatusCode)
	}
	s := fmt.Sprintf("%s: %s: %s", e.Marketplace, e.Op, status)
	if msg != "" {
		s += ": " + msg
	}
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	if e.Err != nil && e.StatusCode == 0 {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *APIError) Unwrap() error { return e.Err }

// IsRetriable reports whether err says a retry is safe and may succeed,
// and how long the marketplace asked to wait (0: no hint).
func IsRetriable(err error) (bool, time.Duration) {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Retriable, apiErr.RetryAfter
	}
	return false, 0
}

// CauseForStatus maps an HTTP status to the cause an *APIError wraps and
// whether a retry may succeed. Marketplace-specific codes (420, 409) are
// mapped by the adapters before they call this.
func CauseForStatus(status int) (cause error, retriable bool) {
	switch {
	case status == 429 || status == 420:
		return ErrRateLimited, true
	case status == 401 || status == 403:
		return ErrUnauthorized, false
	case status == 423:
		return ErrLocked, false
	case status == 408:
		return ErrTimeout, true
	case status >= 500:
		return ErrServer, true
	default:
		return ErrInvalid, false
	}
}

// MarkNotSent makes r an ItemNotSent result carrying err's retry hint; it
// keeps r's OfferID and WarehouseID. The caller's cancellation leaves the
// item retriable: nothing is wrong with it.
func MarkNotSent(r *ItemResult, err error) {
	retriable, wait := IsRetriable(err)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		retriable = true
	}
	code, msg := "", err.Error()
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		code = apiErr.Code
		if apiErr.Message != "" {
			msg = apiErr.Message
		}
	}
	r.Status = ItemNotSent
	r.Code = code
	r.Message = msg
	r.Retriable = retriable
	r.RetryAfter = wait
}
