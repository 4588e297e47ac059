package telemetry

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"stockd/adapters/alerts"
)

// Sampler names how root spans are sampled. Every sampler is parent-based:
// a span whose parent (local or from a traceparent header) was sampled is
// sampled, one whose parent was not is not, whatever the setting.
type Sampler string

// The samplers.
const (
	// SamplerRatio samples Tracing.Ratio of the root spans.
	SamplerRatio Sampler = "ratio"
	// SamplerAlways samples every root span (tests, low traffic).
	SamplerAlways Sampler = "always"
	// SamplerOff records nothing; trace context still passes through.
	SamplerOff Sampler = "off"
)

// Protocol is an OTLP transport.
type Protocol string

// The OTLP transports.
const (
	ProtocolGRPC Protocol = "grpc"
	ProtocolHTTP Protocol = "http/protobuf"
)

// Limits of the telemetry pipeline. A span or metric point past a limit is
// dropped (and counted by the SDK), never queued without bound.
const (
	// MaxQueueSpans bounds the spans waiting for export.
	MaxQueueSpans = 65536
	// MaxLinksPerSpan bounds the links of one span: a batch span links at
	// most this many of the messages it carries.
	MaxLinksPerSpan = 128
	// MaxAttributesPerSpan bounds a span's attributes, events and links' attributes.
	MaxAttributesPerSpan = 64
	// MaxEventsPerSpan bounds a span's events.
	MaxEventsPerSpan = 64
	// MaxAttributeValueBytes truncates longer string attribute values.
	MaxAttributeValueBytes = 1024
	// MaxAttributeValueDepth bounds nested attribute values.
	MaxAttributeValueDepth = 8
	// MaxSeriesPerInstrument bounds the attribute sets of one instrument;
	// past it measurements go to one overflow series.
	MaxSeriesPerInstrument = 2000
	// MaxCachedAttributeSets bounds each record helper's cache of
	// precomputed attribute sets; past it sets are built per call.
	MaxCachedAttributeSets = 1024
	// MaxScrapesInFlight bounds concurrent /metrics requests on the
	// net/http handler.
	MaxScrapesInFlight = 4
	// MaxScrapeDuration bounds one /metrics request on the net/http handler.
	MaxScrapeDuration = 10 * time.Second
)

// Config is the telemetry section of the stockd config file.
type Config struct {
	// ServiceName is the service.name resource attribute.
	ServiceName string `yaml:"service_name"`
	// ServiceVersion is the service.version resource attribute; the
	// command sets it from the build, not the file.
	ServiceVersion string `yaml:"-"`
	// ResourceAttributes are added to the resource of every span and
	// metric exported over OTLP (e.g. deployment.environment.name).
	ResourceAttributes map[string]string `yaml:"resource_attributes"`
	Tracing            TracingConfig     `yaml:"tracing"`
	Metrics            MetricsConfig     `yaml:"metrics"`
	// Alerts posts stockd's own alerts to a webhook (off without a URL).
	Alerts alerts.Config `yaml:"alerts"`
}

// TracingConfig selects sampling and the span exporter.
type TracingConfig struct {
	Sampler Sampler `yaml:"sampler"`
	// Ratio is the sampled fraction of root spans for SamplerRatio, in (0, 1].
	Ratio float64 `yaml:"ratio"`
	// OTLP is where spans go. With no endpoint nothing is recorded or
	// exported: the tracer is a no-op that only passes context through.
	OTLP OTLPConfig `yaml:"otlp"`
	// QueueSpans is the export queue; a span finished while it is full is dropped.
	QueueSpans int `yaml:"queue_spans"`
	// BatchSpans is the largest export request.
	BatchSpans int `yaml:"batch_spans"`
	// BatchTimeout is the longest a finished span waits for its batch.
	BatchTimeout time.Duration `yaml:"batch_timeout"`
}

// MetricsConfig selects the metric readers.
type MetricsConfig struct {
	// Prometheus serves the metrics for scraping at GET /metrics.
	Prometheus bool `yaml:"prometheus"`
	// Runtime adds the Go runtime and process collectors (go_*, process_*)
	// to the Prometheus exposition.
	Runtime bool `yaml:"runtime"`
	// OTLP pushes the metrics every ExportInterval when an endpoint is set.
	OTLP           OTLPConfig    `yaml:"otlp"`
	ExportInterval time.Duration `yaml:"export_interval"`
}

