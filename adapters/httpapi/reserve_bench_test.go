package httpapi

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"stockd/reservation"
)

// echoBackend holds whatever is asked, at once: the handler's own cost.
type echoBackend struct{ hold reservation.Hold }

func (b *echoBackend) Ready() error         { return nil }
func (b *echoBackend) MaxLinesPerHold() int { return 100 }

func (b *echoBackend) Reserve(_ context.Context, req reservation.ReserveRequest) (reservation.Hold, bool, error) {
	h := &b.hold
	h.ID, h.Channel, h.State, h.TTL = req.ID, req.Channel, reservation.HoldHeld, req.TTL
	h.CreatedAt = time.Date(2026, 11, 21, 10, 0, 0, 123456789, time.UTC)
	h.ExpiresAt = h.CreatedAt.Add(15 * time.Minute)
	h.Lines, h.Allocations = h.Lines[:0], h.Allocations[:0]
	for i, ln := range req.Lines {
		h.Lines = append(h.Lines, ln)
		h.Allocations = append(h.Allocations, reservation.Allocation{Line: i, SKU: ln.SKU, Warehouse: "wh-msk", Qty: ln.Qty})
	}
	return *h, false, nil
}

func (b *echoBackend) Confirm(context.Context, string, time.Duration) (reservation.Hold, error) {
	return b.hold, nil
}
func (b *echoBackend) Release(context.Context, string) (reservation.Hold, error) { return b.hold, nil }
func (b *echoBackend) Hold(context.Context, string) (reservation.Hold, error)    { return b.hold, nil }
func (b *echoBackend) Availability(string, string) (Availability, error)         { return Availability{}, nil }

var benchReserveBody = []byte(`{"id":"order-1001-3f0c9a7e","channel":"site","lines":[` +
	`{"sku":"8f1c2d3e-4f50-6172-8394-a5b6c7d8e9f0#a2c4e6f8-0a1b-2c3d-4e5f-60718293a4b5","qty":2},` +
	`{"sku":"8f1c2d3e-4f50-6172-8394-a5b6c7d8e9f1","qty":1}],"ttl_seconds":900}`)

// BenchmarkCreateHold: the reserve handler (decode, backend call, reply)
// against a backend that answers at once; "encoding_json" is the same
// handler with the encoding/json decoder and encoder it had before.
func BenchmarkCreateHold(b *testing.B) {
	s, err := New(Options{Backend: &echoBackend{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Limits: DefaultLimits()})
	if err != nil {
		b.Fatal(err)
	}
	for _, handler := range []struct {
		name string
		fn   func(*fasthttp.RequestCtx)
	}{{"append", s.createHold}, {"encoding_json", s.createHoldReference}} {
		b.Run(handler.name, func(b *testing.B) {
			var ctx fasthttp.RequestCtx
			ctx.Request.SetBody(benchReserveBody)
			b.ReportAllocs()
			for b.Loop() {
				ctx.Response.Reset()
				handler.fn(&ctx)
				if ctx.Response.StatusCode() != fasthttp.StatusCreated {
					b.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
				}
			}
		})
	}
}

// createHoldReference is createHold as it was on encoding/json.
func (s *Server) createHoldReference(ctx *fasthttp.RequestCtx) {
	rb, err := decodeReserveReference(ctx.PostBody(), s.backend.MaxLinesPerHold())
	if err != nil {
		s.writeDecodeError(ctx, err)
		return
	}
	req := reservation.ReserveRequest{ID: rb.ID, Channel: rb.Channel, TTL: ttlOf(rb.TTLSeconds),
		Lines: make([]reservation.Line, len(rb.Lines))}
	for i, ln := range rb.Lines {
		req.Lines[i] = reservation.Line{SKU: ln.SKU, Qty: ln.Qty}
	}
	rctx, cancel := s.requestContext(ctx)
	defer cancel()
	h, _, err := s.backend.Reserve(rctx, req)
	if err != nil {
		s.writeBackendError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusCreated, holdReply(&h))
}
