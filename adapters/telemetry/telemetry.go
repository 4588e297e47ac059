package telemetry

import (
	"context"
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Telemetry owns the process's tracer and meter providers and the private
// Prometheus registry. Nothing is installed globally: components are handed
// a Tracer or Meter (or the providers, for libraries that take one).
type Telemetry struct {
	tracerProvider trace.TracerProvider
	meterProvider  metric.MeterProvider
	propagator     propagation.TextMapPropagator
	registry       *prometheus.Registry // nil when metrics are not served for scraping
	shutdown       []func(context.Context) error
	tracing        bool
	rootRatio      float64 // share of root spans sampled (SampleRoot)
	exporters      int     // OTLP exporters built (tracing and metrics)
}

// Option adds a test or embedding hook to Setup.
type Option func(*options)

type options struct {
	spanExporter sdktrace.SpanExporter
	metricReader sdkmetric.Reader
}

// WithSpanExporter records spans, sampled as configured, and hands each to
// exp synchronously when it ends (tests pass tracetest.InMemoryExporter).
// It enables tracing without an OTLP endpoint.
func WithSpanExporter(exp sdktrace.SpanExporter) Option {
	return func(o *options) { o.spanExporter = exp }
}

// WithMetricReader adds a reader to the meter provider (tests pass
// sdkmetric.NewManualReader()).
func WithMetricReader(r sdkmetric.Reader) Option {
	return func(o *options) { o.metricReader = r }
}

// Setup builds the providers cfg describes. Exporters connect lazily, so
// Setup does not wait for a collector. Call Shutdown to flush and stop them.
func Setup(ctx context.Context, cfg Config, opts ...Option) (*Telemetry, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	res, err := newResource(cfg)
	if err != nil {
		return nil, err
	}
	t := &Telemetry{propagator: propagation.TraceContext{}}
	if err := t.setupTracing(ctx, cfg, res, o.spanExporter); err != nil {
		t.Shutdown(ctx)
		return nil, err
	}
	if err := t.setupMetrics(ctx, cfg, res, o.metricReader); err != nil {
		t.Shutdown(ctx)
		return nil, err
	}
	return t, nil
}

// Nop is a Telemetry that records nothing and serves an empty /metrics; it
// passes trace context through like a configured one without an endpoint.
func Nop() *Telemetry {
	return &Telemetry{
		tracerProvider: disabledProvider{},
		meterProvider:  metricnoop.NewMeterProvider(),
		propagator:     propagation.TraceContext{},
	}
}

func newResource(cfg Config) (*resource.Resource, error) {
	attrs := []attribute.KeyValue{semconv.ServiceName(cfg.ServiceName)}
	if cfg.ServiceVersion != "" {
		attrs = append(attrs, semconv.ServiceVersion(cfg.ServiceVersion))
	}
	for k, v := range cfg.ResourceAttributes {
		attrs = append(attrs, attribute.String(k, v))
	}
	res, err := resource.New(context.Background(),
		resource.WithSchemaURL(semconv.SchemaURL),
		resource.WithAttributes(attrs...),
	)
	if err != nil {
		return nil, fmt.Errorf("telemetry: resource: %w", err)
	}
	return res, nil
}

// Tracer returns the named tracer (the instrumentation scope, e.g.
// "stockd/engine").
func (t *Telemetry) Tracer(name string) trace.Tracer { return t.tracerProvider.Tracer(name) }

// Meter returns the named meter.
func (t *Telemetry) Meter(name string) metric.Meter { return t.meterProvider.Meter(name) }

// TracerProvider is for libraries that take a provider.
func (t *Telemetry) TracerProvider() trace.TracerProvider { return t.tracerProvider }

// MeterProvider is for libraries that take a provider.
func (t *Telemetry) MeterProvider() metric.MeterProvider { return t.meterProvider }

// Propagator is the W3C trace-context propagator (traceparent, tracestate).
func (t *Telemetry) Propagator() propagation.TextMapPropagator { return t.propagator }

// TracingEnabled reports whether spans are recorded at all. When false a
// caller may skip building span attributes.
func (t *Telemetry) TracingEnabled() bool { return t.tracing }

// Shutdown flushes and stops the exporters, bounded by ctx. It is safe to
// call more than once.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	var errs []error
	for i := len(t.shutdown) - 1; i >= 0; i-- {
		if err := t.shutdown[i](ctx); err != nil {
			errs = append(errs, err)
		}
	}
	t.shutdown = nil
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("telemetry: shutdown: %w", err)
	}
	return nil
}
