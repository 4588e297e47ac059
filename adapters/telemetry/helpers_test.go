package telemetry

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// setupRecording returns a Telemetry that samples every root span and
// hands spans to an in-memory exporter as they end.
func setupRecording(tb testing.TB, mutate func(*Config)) (*Telemetry, *tracetest.InMemoryExporter) {
	tb.Helper()
	cfg := DefaultConfig()
	cfg.Tracing.Sampler = SamplerAlways
	if mutate != nil {
		mutate(&cfg)
	}
	exp := tracetest.NewInMemoryExporter()
	tel := setup(tb, cfg, WithSpanExporter(exp))
	return tel, exp
}

// setup is Setup that fails the test on error and shuts down at cleanup.
func setup(tb testing.TB, cfg Config, opts ...Option) *Telemetry {
	tb.Helper()
	tel, err := Setup(context.Background(), cfg, opts...)
	if err != nil {
		tb.Fatalf("Setup: %v", err)
	}
	tb.Cleanup(func() {
		if err := tel.Shutdown(context.Background()); err != nil {
			tb.Errorf("Shutdown: %v", err)
		}
	})
	return tel
}

// spanNamed returns the one exported span with the name.
func spanNamed(tb testing.TB, spans tracetest.SpanStubs, name string) tracetest.SpanStub {
	tb.Helper()
	var found []tracetest.SpanStub
	for _, s := range spans {
		if s.Name == name {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		tb.Fatalf("%d spans named %q among %d, want 1", len(found), name, len(spans))
	}
	return found[0]
}
