package httpapi

import (
	"context"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"stockd/adapters/telemetry"
)

// observed wraps the router: every request's latency is recorded under
// its route template (never the raw path, so series stay few), and each
// answer to POST /v1/reservations is counted by outcome. With a tracer,
// each request is a server span whose parent is the caller's traceparent;
// the handler's backend call (the journal wait included) runs inside it.
// Without one, only POST /v1/events reads the traceparent, so the Kafka
// messages it produces carry the caller's trace.
func (s *Server) observed(ctx *fasthttp.RequestCtx) {
	start := time.Now()
	// One string for the path, shared by the router and the metrics; the
	// method is one of the constants for every method the API serves.
	method, path := methodName(ctx.Method()), string(ctx.Path())
	rctx := context.Background()
	var span trace.Span
	if s.tracer != nil {
		rctx, span = s.startSpan(ctx)
	} else if path == "/v1/events" {
		if tctx := telemetry.ExtractFastHTTP(rctx, &ctx.Request.Header); tctx != rctx {
			ctx.SetUserValue(traceContextKey{}, tctx)
		}
	}
	s.route(ctx, method, path)
	if s.inst == nil && span == nil {
		return
	}
	tmpl := routeTemplate(path)
	status := ctx.Response.StatusCode()
	outcome := ""
	if tmpl == "/v1/reservations" && method == fasthttp.MethodPost {
		outcome = reserveOutcome(status, ctx.Response.Body())
	}
	if s.inst != nil {
		s.inst.RecordHTTP(rctx, method, tmpl, status, time.Since(start))
		if outcome != "" {
			s.inst.ReserveOutcome(rctx, "all", outcome)
		}
	}
	if span != nil {
		endSpan(span, method, tmpl, status, outcome)
	}
}

// methodName returns the request method as a string, without allocating
// for the methods the API serves.
func methodName(m []byte) string {
	switch string(m) {
	case fasthttp.MethodGet:
		return fasthttp.MethodGet
	case fasthttp.MethodPost:
		return fasthttp.MethodPost
	case fasthttp.MethodHead:
		return fasthttp.MethodHead
	case fasthttp.MethodPut:
		return fasthttp.MethodPut
	case fasthttp.MethodDelete:
		return fasthttp.MethodDelete
	}
	return string(m)
}

// traceContextKey is the request's user value holding the context of its
// span (or of the caller's traceparent), read by requestContext.
type traceContextKey struct{}

// startSpan starts the request's server span, named "<method> <route
// template>", and hands its context to the handler. A request without a
// traceparent that SampleRoot leaves out gets no span at all.
func (s *Server) startSpan(ctx *fasthttp.RequestCtx) (context.Context, trace.Span) {
	bg := context.Background()
	parent := telemetry.ExtractFastHTTP(bg, &ctx.Request.Header)
	if parent == bg && s.sample != nil {
		if !s.sample() {
			return bg, nil
		}
		parent = telemetry.ForceSampled(bg)
	}
	method, path := ctx.Method(), ctx.Path()
	name := reserveSpanName
	if string(method) != fasthttp.MethodPost || string(path) != "/v1/reservations" {
		name = string(method) + " " + routeTemplate(string(path))
	}
	rctx, span := s.tracer.Start(parent, name, serverSpanOptions...)
	ctx.SetUserValue(traceContextKey{}, rctx)
	return rctx, span
}

const reserveSpanName = "POST /v1/reservations"

var serverSpanOptions = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer)}

// endSpan sets the span's attributes (only when it is recorded: an
// unsampled span costs no attribute) and ends it.
func endSpan(span trace.Span, method, tmpl string, status int, outcome string) {
	if span.IsRecording() {
		span.SetAttributes(semconv.HTTPRequestMethodKey.String(method), semconv.HTTPRoute(tmpl),
			semconv.HTTPResponseStatusCode(status))
		if outcome != "" {
			span.SetAttributes(attribute.String(telemetry.AttrOutcome, outcome))
		}
		if status >= fasthttp.StatusInternalServerError {
			span.SetStatus(codes.Error, fasthttp.StatusMessage(status))
		}
	}
	span.End()
}

// requestContext bounds a backend call by the write timeout (past it the
// client has gone anyway); it carries the request's span, if any.
func (s *Server) requestContext(ctx *fasthttp.RequestCtx) (context.Context, context.CancelFunc) {
	parent := context.Background()
	if v, ok := ctx.UserValue(traceContextKey{}).(context.Context); ok {
		parent = v
	}
	return s.deadlines.context(parent, time.Now())
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
