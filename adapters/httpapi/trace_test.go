package httpapi

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"stockd/adapters/telemetry"
	"stockd/reservation"
)

const testToken = "test-token"

// newTracedServer is a Server over backend with every instrument and, when
// tel traces, a tracer.
func newTracedServer(tb testing.TB, backend Backend, tel *telemetry.Telemetry, events EventProducer) *Server {
	tb.Helper()
	inst, err := telemetry.NewInstruments(tel.Meter("stockd"))
	if err != nil {
		tb.Fatal(err)
	}
	opts := Options{Backend: backend, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Limits: DefaultLimits(),
		Instruments: inst, Events: events,
		APIKeys: []APIKey{{Name: "test", SHA256: HashToken(testToken), Scopes: []Scope{ScopeReserve, ScopeEvents}}}}
	if tel.TracingEnabled() {
		opts.Tracer, opts.SampleRoot = tel.Tracer(telemetry.ScopeHTTP), tel.SampleRoot
	}
	s, err := New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func setupTelemetry(tb testing.TB, sampler telemetry.Sampler, exp sdktrace.SpanExporter) *telemetry.Telemetry {
	tb.Helper()
	cfg := telemetry.DefaultConfig()
	cfg.Tracing.Sampler = sampler
	var opts []telemetry.Option
	if exp != nil {
		opts = append(opts, telemetry.WithSpanExporter(exp))
	}
	tel, err := telemetry.Setup(context.Background(), cfg, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { tel.Shutdown(context.Background()) })
	return tel
}

func reserveRequest(ctx *fasthttp.RequestCtx, traceparent string) {
	ctx.Request.Reset()
	ctx.Response.Reset()
	ctx.Request.Header.SetMethod(fasthttp.MethodPost)
	ctx.Request.SetRequestURI("/v1/reservations")
	ctx.Request.Header.Set("Authorization", "Bearer "+testToken)
	if traceparent != "" {
		ctx.Request.Header.Set(telemetry.HeaderTraceparent, traceparent)
	}
	ctx.Request.SetBody(benchReserveBody)
}

// ctxBackend is echoBackend that keeps the span context its Reserve saw.
type ctxBackend struct {
	echoBackend
	seen trace.SpanContext
}

func (b *ctxBackend) Reserve(ctx context.Context, req reservation.ReserveRequest) (reservation.Hold, bool, error) {
	b.seen = trace.SpanContextFromContext(ctx)
	return b.echoBackend.Reserve(ctx, req)
}

func TestReserveIsAServerSpanUnderTheCallersTrace(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	backend := &ctxBackend{}
	s := newTracedServer(t, backend, setupTelemetry(t, telemetry.SamplerRatio, exp), nil)
	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	var ctx fasthttp.RequestCtx
	reserveRequest(&ctx, "00-"+traceID+"-"+parentID+"-01")
	s.observed(&ctx)
	if got := ctx.Response.StatusCode(); got != fasthttp.StatusCreated {
		t.Fatalf("status %d: %s", got, ctx.Response.Body())
	}
	spans := exp.GetSpans()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1", len(spans))
	}
	sp := spans[0]
	if sp.Name != "POST /v1/reservations" || sp.SpanKind != trace.SpanKindServer {
		t.Fatalf("span %q kind %v, want the server span POST /v1/reservations", sp.Name, sp.SpanKind)
	}
	if sp.SpanContext.TraceID().String() != traceID || sp.Parent.SpanID().String() != parentID || !sp.Parent.IsRemote() {
		t.Fatalf("span trace %s parent %s, want the caller's %s/%s", sp.SpanContext.TraceID(), sp.Parent.SpanID(), traceID, parentID)
	}
	if backend.seen.SpanID() != sp.SpanContext.SpanID() {
		t.Fatalf("the backend ran under span %s, want the request's %s", backend.seen.SpanID(), sp.SpanContext.SpanID())
	}
	want := map[attribute.Key]string{"http.route": "/v1/reservations", "http.response.status_code": "201",
		telemetry.AttrOutcome: telemetry.OutcomeCreated, telemetry.AttrChannel: "site"}
	for _, kv := range sp.Attributes {
		if w, ok := want[kv.Key]; ok {
			if got := kv.Value.Emit(); got != w {
				t.Errorf("%s = %s, want %s", kv.Key, got, w)
			}
			delete(want, kv.Key)
		}
	}
	if len(want) > 0 {
		t.Errorf("span lacks attributes %v", want)
	}
}

