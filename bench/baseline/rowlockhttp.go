package baseline

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/valyala/fasthttp"

	"stockd/adapters/httpapi"
)

// MaxRowLockTxTime bounds one hold or release transaction, waits for a
// pooled connection and row locks included; past it the answer is 503.
const MaxRowLockTxTime = 5 * time.Second

// The row-lock server's fixed replies.
var (
	rowLockHeld         = []byte(`{"status":"held"}`)
	rowLockReplayed     = []byte(`{"status":"held","replay":true}`)
	rowLockReleased     = []byte(`{"status":"released"}`)
	rowLockHealthy      = []byte(`{"status":"ok"}`)
	rowLockInsufficient = []byte(`{"error":"insufficient_stock","message":"not enough free stock for a line"}`)
	rowLockInvalid      = []byte(`{"error":"invalid_request","message":"malformed or out-of-range hold"}`)
	rowLockUnavailable  = []byte(`{"error":"unavailable","message":"the database did not answer in time"}`)
	rowLockNotFound     = []byte(`{"error":"not_found","message":"no such route"}`)
)

// holdRequest is the body of POST /v1/reservations.
type holdRequest struct {
	ID      string `json:"id"`
	Channel string `json:"channel"`
	Lines   []struct {
		SKU string `json:"sku"`
		Qty int64  `json:"qty"`
	} `json:"lines"`
	TTLSeconds int64 `json:"ttl_seconds"`
}

// NewRowLock returns the server that answers the reserve routes from
// store: 201 held, 200 replay (same id), 409 insufficient stock, 422 an
// invalid hold, 503 the database failed or timed out. It does not check
// the API key.
func NewRowLock(store *RowLockStore, limits httpapi.Limits, log *slog.Logger) (*Server, error) {
	if store == nil {
		return nil, errors.New("baseline: a row-lock store is required")
	}
	h := &rowLockHandler{store: store}
	return newServer("stockd-rowlock", limits, log, h.serve)
}

type rowLockHandler struct {
	store *RowLockStore
}

func (h *rowLockHandler) serve(ctx *fasthttp.RequestCtx) {
	r, holdID := parseRoute(ctx.Method(), ctx.Path())
	switch r {
	case routeHold:
		h.hold(ctx)
	case routeRelease:
		h.release(ctx, string(holdID))
	case routeHealth:
		writeBody(ctx, fasthttp.StatusOK, rowLockHealthy)
	default:
		writeBody(ctx, fasthttp.StatusNotFound, rowLockNotFound)
	}
}

func (h *rowLockHandler) hold(ctx *fasthttp.RequestCtx) {
	var req holdRequest
	if err := json.Unmarshal(ctx.PostBody(), &req); err != nil || req.TTLSeconds < 1 {
		writeBody(ctx, fasthttp.StatusUnprocessableEntity, rowLockInvalid)
		return
	}
	hold := Hold{ID: req.ID, Channel: req.Channel, TTL: time.Duration(req.TTLSeconds) * time.Second}
	for _, l := range req.Lines {
		hold.Lines = append(hold.Lines, Line{SKU: l.SKU, Qty: l.Qty})
	}
	txCtx, cancel := context.WithTimeout(context.Background(), MaxRowLockTxTime)
	defer cancel()
	replay, err := h.store.Hold(txCtx, hold)
	switch {
	case err == nil && replay:
		writeBody(ctx, fasthttp.StatusOK, rowLockReplayed)
	case err == nil:
		writeBody(ctx, fasthttp.StatusCreated, rowLockHeld)
	case errors.Is(err, ErrInsufficientStock):
		writeBody(ctx, fasthttp.StatusConflict, rowLockInsufficient)
	case errors.Is(err, ErrInvalidHold):
		writeBody(ctx, fasthttp.StatusUnprocessableEntity, rowLockInvalid)
	default:
		writeBody(ctx, fasthttp.StatusServiceUnavailable, rowLockUnavailable)
	}
}

func (h *rowLockHandler) release(ctx *fasthttp.RequestCtx, holdID string) {
	txCtx, cancel := context.WithTimeout(context.Background(), MaxRowLockTxTime)
	defer cancel()
	if err := h.store.Release(txCtx, holdID); err != nil {
		writeBody(ctx, fasthttp.StatusServiceUnavailable, rowLockUnavailable)
		return
	}
	writeBody(ctx, fasthttp.StatusOK, rowLockReleased)
}
