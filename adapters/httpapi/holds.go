package httpapi

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"stockd/adapters/telemetry"
	"stockd/reservation"
)

// Backend is what the HTTP layer needs from the engine. Every method is
// called while the handler runs; nothing it is given outlives the call.
type Backend interface {
	// Ready reports nil when the engine can take writes: the journal is
	// healthy and recovery has finished.
	Ready() error
	// MaxLinesPerHold is the ledger's limit, checked early by the decoder.
	MaxLinesPerHold() int
	// Reserve creates or replays a hold; it returns once the hold is durable.
	Reserve(ctx context.Context, req reservation.ReserveRequest) (h reservation.Hold, replayed bool, err error)
	// Confirm confirms a hold; ttl 0 means no expiry.
	Confirm(ctx context.Context, id string, ttl time.Duration) (reservation.Hold, error)
	// Release releases a hold; releasing a released hold is not an error.
	Release(ctx context.Context, id string) (reservation.Hold, error)
	// Hold returns a hold by id (reservation.ErrHoldNotFound if unknown).
	Hold(ctx context.Context, id string) (reservation.Hold, error)
	// Availability returns a SKU across warehouses and channels; channel ""
	// means every channel.
	Availability(sku, channel string) (Availability, error)
}

func (s *Server) createHold(ctx *fasthttp.RequestCtx) {
	rb, err := DecodeReserve(ctx.PostBody(), s.backend.MaxLinesPerHold())
	if err != nil {
		s.writeDecodeError(ctx, err)
		return
	}
	if rb.TTLSeconds != nil && *rb.TTLSeconds == 0 {
		writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_request",
			"ttl_seconds: must be at least 1 (leave it out for the default)", nil)
		return
	}
	req := reservation.ReserveRequest{ID: rb.ID, Channel: rb.Channel, TTL: ttlOf(rb.TTLSeconds),
		Lines: make([]reservation.Line, len(rb.Lines))}
	for i, ln := range rb.Lines {
		req.Lines[i] = reservation.Line{SKU: ln.SKU, Qty: ln.Qty}
	}
	rctx, cancel := s.requestContext(ctx)
	defer cancel()
	if span := trace.SpanFromContext(rctx); span.IsRecording() {
		span.SetAttributes(attribute.String(telemetry.AttrChannel, req.Channel))
	}
	h, replayed, err := s.backend.Reserve(rctx, req)
	if err != nil {
		s.writeBackendError(ctx, err)
		return
	}
	status := fasthttp.StatusCreated
	if replayed {
		status = fasthttp.StatusOK
	}
	writeHoldReply(ctx, status, &h)
}

func (s *Server) confirmHold(ctx *fasthttp.RequestCtx, id string) {
	cb, err := DecodeConfirm(ctx.PostBody())
	if err != nil {
		s.writeDecodeError(ctx, err)
		return
	}
	rctx, cancel := s.requestContext(ctx)
	defer cancel()
	h, err := s.backend.Confirm(rctx, id, ttlOf(cb.TTLSeconds))
	s.writeHold(ctx, h, err)
}

func (s *Server) releaseHold(ctx *fasthttp.RequestCtx, id string) {
	rctx, cancel := s.requestContext(ctx)
	defer cancel()
	h, err := s.backend.Release(rctx, id)
	s.writeHold(ctx, h, err)
}

func (s *Server) getHold(ctx *fasthttp.RequestCtx, id string) {
	rctx, cancel := s.requestContext(ctx)
	defer cancel()
	h, err := s.backend.Hold(rctx, id)
	s.writeHold(ctx, h, err)
}

func (s *Server) writeHold(ctx *fasthttp.RequestCtx, h reservation.Hold, err error) {
	if err != nil {
		s.writeBackendError(ctx, err)
		return
	}
	writeHoldReply(ctx, fasthttp.StatusOK, &h)
}

func (s *Server) availability(ctx *fasthttp.RequestCtx, sku string) {
	channel := string(ctx.QueryArgs().Peek("channel"))
	if err := checkID("sku", sku, MaxSKUBytes); err != nil {
		s.writeDecodeError(ctx, err)
		return
	}
	av, err := s.backend.Availability(sku, channel)
	if err != nil {
		s.writeBackendError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, av)
}

// BatchReply is the reply of POST /v1/availability:batch.
type BatchReply struct {
	Items []Availability `json:"items"`
}

func (s *Server) availabilityBatch(ctx *fasthttp.RequestCtx) {
	bb, err := DecodeBatch(ctx.PostBody(), s.limits.MaxBatchSKUs)
	if err != nil {
		s.writeDecodeError(ctx, err)
		return
	}
	reply := BatchReply{Items: make([]Availability, 0, len(bb.SKUs))}
	for _, sku := range bb.SKUs {
		av, err := s.backend.Availability(sku, bb.Channel)
		if err != nil {
			s.writeBackendError(ctx, err)
			return
		}
		reply.Items = append(reply.Items, av)
	}
	writeJSON(ctx, fasthttp.StatusOK, reply)
}

// rawPathParam is pathParam over the request's path as sent, still
// percent-encoded: fasthttp's Path is decoded already, so an id holding
// "/" ("2026/11/5" as "2026%2F11%2F5") would split into segments there,
// and one holding "%" ("50%off" as "50%25off") would be decoded twice.
// Hold ids and SKUs are read this way; the decoded path only routes.
// path is the decoded path the router has: when the request's path needed
// no decoding (the usual request) it is the same text, and no copy of the
// raw path is made.
func rawPathParam(ctx *fasthttp.RequestCtx, path, prefix string) (param, rest string, ok bool) {
	if raw := ctx.Request.URI().PathOriginal(); string(raw) != path {
		path = string(raw)
	}
	return pathParam(path, prefix)
}

// pathParam splits "/v1/reservations/{id}/confirm" style paths, given
// percent-encoded; the id is percent-decoded (a SKU's '#' arrives as %23).
func pathParam(path, prefix string) (param, rest string, ok bool) {
	tail, found := strings.CutPrefix(path, prefix)
	if !found || tail == "" {
		return "", "", false
	}
	raw, rest, _ := strings.Cut(tail, "/")
	p, err := url.PathUnescape(raw)
	if err != nil || p == "" {
		return "", "", false
	}
	return p, rest, true
}

func (s *Server) writeDecodeError(ctx *fasthttp.RequestCtx, err error) {
	var fe *fieldError
	var se *syntaxError
	var le *reservation.LimitError
	switch {
	case errors.As(err, &le):
		s.writeBackendError(ctx, err)
	case errors.As(err, &fe):
		writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_request", fe.Error(),
			map[string]any{"field": fe.Field})
	case errors.As(err, &se):
		writeError(ctx, fasthttp.StatusBadRequest, "malformed_json", se.Error(), nil)
	default:
		writeError(ctx, fasthttp.StatusBadRequest, "malformed_request", err.Error(), nil)
	}
}
