package httpapi

import (
	"context"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"stockd/adapters/telemetry"
)

// observed wraps the router: every request's latency is recorded under
// its route template (never the raw path, so series stay few), and each
// answer to POST /v1/reservations is counted by outcome.
func (s *Server) observed(ctx *fasthttp.RequestCtx) {
	start := time.Now()
	s.route(ctx)
	if s.inst == nil {
		return
	}
	method, path := string(ctx.Method()), string(ctx.Path())
	tmpl := routeTemplate(path)
	status := ctx.Response.StatusCode()
	rctx := context.Background()
	s.inst.RecordHTTP(rctx, method, tmpl, status, time.Since(start))
	if tmpl == "/v1/reservations" && method == fasthttp.MethodPost {
		s.inst.ReserveOutcome(rctx, "all", reserveOutcome(status, ctx.Response.Body()))
	}
}

// routeTemplate maps a path to the route it was served by.
func routeTemplate(path string) string {
	switch {
	case path == "/healthz", path == "/readyz", path == "/metrics", path == "/v1/reservations",
		path == "/v1/availability:batch", path == "/v1/events", path == "/v1/ingest", path == "/v1/channels",
		path == "/1c/exchange", path == "/bitrix/admin/1c_exchange.php":
		return path
	case strings.HasPrefix(path, "/v1/reservations/"):
		switch {
		case strings.HasSuffix(path, "/confirm"):
			return "/v1/reservations/{id}/confirm"
		case strings.HasSuffix(path, "/release"):
			return "/v1/reservations/{id}/release"
		}
		return "/v1/reservations/{id}"
	case strings.HasPrefix(path, "/v1/availability/"):
		return "/v1/availability/{sku}"
	case strings.HasPrefix(path, "/v1/channels/"):
		return "/v1/channels/{channel}"
	case strings.HasPrefix(path, "/feeds/"):
		return "/feeds/{channel}.yml"
	}
	return "other"
}

func reserveOutcome(status int, body []byte) string {
	switch status {
	case fasthttp.StatusCreated:
		return telemetry.OutcomeCreated
	case fasthttp.StatusOK:
		return telemetry.OutcomeReplayed
	case fasthttp.StatusConflict:
		return telemetry.OutcomeInsufficientStock
	case fasthttp.StatusTooManyRequests:
		return telemetry.OutcomeOverloaded
	case fasthttp.StatusServiceUnavailable:
		return telemetry.OutcomeUnavailable
	case fasthttp.StatusUnprocessableEntity:
		if strings.Contains(string(body), `"idempotency_conflict"`) {
			return telemetry.OutcomeIdempotencyConflict
		}
	}
	return telemetry.OutcomeInvalid
}
