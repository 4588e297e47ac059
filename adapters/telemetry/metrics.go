package telemetry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/otlptranslator"
	"github.com/valyala/fasthttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/exemplar"
	"go.opentelemetry.io/otel/sdk/resource"
)

// setupMetrics builds the meter provider with a Prometheus reader on a
// private registry, an OTLP periodic reader when an endpoint is set, or
// the no-op provider when neither is.
func (t *Telemetry) setupMetrics(ctx context.Context, cfg Config, res *resource.Resource, testReader sdkmetric.Reader) error {
	mc := cfg.Metrics
	var readers []sdkmetric.Option
	if mc.Prometheus {
		reg := prometheus.NewRegistry()
		exp, err := otelprom.New(
			otelprom.WithRegisterer(reg),
			otelprom.WithTranslationStrategy(otlptranslator.UnderscoreEscapingWithSuffixes),
			otelprom.WithoutScopeInfo(),
			otelprom.WithoutTargetInfo(),
			otelprom.WithAggregationSelector(sdkmetric.DefaultAggregationSelector),
		)
		if err != nil {
			return fmt.Errorf("telemetry: prometheus exporter: %w", err)
		}
		if mc.Runtime {
			if err := reg.Register(collectors.NewGoCollector()); err != nil {
				return fmt.Errorf("telemetry: go collector: %w", err)
			}
			if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
				return fmt.Errorf("telemetry: process collector: %w", err)
			}
		}
		t.registry = reg
		readers = append(readers, sdkmetric.WithReader(exp))
	}
	if mc.OTLP.Endpoint != "" {
		exp, err := newMetricExporter(ctx, mc.OTLP)
		if err != nil {
			return err
		}
		t.exporters++
		readers = append(readers, sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp,
			sdkmetric.WithInterval(mc.ExportInterval),
			sdkmetric.WithTimeout(mc.OTLP.Timeout),
		)))
	}
	if testReader != nil {
		readers = append(readers, sdkmetric.WithReader(testReader))
	}
	if len(readers) == 0 {
		t.meterProvider = noop.NewMeterProvider()
		return nil
	}
	mp := sdkmetric.NewMeterProvider(append(readers,
		sdkmetric.WithResource(res),
		// Exemplars link a latency bucket to the sampled trace it came from.
		sdkmetric.WithExemplarFilter(exemplar.TraceBasedFilter),
		sdkmetric.WithCardinalityLimit(MaxSeriesPerInstrument),
	)...)
	t.meterProvider = mp
	t.shutdown = append(t.shutdown, mp.Shutdown)
	return nil
}

func newMetricExporter(ctx context.Context, c OTLPConfig) (sdkmetric.Exporter, error) {
	ep, err := c.parseEndpoint()
	if err != nil {
		return nil, fmt.Errorf("telemetry: metrics.otlp.endpoint: %w", err)
	}
	switch c.Protocol {
	case ProtocolGRPC:
		opts := []otlpmetricgrpc.Option{
			otlpmetricgrpc.WithEndpoint(ep.hostPort),
			otlpmetricgrpc.WithHeaders(c.Headers),
			otlpmetricgrpc.WithTimeout(c.Timeout),
			otlpmetricgrpc.WithReconnectionPeriod(retryMaxInterval),
			otlpmetricgrpc.WithTemporalitySelector(sdkmetric.DefaultTemporalitySelector),
			otlpmetricgrpc.WithAggregationSelector(sdkmetric.DefaultAggregationSelector),
			otlpmetricgrpc.WithRetry(otlpmetricgrpc.RetryConfig{Enabled: true,
				InitialInterval: retryInitialInterval, MaxInterval: retryMaxInterval, MaxElapsedTime: c.Timeout}),
		}
		if ep.insecure {
			opts = append(opts, otlpmetricgrpc.WithInsecure())
		}
		if c.Gzip {
			opts = append(opts, otlpmetricgrpc.WithCompressor("gzip"))
		}
		exp, err := otlpmetricgrpc.New(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("telemetry: metric exporter: %w", err)
		}
		return exp, nil
	case ProtocolHTTP:
		path := ep.path
		if path == "" {
			path = "/v1/metrics"
		}
		compression := otlpmetrichttp.NoCompression
		if c.Gzip {
			compression = otlpmetrichttp.GzipCompression
		}
		opts := []otlpmetrichttp.Option{
			otlpmetrichttp.WithEndpoint(ep.hostPort),
			otlpmetrichttp.WithURLPath(path),
			otlpmetrichttp.WithHeaders(c.Headers),
			otlpmetrichttp.WithTimeout(c.Timeout),
			otlpmetrichttp.WithCompression(compression),
			otlpmetrichttp.WithTemporalitySelector(sdkmetric.DefaultTemporalitySelector),
			otlpmetrichttp.WithAggregationSelector(sdkmetric.DefaultAggregationSelector),
			otlpmetrichttp.WithRetry(otlpmetrichttp.RetryConfig{Enabled: true,
				InitialInterval: retryInitialInterval, MaxInterval: retryMaxInterval, MaxElapsedTime: c.Timeout}),
		}
		if ep.insecure {
			opts = append(opts, otlpmetrichttp.WithInsecure())
		}
		exp, err := otlpmetrichttp.New(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("telemetry: metric exporter: %w", err)
		}
		return exp, nil
	default:
		return nil, fmt.Errorf("%w: metrics.otlp.protocol %q", ErrConfig, c.Protocol)
	}
}

