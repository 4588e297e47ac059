package deploy

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"stockd/adapters/telemetry"
	"stockd/engine"
)

// compose is the part of docker-compose.yml the tests read.
type compose struct {
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

type composeService struct {
	Image       string            `yaml:"image"`
	Build       *composeBuild     `yaml:"build"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	Ports       []string          `yaml:"ports"`
	Volumes     []string          `yaml:"volumes"`
	DependsOn   map[string]any    `yaml:"depends_on"`
	Healthcheck struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
	Profiles []string `yaml:"profiles"`
}

type composeBuild struct {
	Context    string `yaml:"context"`
	Dockerfile string `yaml:"dockerfile"`
}

const composeDir = "compose"

func loadCompose(tb testing.TB) compose {
	tb.Helper()
	var c compose
	decodeYAML(tb, composeDir+"/docker-compose.yml", &c)
	return c
}

// mountSource returns the host path mounted at target (relative to
// deploy/), or "" when none is.
func (s composeService) mountSource(target string) string {
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && parts[1] == target {
			return path.Join(composeDir, parts[0])
		}
	}
	return ""
}

// containerPorts are the container sides of the published ports.
func (s composeService) containerPorts() []string {
	var ports []string
	for _, p := range s.Ports {
		ports = append(ports, p[strings.LastIndex(p, ":")+1:])
	}
	return ports
}

// argAfter returns the argument after flag in args.
func argAfter(args []string, flag string) string {
	if i := slices.Index(args, flag); i >= 0 && i+1 < len(args) {
		return args[i+1]
	}
	return ""
}

func TestComposeStack(t *testing.T) {
	c := loadCompose(t)
	for name, prefix := range map[string]string{
		"kafka": "apache/kafka:", "postgres": "postgres:", "otel-collector": "otel/opentelemetry-collector",
		"jaeger": "jaegertracing/jaeger:", "prometheus": "prom/prometheus:", "grafana": "grafana/grafana:",
	} {
		svc, ok := c.Services[name]
		if !ok {
			t.Errorf("no %s service", name)
			continue
		}
		if !strings.HasPrefix(svc.Image, prefix) || strings.HasSuffix(svc.Image, ":latest") || !strings.Contains(svc.Image, ":") {
			t.Errorf("%s image %q: want a pinned %s… image", name, svc.Image, prefix)
		}
	}
	if roles := c.Services["kafka"].Environment["KAFKA_PROCESS_ROLES"]; roles != "broker,controller" {
		t.Errorf("kafka KAFKA_PROCESS_ROLES = %q, want KRaft broker,controller", roles)
	}
	// Every bind-mounted file or folder exists.
	for name, svc := range c.Services {
		for _, v := range svc.Volumes {
			src := strings.Split(v, ":")[0]
			if !strings.HasPrefix(src, ".") {
				if _, ok := c.Volumes[src]; !ok {
					t.Errorf("%s mounts volume %q, not declared", name, src)
				}
				continue
			}
			if _, err := os.Stat(filepath.FromSlash(path.Join(composeDir, src))); err != nil {
				t.Errorf("%s mounts %s: %v", name, src, err)
			}
		}
		for dep := range svc.DependsOn {
			if _, ok := c.Services[dep]; !ok {
				t.Errorf("%s depends on unknown service %s", name, dep)
			}
		}
	}
}

func TestComposeStockdMatchesItsConfig(t *testing.T) {
	c := loadCompose(t)
	svc := c.Services["stockd"]
	if svc.Build == nil {
		t.Fatal("stockd is not built from the repository")
	}
	dockerfile := readFile(t, path.Join(composeDir, svc.Build.Context, svc.Build.Dockerfile))
	for _, want := range []string{"./cmd/stockd", `ENTRYPOINT ["/usr/local/bin/stockd"]`, "./cmd/stockctl"} {
		if !strings.Contains(string(dockerfile), want) {
			t.Errorf("%s lacks %s", svc.Build.Dockerfile, want)
		}
	}
	if svc.Command[0] != "serve" {
		t.Fatalf("stockd command %v, want serve", svc.Command)
	}
	configPath := argAfter(svc.Command, "--config")
	src := svc.mountSource(configPath)
	if src == "" {
		t.Fatalf("--config %s is not mounted", configPath)
	}
	cfg := parseStockdConfig(t, src, readFile(t, src))

	port := listenPort(t, cfg.engine)
	if !slices.Contains(svc.containerPorts(), port) {
		t.Errorf("stockd publishes %v, its config listens on %s", svc.Ports, port)
	}
	if got := argAfter(svc.Healthcheck.Test, "-url"); got != "http://127.0.0.1:"+port || !slices.Contains(svc.Healthcheck.Test, "health") {
		t.Errorf("healthcheck %v does not run stockctl health against port %s", svc.Healthcheck.Test, port)
	}

	// Kafka: the brokers are the kafka service's advertised PLAINTEXT listener.
	kafka := c.Services["kafka"]
	advertised := kafka.Environment["KAFKA_ADVERTISED_LISTENERS"]
	for _, b := range cfg.engine.Kafka.Brokers {
		if !strings.Contains(advertised, "PLAINTEXT://"+b) {
			t.Errorf("broker %s is not advertised by kafka (%s)", b, advertised)
		}
	}
	kafkaInit := c.Services["kafka-init"]
	for _, topic := range []string{cfg.engine.Kafka.EventsTopic, cfg.engine.Kafka.DLQTopic, cfg.engine.Kafka.OrdersTopic} {
		if !strings.Contains(strings.Join(kafkaInit.Command, " "), topic+":") {
			t.Errorf("kafka-init does not create topic %s", topic)
		}
	}

	// PostgreSQL: host, user, database and password agree.
	u, err := url.Parse(cfg.engine.Journal.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	pg := c.Services["postgres"]
	if _, ok := c.Services[u.Hostname()]; !ok || u.Hostname() != "postgres" {
		t.Errorf("journal database host %s is not the postgres service", u.Hostname())
	}
	if got, want := u.User.Username(), pg.Environment["POSTGRES_USER"]; got != want {
		t.Errorf("journal database user %q, postgres creates %q", got, want)
	}
	if got, want := strings.TrimPrefix(u.Path, "/"), pg.Environment["POSTGRES_DB"]; got != want {
		t.Errorf("journal database %q, postgres creates %q", got, want)
	}
	if _, hasPassword := u.User.Password(); hasPassword {
		t.Errorf("the config file carries the database password")
	}
	if got, want := svc.Environment["PGPASSWORD"], pg.Environment["POSTGRES_PASSWORD"]; got == "" || got != want {
		t.Errorf("stockd PGPASSWORD %q, postgres password %q", got, want)
	}

	// Traces go to the collector's OTLP receiver.
	host, otlpPort := endpointHostPort(t, cfg.telemetry.Tracing.OTLP.Endpoint)
	if _, ok := c.Services[host]; !ok {
		t.Errorf("tracing endpoint host %s is not a service", host)
	}
	if got := collectorReceiverPort(t, cfg.telemetry.Tracing.OTLP.Protocol); got != otlpPort {
		t.Errorf("tracing endpoint port %s, the collector receives %s on %s", otlpPort, cfg.telemetry.Tracing.OTLP.Protocol, got)
	}
	if !cfg.telemetry.Metrics.Prometheus {
		t.Errorf("stockd in compose does not serve /metrics")
	}
}

// collector is the part of the collector config the tests read.
type collector struct {
	Receivers struct {
		OTLP struct {
			Protocols map[string]struct {
				Endpoint string `yaml:"endpoint"`
			} `yaml:"protocols"`
		} `yaml:"otlp"`
	} `yaml:"receivers"`
	Exporters map[string]map[string]any `yaml:"exporters"`
	Service   struct {
		Pipelines map[string]struct {
			Receivers []string `yaml:"receivers"`
			Exporters []string `yaml:"exporters"`
		} `yaml:"pipelines"`
	} `yaml:"service"`
}

func collectorReceiverPort(tb testing.TB, protocol telemetry.Protocol) string {
	tb.Helper()
	var col collector
	decodeYAML(tb, "otel-collector/config.yaml", &col)
	key := "grpc"
	if protocol == telemetry.ProtocolHTTP {
		key = "http"
	}
	ep := col.Receivers.OTLP.Protocols[key].Endpoint
	return ep[strings.LastIndex(ep, ":")+1:]
}

func TestCollectorSendsTracesToJaeger(t *testing.T) {
	var col collector
	decodeYAML(t, "otel-collector/config.yaml", &col)
	c := loadCompose(t)
	cfgPath := strings.TrimPrefix(c.Services["otel-collector"].Command[0], "--config=")
	if got := c.Services["otel-collector"].mountSource(cfgPath); got != "otel-collector/config.yaml" {
		t.Errorf("the collector's --config %s is mounted from %q, want otel-collector/config.yaml", cfgPath, got)
	}
	traces, ok := col.Service.Pipelines["traces"]
	if !ok || !slices.Contains(traces.Receivers, "otlp") {
		t.Fatalf("no traces pipeline from the otlp receiver")
	}
	for _, name := range traces.Exporters {
		ep, _ := col.Exporters[name]["endpoint"].(string)
		if !strings.HasPrefix(name, "otlp") {
			continue
		}
		host := ep[:strings.LastIndex(ep, ":")]
		if _, ok := c.Services[host]; !ok {
			t.Errorf("traces exporter %s sends to %s, not a compose service", name, ep)
		}
		return
	}
	t.Errorf("traces pipeline exports to no otlp exporter: %v", traces.Exporters)
}

// prometheusConfig is the part of prometheus.yml the tests read.
type prometheusConfig struct {
	RuleFiles     []string `yaml:"rule_files"`
	ScrapeConfigs []struct {
		JobName       string `yaml:"job_name"`
		MetricsPath   string `yaml:"metrics_path"`
		StaticConfigs []struct {
			Targets []string `yaml:"targets"`
		} `yaml:"static_configs"`
	} `yaml:"scrape_configs"`
}

func TestPrometheusScrapesStockd(t *testing.T) {
	var pc prometheusConfig
	decodeYAML(t, "prometheus/prometheus.yml", &pc)
	c := loadCompose(t)
	prom := c.Services["prometheus"]
	configPath := strings.TrimPrefix(prom.Command[0], "--config.file=")
	if got := prom.mountSource(path.Dir(configPath)); got != "prometheus" {
		t.Fatalf("prometheus config dir %s is mounted from %q, want deploy/prometheus", path.Dir(configPath), got)
	}
	if !slices.Contains(prom.Command, "--enable-feature=exemplar-storage") {
		t.Errorf("prometheus keeps no exemplars: the latency panels cannot link to traces")
	}
	for _, rf := range pc.RuleFiles {
		if path.Dir(rf) != path.Dir(configPath) {
			t.Errorf("rule file %s is outside the mounted %s", rf, path.Dir(configPath))
		}
		if _, err := os.Stat(filepath.Join("prometheus", path.Base(rf))); err != nil {
			t.Errorf("rule file %s: %v", rf, err)
		}
	}
	if !slices.Contains(pc.RuleFiles, path.Join(path.Dir(configPath), "alerts.yml")) {
		t.Errorf("alerts.yml is not loaded: %v", pc.RuleFiles)
	}
	src := c.Services["stockd"].mountSource(argAfter(c.Services["stockd"].Command, "--config"))
	port := listenPort(t, parseStockdConfig(t, src, readFile(t, src)).engine)
	for _, job := range pc.ScrapeConfigs {
		if job.JobName != "stockd" {
			continue
		}
		if job.MetricsPath != "/metrics" {
			t.Errorf("stockd metrics_path %q, want /metrics", job.MetricsPath)
		}
		if got, want := job.StaticConfigs[0].Targets, []string{"stockd:" + port}; !slices.Equal(got, want) {
			t.Errorf("stockd targets %v, want %v", got, want)
		}
		return
	}
	t.Fatal("no stockd scrape job")
}

// alertRules is deploy/prometheus/alerts.yml.
type alertRules struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func TestAlertRulesUseExportedMetrics(t *testing.T) {
	var ar alertRules
	decodeYAML(t, "prometheus/alerts.yml", &ar)
	known := knownSeries()
	used := map[string]bool{}
	names := map[string]bool{}
	for _, g := range ar.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" || r.Expr == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("rule %q in %s needs alert, expr, labels.severity and annotations.summary", r.Alert, g.Name)
			}
			if names[r.Alert] {
				t.Errorf("alert %s defined twice", r.Alert)
			}
			names[r.Alert] = true
			metrics := metricNames(r.Expr)
			if len(metrics) == 0 {
				t.Errorf("%s: no metric found in %q", r.Alert, r.Expr)
			}
			for _, m := range metrics {
				used[m] = true
				if !known[m] {
					t.Errorf("%s uses %s, which stockd does not export", r.Alert, m)
				}
			}
		}
	}
	for _, want := range []string{
		"stockd_channel_freshness_seconds", "stockd_channel_freshness_slo_seconds", // freshness over its SLO
		"stockd_channel_push_requests_total", // a channel failing
		"stockd_ingest_dlq_messages_total",   // DLQ growth
		"stockd_ingest_seq_gaps_total",       // seq gaps
		"stockd_journal_errors_total",        // journal errors
		"stockd_channel_quarantined",         // quarantined prices
		"stockd_ledger_short_skus",           // short SKUs
		"stockd_kafka_consumer_lag",          // lag
		"stockd_reservation_outcomes_total",  // 503s
		"http_server_request_duration_seconds_bucket",
	} {
		if !used[want] {
			t.Errorf("no alert on %s", want)
		}
	}
	for _, name := range engine.AlertNames() {
		if !names[name] {
			t.Errorf("stockd posts alert %s to its webhook, but prometheus/alerts.yml has no rule of that name", name)
		}
	}
}

func TestMetricNamesTokeniser(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`sum by (channel) (rate(stockd_channel_push_requests_total{result="error", job=~"$job"}[$__rate_interval])) / on (channel) group_left sum(x_total offset 5m)`,
			[]string{"stockd_channel_push_requests_total", "x_total"}},
		{`histogram_quantile(0.99, sum by (le) (rate(a_bucket[5m]))) > 0.05 and up{job="stockd"} == 0`, []string{"a_bucket", "up"}},
		{`max(stockd_ledger_short_skus) > bool 1e3`, []string{"stockd_ledger_short_skus"}},
	} {
		if got := metricNames(tc.expr); !slices.Equal(got, tc.want) {
			t.Errorf("metricNames(%q) = %v, want %v", tc.expr, got, tc.want)
		}
	}
}

// dashboard is the part of a Grafana dashboard the tests read.
type dashboard struct {
	UID        string        `json:"uid"`
	Title      string        `json:"title"`
	Panels     []panel       `json:"panels"`
	Links      []grafanaLink `json:"links"`
	Templating struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query any    `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	Type       string     `json:"type"`
	Title      string     `json:"title"`
	Datasource datasource `json:"datasource"`
	Targets    []struct {
		Expr       string     `json:"expr"`
		Exemplar   bool       `json:"exemplar"`
		Datasource datasource `json:"datasource"`
	} `json:"targets"`
	Panels []panel        `json:"panels"`
	Links  []grafanaLink  `json:"links"`
	Grid   map[string]int `json:"gridPos"`
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type grafanaLink struct {
	Title string `json:"title"`
	URL   string `json:"url"`
}

func loadDashboards(tb testing.TB) map[string]dashboard {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("grafana", "dashboards", "*.json"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no dashboards: %v", err)
	}
	out := map[string]dashboard{}
	for _, f := range files {
		var d dashboard
		if err := json.Unmarshal(readFile(tb, f), &d); err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = d
	}
	return out
}

var labelValues = regexp.MustCompile(`^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{[^}]*\})?\s*,\s*[a-zA-Z_]\w*\s*\)$`)

func TestDashboardsUseExportedMetrics(t *testing.T) {
	known := knownSeries()
	dashboards := loadDashboards(t)
	uids := map[string]bool{}
	for _, want := range []string{"checkout", "ingest", "channels"} {
		if _, ok := dashboards[want]; !ok {
			t.Errorf("no %s dashboard", want)
		}
	}
	wantMetrics := map[string][]string{
		"checkout": {"stockd_reservation_outcomes_total", "http_server_request_duration_seconds_bucket", "stockd_ledger_holds"},
		"ingest":   {"stockd_kafka_consumer_lag", "stockd_ingest_events_total", "stockd_ingest_dlq_messages_total", "stockd_ingest_seq_gaps_total"},
		"channels": {"stockd_channel_freshness_seconds", "stockd_channel_queue_depth", "stockd_channel_limiter_utilization_ratio", "stockd_channel_push_requests_total"},
	}
	for name, d := range dashboards {
		if d.UID == "" || uids[d.UID] {
			t.Errorf("%s: uid %q empty or repeated", name, d.UID)
		}
		uids[d.UID] = true
		used := map[string]bool{}
		exemplars := false
		var walk func([]panel)
		walk = func(ps []panel) {
			for _, p := range ps {
				walk(p.Panels)
				if p.Type == "row" {
					continue
				}
				if len(p.Targets) == 0 {
					t.Errorf("%s: panel %q has no query", name, p.Title)
				}
				for _, tg := range p.Targets {
					exemplars = exemplars || tg.Exemplar
					if tg.Datasource.UID != "${datasource}" && tg.Datasource.UID != "prometheus" {
						t.Errorf("%s: panel %q queries datasource %q", name, p.Title, tg.Datasource.UID)
					}
					metrics := metricNames(tg.Expr)
					if len(metrics) == 0 {
						t.Errorf("%s: panel %q: no metric in %q", name, p.Title, tg.Expr)
					}
					for _, m := range metrics {
						used[m] = true
						if !known[m] {
							t.Errorf("%s: panel %q uses %s, which stockd does not export", name, p.Title, m)
						}
					}
				}
			}
		}
		walk(d.Panels)
		for _, v := range d.Templating.List {
			q, _ := v.Query.(map[string]any)
			if v.Type != "query" || q == nil {
				continue
			}
			m := labelValues.FindStringSubmatch(q["query"].(string))
			if m == nil || !known[m[1]] {
				t.Errorf("%s: variable %s query %q is not label_values of an exported metric", name, v.Name, q["query"])
			}
		}
		for _, want := range wantMetrics[name] {
			if !used[want] {
				t.Errorf("%s: does not show %s", name, want)
			}
		}
		if !exemplars && name != "channels" {
			t.Errorf("%s: no panel shows exemplars (the link from a latency to its trace)", name)
		}
		traceLink := false
		for _, l := range d.Links {
			traceLink = traceLink || strings.Contains(l.URL, "jaeger")
		}
		if !traceLink {
			t.Errorf("%s: no link to the traces", name)
		}
	}
}

func TestGrafanaProvisioning(t *testing.T) {
	var ds struct {
		Datasources []struct {
			UID      string         `yaml:"uid"`
			Type     string         `yaml:"type"`
			URL      string         `yaml:"url"`
			JSONData map[string]any `yaml:"jsonData"`
		} `yaml:"datasources"`
	}
	decodeYAML(t, "grafana/provisioning/datasources/datasources.yml", &ds)
	c := loadCompose(t)
	uids := map[string]string{}
	for _, d := range ds.Datasources {
		uids[d.UID] = d.Type
		u, err := url.Parse(d.URL)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := c.Services[u.Hostname()]; !ok {
			t.Errorf("datasource %s points at %s, not a compose service", d.UID, d.URL)
		}
	}
	if uids["prometheus"] != "prometheus" || uids["jaeger"] != "jaeger" {
		t.Fatalf("datasources %v, want prometheus and jaeger", uids)
	}
	for _, d := range ds.Datasources {
		if d.UID != "prometheus" {
			continue
		}
		dest, _ := d.JSONData["exemplarTraceIdDestinations"].([]any)
		if len(dest) != 1 || dest[0].(map[string]any)["datasourceUid"] != "jaeger" || dest[0].(map[string]any)["name"] != "trace_id" {
			t.Errorf("prometheus exemplars do not lead to jaeger by trace_id: %v", dest)
		}
	}
	var prov struct {
		Providers []struct {
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	decodeYAML(t, "grafana/provisioning/dashboards/dashboards.yml", &prov)
	if got := c.Services["grafana"].mountSource(prov.Providers[0].Options.Path); got != "grafana/dashboards" {
		t.Errorf("dashboards provider reads %s, mounted from %q, want grafana/dashboards", prov.Providers[0].Options.Path, got)
	}
}

// TestAlertRulesWithPromtool checks the rules' syntax and runs their unit
// tests (prometheus/alerts_test.yml) where promtool is installed
// (Debian: apt-get install prometheus).
func TestAlertRulesWithPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed")
	}
	for _, args := range [][]string{{"check", "rules", "alerts.yml"}, {"test", "rules", "alerts_test.yml"}} {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		cmd := exec.CommandContext(ctx, promtool, args...)
		cmd.Dir = "prometheus"
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestComposeDemoExportsToTheCollector: `stockd demo` in compose sends its
// traces and metrics to the collector's OTLP/HTTP receiver.
func TestComposeDemoExportsToTheCollector(t *testing.T) {
	svc, ok := loadCompose(t).Services["stockd-demo"]
	if !ok {
		t.Fatal("no stockd-demo service")
	}
	if len(svc.Command) == 0 || svc.Command[0] != "demo" {
		t.Fatalf("stockd-demo command %v, want demo", svc.Command)
	}
	endpoint := argAfter(svc.Command, "--otlp")
	host, port := endpointHostPort(t, endpoint)
	if want := collectorReceiverPort(t, telemetry.ProtocolHTTP); host != "otel-collector" || port != want {
		t.Errorf("demo --otlp %q, want the collector's OTLP/HTTP receiver otel-collector:%s", endpoint, want)
	}
	if _, ok := svc.DependsOn["otel-collector"]; !ok {
		t.Error("stockd-demo does not depend on otel-collector")
	}
}