// OTLPConfig is one OTLP exporter.
type OTLPConfig struct {
	// Endpoint is the collector's URL: http://host:4317 (gRPC) or
	// http://host:4318 (HTTP); https uses TLS. A path, for HTTP only,
	// replaces /v1/traces or /v1/metrics. Empty: no export.
	Endpoint string   `yaml:"endpoint"`
	Protocol Protocol `yaml:"protocol"`
	// Headers are sent with every export (e.g. a collector's auth token).
	Headers map[string]string `yaml:"headers"`
	// Timeout bounds one export request, retries included.
	Timeout time.Duration `yaml:"timeout"`
	// Gzip compresses export requests.
	Gzip bool `yaml:"gzip"`
}

// DefaultConfig is what every field of the file starts from: 1% of root
// spans sampled but nothing exported until an endpoint is set, metrics
// served for Prometheus.
func DefaultConfig() Config {
	otlp := OTLPConfig{Protocol: ProtocolGRPC, Timeout: 10 * time.Second, Gzip: true}
	return Config{
		ServiceName: "stockd",
		Tracing: TracingConfig{
			Sampler: SamplerRatio, Ratio: 0.01, OTLP: otlp,
			QueueSpans: 4096, BatchSpans: 512, BatchTimeout: 5 * time.Second,
		},
		Metrics: MetricsConfig{Prometheus: true, Runtime: true, OTLP: otlp, ExportInterval: 30 * time.Second},
		Alerts:  alerts.DefaultConfig(),
	}
}

// ErrConfig is wrapped by every configuration error.
var ErrConfig = errors.New("telemetry: config")

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	if c.ServiceName == "" {
		return fmt.Errorf("%w: service_name is empty", ErrConfig)
	}
	if err := c.Tracing.validate(); err != nil {
		return err
	}
	if err := c.Alerts.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return c.Metrics.validate()
}

func (c TracingConfig) validate() error {
	switch c.Sampler {
	case SamplerRatio:
		if !(c.Ratio > 0 && c.Ratio <= 1) {
			return fmt.Errorf("%w: tracing.ratio %v is not in (0, 1]", ErrConfig, c.Ratio)
		}
	case SamplerAlways, SamplerOff:
	default:
		return fmt.Errorf("%w: tracing.sampler %q is not ratio, always or off", ErrConfig, c.Sampler)
	}
	if c.QueueSpans <= 0 || c.QueueSpans > MaxQueueSpans {
		return fmt.Errorf("%w: tracing.queue_spans %d is not in [1, %d]", ErrConfig, c.QueueSpans, MaxQueueSpans)
	}
	if c.BatchSpans <= 0 || c.BatchSpans > c.QueueSpans {
		return fmt.Errorf("%w: tracing.batch_spans %d is not in [1, queue_spans]", ErrConfig, c.BatchSpans)
	}
	if c.BatchTimeout <= 0 {
		return fmt.Errorf("%w: tracing.batch_timeout must be positive", ErrConfig)
	}
	return c.OTLP.validate("tracing.otlp")
}

func (c MetricsConfig) validate() error {
	if c.ExportInterval <= 0 {
		return fmt.Errorf("%w: metrics.export_interval must be positive", ErrConfig)
	}
	return c.OTLP.validate("metrics.otlp")
}

func (c OTLPConfig) validate(field string) error {
	if c.Endpoint == "" {
		return nil
	}
	if _, err := c.parseEndpoint(); err != nil {
		return fmt.Errorf("%w: %s.endpoint: %v", ErrConfig, field, err)
	}
	if c.Protocol != ProtocolGRPC && c.Protocol != ProtocolHTTP {
		return fmt.Errorf("%w: %s.protocol %q is not grpc or http/protobuf", ErrConfig, field, c.Protocol)
	}
	if c.Timeout <= 0 {
		return fmt.Errorf("%w: %s.timeout must be positive", ErrConfig, field)
	}
	return nil
}

// endpoint is a parsed OTLP endpoint.
type endpoint struct {
	hostPort string
	path     string // "" for the signal's default
	insecure bool
}

func (c OTLPConfig) parseEndpoint() (endpoint, error) {
	u, err := url.Parse(c.Endpoint)
	if err != nil {
		return endpoint{}, err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return endpoint{}, fmt.Errorf("%q: the scheme must be http or https", c.Endpoint)
	}
	if u.Host == "" || u.Port() == "" {
		return endpoint{}, fmt.Errorf("%q: want scheme://host:port", c.Endpoint)
	}
	ep := endpoint{hostPort: u.Host, insecure: u.Scheme == "http"}
	if u.Path != "" && u.Path != "/" {
		ep.path = u.Path
	}
	return ep, nil
}