// ErrNoPrometheus is returned by WriteMetrics when metrics.prometheus is off.
var ErrNoPrometheus = errors.New("telemetry: metrics are not served for Prometheus (metrics.prometheus is false)")

// WriteMetrics writes the Prometheus exposition to w in the format the
// scraper's Accept header asks for (OpenMetrics carries exemplars, the
// trace ids of sampled requests) and returns its Content-Type. Collection
// runs every registered gauge callback. Metrics that failed to collect are
// left out and reported in the error; the rest are written.
func (t *Telemetry) WriteMetrics(w io.Writer, accept string) (contentType string, err error) {
	format := expfmt.NegotiateAccept(http.Header{"Accept": []string{accept}}, expfmt.DefaultOpenMetricsAcceptedFormats()...)
	if t.registry == nil {
		return string(format), ErrNoPrometheus
	}
	families, gatherErr := t.registry.Gather()
	enc := expfmt.NewEncoder(w, format)
	for _, mf := range families {
		if err := enc.Encode(mf); err != nil {
			return string(format), fmt.Errorf("telemetry: encode %s: %w", mf.GetName(), err)
		}
	}
	if closer, ok := enc.(expfmt.Closer); ok {
		if err := closer.Close(); err != nil {
			return string(format), fmt.Errorf("telemetry: encode: %w", err)
		}
	}
	if gatherErr != nil {
		return string(format), fmt.Errorf("telemetry: gather: %w", gatherErr)
	}
	return string(format), nil
}

// ServeMetrics is the fasthttp handler for GET /metrics. It answers 404
// when metrics are not served for Prometheus, and 500 only when nothing
// could be written.
func (t *Telemetry) ServeMetrics(ctx *fasthttp.RequestCtx) {
	if !ctx.IsGet() && !ctx.IsHead() {
		ctx.Response.Header.Set("Allow", "GET, HEAD")
		ctx.Error("use GET for /metrics\n", fasthttp.StatusMethodNotAllowed)
		return
	}
	var buf bytes.Buffer
	contentType, err := t.WriteMetrics(&buf, string(ctx.Request.Header.Peek("Accept")))
	switch {
	case errors.Is(err, ErrNoPrometheus):
		ctx.Error("metrics are not served here\n", fasthttp.StatusNotFound)
		return
	case err != nil && buf.Len() == 0:
		ctx.Error(err.Error()+"\n", fasthttp.StatusInternalServerError)
		return
	}
	ctx.SetContentType(contentType)
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetBody(buf.Bytes())
}

// MetricsHandler is the net/http handler for GET /metrics, for a separate
// metrics listener. It is a 404 handler when metrics are not served.
func (t *Telemetry) MetricsHandler() http.Handler {
	if t.registry == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(t.registry, promhttp.HandlerOpts{
		ErrorLog:            nil,
		ErrorHandling:       promhttp.ContinueOnError,
		Registry:            nil,
		DisableCompression:  false,
		MaxRequestsInFlight: MaxScrapesInFlight,
		Timeout:             MaxScrapeDuration,
		EnableOpenMetrics:   true,
		ProcessStartTime:    time.Time{},
	})
}
