package baseline

import (
	"log/slog"

	"github.com/valyala/fasthttp"

	"stockd/adapters/httpapi"
)

// The noop server's fixed replies.
var (
	noopHeld     = []byte(`{"id":"noop","status":"held"}`)
	noopReleased = []byte(`{"status":"released"}`)
	noopHealthy  = []byte(`{"status":"ok"}`)
	noopNotFound = []byte(`{"error":"not_found","message":"no such route"}`)
)

// NewNoop returns the server that answers POST /v1/reservations with 201,
// POST /v1/reservations/{id}/release with 200 and GET /healthz with 200,
// each with a fixed small JSON body, and anything else with 404. It reads
// neither the body nor the API key.
func NewNoop(limits httpapi.Limits, log *slog.Logger) (*Server, error) {
	return newServer("stockd-noop", limits, log, func(ctx *fasthttp.RequestCtx) {
		r, _ := parseRoute(ctx.Method(), ctx.Path())
		switch r {
		case routeHold:
			writeBody(ctx, fasthttp.StatusCreated, noopHeld)
		case routeRelease:
			writeBody(ctx, fasthttp.StatusOK, noopReleased)
		case routeHealth:
			writeBody(ctx, fasthttp.StatusOK, noopHealthy)
		default:
			writeBody(ctx, fasthttp.StatusNotFound, noopNotFound)
		}
	})
}
