package telemetry

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestConfigYAMLOverDefaults(t *testing.T) {
	doc := `
service_name: stockd-eu
resource_attributes: {deployment.environment.name: prod}
tracing:
  sampler: ratio
  ratio: 0.05
  otlp: {endpoint: "http://otel-collector:4317", protocol: grpc}
metrics:
  otlp: {endpoint: "https://collector.example:4318", protocol: http/protobuf, headers: {authorization: token}}
  export_interval: 15s
`
	cfg := DefaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader([]byte(doc)))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Tracing.Ratio, 0.05; got != want {
		t.Fatalf("ratio = %v, want %v", got, want)
	}
	if got, want := cfg.Tracing.OTLP.Timeout, 10*time.Second; got != want {
		t.Fatalf("unset timeout = %v, want the default %v", got, want)
	}
	if !cfg.Metrics.Prometheus {
		t.Fatalf("prometheus turned off by a file that does not mention it")
	}
	ep, err := cfg.Metrics.OTLP.parseEndpoint()
	if err != nil || ep.insecure || ep.hostPort != "collector.example:4318" {
		t.Fatalf("endpoint = %+v, %v", ep, err)
	}
}

func TestConfigRejects(t *testing.T) {
	for name, tc := range map[string]struct {
		mutate  func(*Config)
		wantErr string
	}{
		"no service":   {func(c *Config) { c.ServiceName = "" }, "service_name"},
		"sampler":      {func(c *Config) { c.Tracing.Sampler = "sometimes" }, "tracing.sampler"},
		"zero ratio":   {func(c *Config) { c.Tracing.Ratio = 0 }, "tracing.ratio"},
		"ratio > 1":    {func(c *Config) { c.Tracing.Ratio = 2 }, "tracing.ratio"},
		"queue":        {func(c *Config) { c.Tracing.QueueSpans = MaxQueueSpans + 1 }, "queue_spans"},
		"batch":        {func(c *Config) { c.Tracing.BatchSpans = c.Tracing.QueueSpans + 1 }, "batch_spans"},
		"no scheme":    {func(c *Config) { c.Tracing.OTLP.Endpoint = "collector:4317" }, "tracing.otlp.endpoint"},
		"no port":      {func(c *Config) { c.Metrics.OTLP.Endpoint = "http://collector" }, "metrics.otlp.endpoint"},
		"protocol":     {func(c *Config) { c.Tracing.OTLP.Endpoint, c.Tracing.OTLP.Protocol = "http://c:4317", "thrift" }, "protocol"},
		"interval":     {func(c *Config) { c.Metrics.ExportInterval = 0 }, "export_interval"},
		"otlp timeout": {func(c *Config) { c.Metrics.OTLP.Endpoint, c.Metrics.OTLP.Timeout = "http://c:4317", 0 }, "timeout"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.mutate(&cfg)
			err := cfg.Validate()
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want ErrConfig mentioning %q", err, tc.wantErr)
			}
		})
	}
}
