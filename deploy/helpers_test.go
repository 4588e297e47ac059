package deploy

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"stockd/adapters/telemetry"
	"stockd/engine"
)

// readFile reads a file under deploy/.
func readFile(tb testing.TB, path string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.FromSlash(path))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// decodeYAML decodes one YAML document into v.
func decodeYAML(tb testing.TB, path string, v any) {
	tb.Helper()
	if err := yaml.Unmarshal(readFile(tb, path), v); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
}

// decodeYAMLDocs decodes every document of a multi-document YAML file.
func decodeYAMLDocs(tb testing.TB, path string) []map[string]any {
	tb.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(readFile(tb, path)))
	var docs []map[string]any
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
}

// stockdConfig is a stockd config file as the deployment ships it.
type stockdConfig struct {
	engine    engine.Config
	telemetry telemetry.Config
}

// parseStockdConfig runs the config through engine.ParseConfig, as
// `stockd serve` does. The telemetry section is decoded strictly over
// telemetry.DefaultConfig and validated; it is handed to ParseConfig too
// once engine.Config has a telemetry field.
func parseStockdConfig(tb testing.TB, name string, data []byte) stockdConfig {
	tb.Helper()
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil || len(root.Content) != 1 || root.Content[0].Kind != yaml.MappingNode {
		tb.Fatalf("%s: not a YAML mapping: %v", name, err)
	}
	top := root.Content[0]
	var out stockdConfig
	out.telemetry = telemetry.DefaultConfig()
	engineDoc := data
	for i := 0; i < len(top.Content); i += 2 {
		if top.Content[i].Value != "telemetry" {
			continue
		}
		section, err := yaml.Marshal(top.Content[i+1])
		if err != nil {
			tb.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(section))
		dec.KnownFields(true)
		if err := dec.Decode(&out.telemetry); err != nil {
			tb.Fatalf("%s: telemetry: %v", name, err)
		}
		if err := out.telemetry.Validate(); err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
		if !engineHasYAMLField("telemetry") {
			top.Content = slices.Delete(top.Content, i, i+2)
			if engineDoc, err = yaml.Marshal(&root); err != nil {
				tb.Fatal(err)
			}
		}
		break
	}
	cfg, err := engine.ParseConfig(engineDoc)
	if err != nil {
		tb.Fatalf("%s: engine.ParseConfig: %v", name, err)
	}
	out.engine = cfg
	return out
}

// engineHasYAMLField reports whether engine.Config decodes the top-level key.
func engineHasYAMLField(key string) bool {
	t := reflect.TypeFor[engine.Config]()
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); name == key {
			return true
		}
	}
	return false
}

// listenPort is the port of the config's http.listen.
func listenPort(tb testing.TB, cfg engine.Config) string {
	tb.Helper()
	_, port, err := net.SplitHostPort(cfg.HTTP.Listen)
	if err != nil {
		tb.Fatalf("http.listen %q: %v", cfg.HTTP.Listen, err)
	}
	return port
}

// endpointHostPort splits an OTLP endpoint URL.
func endpointHostPort(tb testing.TB, endpoint string) (string, string) {
	tb.Helper()
	u, err := url.Parse(endpoint)
	if err != nil {
		tb.Fatalf("endpoint %q: %v", endpoint, err)
	}
	return u.Hostname(), u.Port()
}

// promQL tokenising: a loose reading that finds the metric names of an
// expression (PromQL or a Grafana query with $variables).
var (
	promStrings  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`")
	promMatchers = regexp.MustCompile(`\{[^{}]*\}`)
	promRanges   = regexp.MustCompile(`\[[^\]]*\]`)
	promGrouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promVars     = regexp.MustCompile(`\$\{[^}]*\}|\$\w+`)
	promTokens   = regexp.MustCompile(`[0-9][0-9a-zA-Z_.]*|[a-zA-Z_:][a-zA-Z0-9_:]*\s*\(?`)
	promKeywords = map[string]bool{
		"and": true, "or": true, "unless": true, "by": true, "without": true, "on": true, "ignoring": true,
		"group_left": true, "group_right": true, "bool": true, "offset": true, "start": true, "end": true,
		"inf": true, "nan": true, "Inf": true, "NaN": true,
	}
)

// metricNames returns the metric names expr reads.
func metricNames(expr string) []string {
	s := promStrings.ReplaceAllString(expr, " ")
	s = promVars.ReplaceAllString(s, " ")
	s = promMatchers.ReplaceAllString(s, " ")
	s = promRanges.ReplaceAllString(s, " ")
	s = promGrouping.ReplaceAllString(s, " ")
	var names []string
	for _, tok := range promTokens.FindAllString(s, -1) {
		switch {
		case tok[0] >= '0' && tok[0] <= '9':
		case strings.HasSuffix(tok, "("): // a function or an aggregation
		case promKeywords[strings.TrimSpace(tok)]:
		default:
			names = append(names, strings.TrimSpace(tok))
		}
	}
	return names
}

// knownSeries is every series name stockd exports, and Prometheus's own up.
func knownSeries() map[string]bool {
	known := map[string]bool{"up": true}
	for _, n := range telemetry.PrometheusSeriesNames() {
		known[n] = true
	}
	for _, n := range telemetry.RuntimeSeriesNames() {
		known[n] = true
	}
	return known
}
