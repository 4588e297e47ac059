package telemetry

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Export retry bounds, shared by the span and metric exporters.
const (
	retryInitialInterval = 500 * time.Millisecond
	retryMaxInterval     = 5 * time.Second
)

// setupTracing installs the SDK tracer provider when there is somewhere to
// send spans, and the disabled provider otherwise.
func (t *Telemetry) setupTracing(ctx context.Context, cfg Config, res *resource.Resource, testExporter sdktrace.SpanExporter) error {
	tc := cfg.Tracing
	if tc.Sampler == SamplerOff || (tc.OTLP.Endpoint == "" && testExporter == nil) {
		t.tracerProvider = disabledProvider{}
		return nil
	}
	var processor sdktrace.SpanProcessor
	if testExporter != nil {
		processor = sdktrace.NewSimpleSpanProcessor(testExporter)
	} else {
		exp, err := newSpanExporter(ctx, tc.OTLP)
		if err != nil {
			return err
		}
		t.exporters++
		processor = sdktrace.NewBatchSpanProcessor(exp,
			sdktrace.WithMaxQueueSize(tc.QueueSpans),
			sdktrace.WithMaxExportBatchSize(tc.BatchSpans),
			sdktrace.WithBatchTimeout(tc.BatchTimeout),
			sdktrace.WithExportTimeout(tc.OTLP.Timeout),
		)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithResource(res),
		sdktrace.WithSampler(newSampler(tc)),
		sdktrace.WithRawSpanLimits(sdktrace.SpanLimits{
			AttributeValueLengthLimit:   MaxAttributeValueBytes,
			AttributeValueDepthLimit:    MaxAttributeValueDepth,
			AttributeCountLimit:         MaxAttributesPerSpan,
			EventCountLimit:             MaxEventsPerSpan,
			LinkCountLimit:              MaxLinksPerSpan,
			AttributePerEventCountLimit: MaxAttributesPerSpan,
			AttributePerLinkCountLimit:  MaxAttributesPerSpan,
		}),
		sdktrace.WithSpanProcessor(processor),
	)
	t.tracerProvider, t.tracing = tp, true
	t.rootRatio = 1
	if tc.Sampler == SamplerRatio {
		t.rootRatio = tc.Ratio
	}
	t.shutdown = append(t.shutdown, tp.Shutdown)
	return nil
}

// newSampler is parent-based: the decision of a sampled or unsampled parent
// (a traceparent's flags, across Kafka or HTTP) is kept; a root span with a
// link to a sampled span is sampled; other root spans follow the
// configured rule.
func newSampler(tc TracingConfig) sdktrace.Sampler {
	root := sdktrace.AlwaysSample()
	if tc.Sampler == SamplerRatio {
		root = sdktrace.TraceIDRatioBased(tc.Ratio)
	}
	return linkAwareSampler{parentBased: sdktrace.ParentBased(root)}
}

func newSpanExporter(ctx context.Context, c OTLPConfig) (*otlptrace.Exporter, error) {
	ep, err := c.parseEndpoint()
	if err != nil {
		return nil, fmt.Errorf("telemetry: tracing.otlp.endpoint: %w", err)
	}
	var client otlptrace.Client
	switch c.Protocol {
	case ProtocolGRPC:
		opts := []otlptracegrpc.Option{
			otlptracegrpc.WithEndpoint(ep.hostPort),
			otlptracegrpc.WithHeaders(c.Headers),
			otlptracegrpc.WithTimeout(c.Timeout),
			otlptracegrpc.WithReconnectionPeriod(retryMaxInterval),
			otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: true,
				InitialInterval: retryInitialInterval, MaxInterval: retryMaxInterval, MaxElapsedTime: c.Timeout}),
		}
		if ep.insecure {
			opts = append(opts, otlptracegrpc.WithInsecure())
		}
		if c.Gzip {
			opts = append(opts, otlptracegrpc.WithCompressor("gzip"))
		}
		client = otlptracegrpc.NewClient(opts...)
	case ProtocolHTTP:
		path := ep.path
		if path == "" {
			path = "/v1/traces"
		}
		compression := otlptracehttp.NoCompression
		if c.Gzip {
			compression = otlptracehttp.GzipCompression
		}
		opts := []otlptracehttp.Option{
			otlptracehttp.WithEndpoint(ep.hostPort),
			otlptracehttp.WithURLPath(path),
			otlptracehttp.WithHeaders(c.Headers),
			otlptracehttp.WithTimeout(c.Timeout),
			otlptracehttp.WithCompression(compression),
			otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: true,
				InitialInterval: retryInitialInterval, MaxInterval: retryMaxInterval, MaxElapsedTime: c.Timeout}),
		}
		if ep.insecure {
			opts = append(opts, otlptracehttp.WithInsecure())
		}
		client = otlptracehttp.NewClient(opts...)
	default:
		return nil, fmt.Errorf("%w: tracing.otlp.protocol %q", ErrConfig, c.Protocol)
	}
	exp, err := otlptrace.New(ctx, client)
	if err != nil {
		return nil, fmt.Errorf("telemetry: span exporter: %w", err)
	}
	return exp, nil
}

// disabledProvider hands out tracers that record nothing. Unlike the OTel
// no-op tracer, Start with no span in the context returns the context
// unchanged: a disabled span start is a context lookup, no allocation.
// A remote parent extracted from a traceparent still passes through, so
// the next hop's header carries the caller's trace.
type disabledProvider struct{ noop.TracerProvider }

func (disabledProvider) Tracer(string, ...trace.TracerOption) trace.Tracer { return disabledTracer{} }

type disabledTracer struct{ noop.Tracer }

func (t disabledTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() && !span.SpanContext().IsValid() {
		return ctx, span
	}
	return t.Tracer.Start(ctx, name, opts...)
}
