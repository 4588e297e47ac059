package telemetry

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/valyala/fasthttp"
	"go.opentelemetry.io/otel/trace"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
)

func TestKafkaHopMakesProducerTheConsumersParent(t *testing.T) {
	tel, exp := setupRecording(t, nil)
	tracer := tel.Tracer("stockd/test")

	ctx, produce := tracer.Start(context.Background(), "onec.events publish", trace.WithSpanKind(trace.SpanKindProducer))
	headers := InjectKafka(ctx, []kafkago.Header{{Key: "event-type", Value: []byte("stock.set")}})
	produce.End()
	if got := (KafkaHeaders{&headers}).Get(HeaderTraceparent); got == "" {
		t.Fatalf("no traceparent injected; headers %v", headers)
	}
	// Injecting again replaces the header rather than adding a second one.
	headers = InjectKafka(ctx, headers)
	if got, want := len(headers), 2; got != want {
		t.Fatalf("%d headers after a second inject, want %d", got, want)
	}

	// The consumer runs with no context of its own but the message.
	cctx := ExtractKafka(context.Background(), headers)
	_, process := tracer.Start(cctx, "onec.events process", trace.WithSpanKind(trace.SpanKindConsumer))
	process.End()

	spans := exp.GetSpans()
	p := spanNamed(t, spans, "onec.events publish")
	c := spanNamed(t, spans, "onec.events process")
	if got, want := c.SpanContext.TraceID(), p.SpanContext.TraceID(); got != want {
		t.Fatalf("consumer trace %s, want the producer's %s", got, want)
	}
	if got, want := c.Parent.SpanID(), p.SpanContext.SpanID(); got != want {
		t.Fatalf("consumer parent span %s, want the producer span %s", got, want)
	}
	if !c.Parent.IsRemote() {
		t.Fatalf("consumer parent is not marked remote")
	}
}

func TestBatchSpanLinksEveryTracedMessage(t *testing.T) {
	tel, exp := setupRecording(t, nil)
	tracer := tel.Tracer("stockd/test")
	var messages [][]kafkago.Header
	var producers []trace.SpanContext
	for range 2 {
		ctx, span := tracer.Start(context.Background(), "POST /v1/events")
		messages = append(messages, InjectKafka(ctx, nil))
		producers = append(producers, span.SpanContext())
		span.End()
	}
	messages = append(messages, []kafkago.Header{{Key: "source", Value: []byte("ut11")}}) // untraced
	messages = append(messages, []kafkago.Header{{Key: HeaderTraceparent, Value: []byte("00-garbage")}})

	var links []trace.Link
	for _, hs := range messages {
		if link, ok := KafkaLink(hs); ok {
			links = append(links, link)
		}
	}
	_, batch := tracer.Start(context.Background(), "apply batch", trace.WithLinks(links...))
	batch.End()

	got := spanNamed(t, exp.GetSpans(), "apply batch")
	if len(got.Links) != len(producers) {
		t.Fatalf("batch span has %d links, want %d (one per traced message)", len(got.Links), len(producers))
	}
	for i, l := range got.Links {
		if l.SpanContext.SpanID() != producers[i].SpanID() || l.SpanContext.TraceID() != producers[i].TraceID() {
			t.Fatalf("link %d = %s/%s, want %s/%s", i, l.SpanContext.TraceID(), l.SpanContext.SpanID(),
				producers[i].TraceID(), producers[i].SpanID())
		}
	}
	if got.Parent.IsValid() {
		t.Fatalf("batch span has parent %s, want a root span with links", got.Parent.SpanID())
	}
}

func TestSamplingFollowsTheParent(t *testing.T) {
	// A ratio so small that no root span is sampled in this test.
	tel, exp := setupRecording(t, func(c *Config) { c.Tracing.Sampler, c.Tracing.Ratio = SamplerRatio, 1e-12 })
	tracer := tel.Tracer("stockd/test")
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	for _, tc := range []struct {
		name, traceparent string
		wantRecorded      bool
	}{
		{"sampled remote parent", "00-" + traceID + "-00f067aa0ba902b7-01", true},
		{"unsampled remote parent", "00-" + traceID + "-00f067aa0ba902b7-00", false},
		{"no parent, ratio ~0", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var headers []kafkago.Header
			if tc.traceparent != "" {
				headers = append(headers, kafkago.Header{Key: HeaderTraceparent, Value: []byte(tc.traceparent)})
			}
			_, span := tracer.Start(ExtractKafka(context.Background(), headers), tc.name)
			span.End()
			if got := span.IsRecording() || len(exp.GetSpans()) > 0; got != tc.wantRecorded {
				t.Fatalf("recorded = %v, want %v", got, tc.wantRecorded)
			}
			exp.Reset()
		})
	}
}