// recordingProducer keeps the span context ProduceEvents was called in.
type recordingProducer struct{ seen trace.SpanContext }

func (p *recordingProducer) ProduceEvents(ctx context.Context, _ [][]byte, _ []reservation.Event) error {
	p.seen = trace.SpanContextFromContext(ctx)
	return nil
}

func TestEventsPassTheTraceparentOnWhenTracingIsOff(t *testing.T) {
	prod := &recordingProducer{}
	s := newTracedServer(t, &echoBackend{}, setupTelemetry(t, telemetry.SamplerOff, nil), prod)
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	var ctx fasthttp.RequestCtx
	ctx.Request.Header.SetMethod(fasthttp.MethodPost)
	ctx.Request.SetRequestURI("/v1/events")
	ctx.Request.Header.Set("Authorization", "Bearer "+testToken)
	ctx.Request.Header.Set(telemetry.HeaderTraceparent, "00-"+traceID+"-00f067aa0ba902b7-01")
	ctx.Request.SetBody([]byte(`{"v":1,"id":"e1","type":"stock.set","source":"1c","seq":1,"sku":"a","warehouse":"w","qty":1,"at":"2026-01-02T10:00:00Z"}`))
	s.observed(&ctx)
	if got := ctx.Response.StatusCode(); got != fasthttp.StatusAccepted {
		t.Fatalf("status %d: %s", got, ctx.Response.Body())
	}
	if got := prod.seen.TraceID().String(); got != traceID {
		t.Fatalf("ProduceEvents ran in trace %q, want the caller's %s", got, traceID)
	}
}

// discardExporter drops every span: what tracing costs without the
// collector's side.
type discardExporter struct{}

func (discardExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardExporter) Shutdown(context.Context) error                             { return nil }

// BenchmarkReserveTracing: the whole request path (router, key check,
// decode, backend, reply, metrics) with tracing off and with tracing at
// the default 1 % ratio, interleaved in the same run; it reports both
// times per request and the cost of tracing in percent. The backend
// answers at once, so the figure is the handler's share, the worst case
// (a real reserve adds the journal's group commit).
func BenchmarkReserveTracing(b *testing.B) {
	off := newTracedServer(b, &echoBackend{}, setupTelemetry(b, telemetry.SamplerOff, nil), nil)
	on := newTracedServer(b, &echoBackend{}, setupTelemetry(b, telemetry.SamplerRatio, discardExporter{}), nil)
	if on.tracer == nil || off.tracer != nil {
		b.Fatal("tracing is not on in one server and off in the other")
	}
	const chunk = 64
	var ctx fasthttp.RequestCtx
	var offTime, onTime time.Duration
	run := func(s *Server) time.Duration {
		start := time.Now()
		for range chunk {
			reserveRequest(&ctx, "")
			s.observed(&ctx)
		}
		elapsed := time.Since(start)
		if ctx.Response.StatusCode() != fasthttp.StatusCreated {
			b.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
		}
		return elapsed
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if n%2 == 0 {
			offTime += run(off)
			onTime += run(on)
		} else {
			onTime += run(on)
			offTime += run(off)
		}
		n++
	}
	reqs := float64(n * chunk)
	offNs, onNs := float64(offTime.Nanoseconds())/reqs, float64(onTime.Nanoseconds())/reqs
	b.ReportMetric(offNs, "off-ns/req")
	b.ReportMetric(onNs, "traced-ns/req")
	b.ReportMetric(100*(onNs-offNs)/offNs, "cost-%")
	b.ReportMetric(0, "ns/op")
	if testing.Verbose() {
		fmt.Printf("reserve handler: tracing off %.0f ns, ratio 0.01 %.0f ns, cost %.1f %%\n", offNs, onNs, 100*(onNs-offNs)/offNs)
	}
}