func TestNoEndpointRecordsNothingAndPassesContextThrough(t *testing.T) {
	tel := setup(t, DefaultConfig())
	if tel.TracingEnabled() || tel.exporters != 0 {
		t.Fatalf("tracing enabled %v with %d exporters, want neither without an endpoint", tel.TracingEnabled(), tel.exporters)
	}
	tracer := tel.Tracer("stockd/test")
	ctx, span := tracer.Start(context.Background(), "root")
	if span.IsRecording() || span.SpanContext().IsValid() {
		t.Fatalf("root span recording %v, valid %v; want a no-op", span.IsRecording(), span.SpanContext().IsValid())
	}
	if ctx != context.Background() {
		t.Fatalf("disabled Start changed the context")
	}
	// A caller's traceparent (checkout over HTTP) reaches the Kafka message unchanged.
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	var req fasthttp.RequestHeader
	req.Set(HeaderTraceparent, tp)
	ctx, span = tracer.Start(ExtractFastHTTP(context.Background(), &req), "POST /v1/events")
	headers := InjectKafka(ctx, nil)
	span.End()
	if got := (KafkaHeaders{&headers}).Get(HeaderTraceparent); got != tp {
		t.Fatalf("traceparent passed on = %q, want %q", got, tp)
	}
}

func TestOTLPExportOnlyWhenConfigured(t *testing.T) {
	var mu sync.Mutex
	paths := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths[r.URL.Path]++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	count := func(path string) int {
		mu.Lock()
		defer mu.Unlock()
		return paths[path]
	}

	run := func(cfg Config) {
		tel, err := Setup(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		inst, err := NewInstruments(tel.Meter("stockd"))
		if err != nil {
			t.Fatal(err)
		}
		_, span := tel.Tracer("stockd/test").Start(context.Background(), "root")
		span.End()
		inst.LedgerOperation(context.Background(), OpHold, 1)
		if err := tel.Shutdown(context.Background()); err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	}

	run(DefaultConfig())
	if got := count("/v1/traces") + count("/v1/metrics"); got != 0 {
		t.Fatalf("%d exports without an endpoint, want 0", got)
	}

	cfg := DefaultConfig()
	cfg.Tracing.Sampler = SamplerAlways
	cfg.Tracing.OTLP.Endpoint, cfg.Tracing.OTLP.Protocol = srv.URL, ProtocolHTTP
	cfg.Metrics.OTLP.Endpoint, cfg.Metrics.OTLP.Protocol = srv.URL, ProtocolHTTP
	run(cfg)
	if count("/v1/traces") == 0 || count("/v1/metrics") == 0 {
		t.Fatalf("exports by path %v, want /v1/traces and /v1/metrics", paths)
	}
}

// traceCollector is an OTLP/gRPC trace receiver that counts spans.
type traceCollector struct {
	collectortrace.UnimplementedTraceServiceServer
	mu    sync.Mutex
	names []string
}

func (c *traceCollector) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				c.names = append(c.names, s.GetName())
			}
		}
	}
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

func TestOTLPGRPCExport(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	col := &traceCollector{}
	srv := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(srv, col)
	go srv.Serve(ln)
	defer srv.Stop()

	cfg := DefaultConfig()
	cfg.Tracing.Sampler = SamplerAlways
	cfg.Tracing.OTLP.Endpoint = "http://" + ln.Addr().String()
	tel, err := Setup(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, span := tel.Tracer("stockd/test").Start(context.Background(), "reserve")
	span.End()
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	if got, want := strings.Join(col.names, ","), "reserve"; got != want {
		t.Fatalf("collector received spans %q, want %q", got, want)
	}
}

func BenchmarkDisabledSpanStart(b *testing.B) {
	tel := setup(b, DefaultConfig())
	tracer := tel.Tracer("stockd/bench")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, span := tracer.Start(ctx, "reserve")
		span.End()
	}
}

func BenchmarkUnsampledSpanStart(b *testing.B) {
	tel, _ := setupRecording(b, func(c *Config) { c.Tracing.Sampler, c.Tracing.Ratio = SamplerRatio, 1e-12 })
	tracer := tel.Tracer("stockd/bench")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, span := tracer.Start(ctx, "reserve")
		span.End()
	}
}

func TestRootSpanWithASampledLinkIsSampled(t *testing.T) {
	tel, exp := setupRecording(t, func(c *Config) { c.Tracing.Sampler, c.Tracing.Ratio = SamplerRatio, 1e-12 })
	tracer := tel.Tracer("stockd/test")
	_, unlinked := tracer.Start(context.Background(), "batch")
	unlinked.End()
	sampled := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2},
		TraceFlags: trace.FlagsSampled, Remote: true})
	_, linked := tracer.Start(context.Background(), "push", trace.WithLinks(trace.Link{SpanContext: sampled}))
	linked.End()
	spans := exp.GetSpans()
	if len(spans) != 1 || spans[0].Name != "push" {
		t.Fatalf("exported %d spans, want only the one linking a sampled span", len(spans))
	}
}

func TestSampleRootAndForceSampled(t *testing.T) {
	tel, exp := setupRecording(t, func(c *Config) { c.Tracing.Sampler, c.Tracing.Ratio = SamplerRatio, 1e-12 })
	for range 1000 {
		if tel.SampleRoot() {
			t.Fatal("SampleRoot said yes at a ratio of 1e-12")
		}
	}
	_, span := tel.Tracer("stockd/test").Start(ForceSampled(context.Background()), "request")
	span.End()
	if got := len(exp.GetSpans()); got != 1 {
		t.Fatalf("exported %d spans from ForceSampled, want 1", got)
	}
	always, _ := setupRecording(t, nil)
	if !always.SampleRoot() {
		t.Fatal("SampleRoot said no with sampler always")
	}
	if Nop().SampleRoot() {
		t.Fatal("SampleRoot said yes with tracing off")
	}
}
