package telemetry

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// allSources returns one value from every source.
func allSources() Sources {
	return Sources{
		Ledger: func() LedgerState {
			return LedgerState{Holds: []StateCount{{"held", 3}, {"confirmed", 1}}, SKUs: 10, ShortSKUs: 1}
		},
		Ingest: func() IngestCounts {
			return IngestCounts{Events: []ResultCount{{"applied", 7}, {"stale", 1}}, DLQ: 1, SeqGaps: 1, Fractional: 1}
		},
		KafkaLag: func() []PartitionLag {
			return []PartitionLag{{Topic: "onec.events", Group: "stockd", Partition: 3, Lag: 42}}
		},
		Channels: func() []ChannelState {
			return []ChannelState{{
				Channel: "ozon", Kind: "ozon", Freshness: 1500 * time.Millisecond, FreshnessSLO: time.Minute,
				Stock:   PushState{ToZero: 1, Decrease: 2, InFlight: 1, Requests: 5, RequestErrors: 1, Acked: 40, Rejected: 1, Skipped: 2, Retries: 3},
				Price:   PushState{PriceChange: 4, Requests: 1},
				Invalid: 1, AwaitingApproval: 2, MappingErrors: 0, Dropped: 1,
				Limiters: []LimiterState{{Name: "stocks", Waits: 2, Waited: 300 * time.Millisecond, Utilization: 0.5}},
			}}
		},
		Violations: func() []Violation { return []Violation{{Marketplace: "ozon", Rule: "rate", Count: 1}} },
	}
}

// recordOnce records one measurement with every synchronous instrument.
func recordOnce(ctx context.Context, in *Instruments) {
	in.RecordHTTP(ctx, "POST", "/v1/reservations", 409, 300*time.Microsecond)
	in.ReserveOutcome(ctx, "site", OutcomeInsufficientStock)
	in.LedgerOperation(ctx, OpHold, 1)
	in.KafkaConsumed(ctx, "onec.events", 3, "stockd", 10)
	in.KafkaSent(ctx, "onec.events", 2, "")
	in.BatchProcessed(ctx, "onec.events", 2*time.Millisecond)
	in.JournalFlush(ctx, "file", 12, 4096, 400*time.Microsecond)
	in.JournalError(ctx, "file", JournalOpSync)
}

// scrape returns the text exposition.
func scrape(tb testing.TB, tel *Telemetry, accept string) (string, string) {
	tb.Helper()
	var buf bytes.Buffer
	ct, err := tel.WriteMetrics(&buf, accept)
	if err != nil {
		tb.Fatalf("WriteMetrics: %v", err)
	}
	return buf.String(), ct
}

// exposedFamilies maps each "# TYPE name kind" of an exposition.
func exposedFamilies(text string) map[string]string {
	families := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			families[f[2]] = f[3]
		}
	}
	return families
}

// seriesNames is every sample's metric name.
func seriesNames(text string) map[string]bool {
	names := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		names[strings.FieldsFunc(line, func(r rune) bool { return r == '{' || r == ' ' })[0]] = true
	}
	return names
}

func TestPrometheusExpositionHasEveryInstrument(t *testing.T) {
	tel := setup(t, DefaultConfig())
	in, err := NewInstruments(tel.Meter("stockd"))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := in.Observe(allSources())
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Unregister()
	recordOnce(context.Background(), in)

	text, ct := scrape(t, tel, "text/plain;version=0.0.4")
	if !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("content type %q, want text/plain", ct)
	}
	families, series := exposedFamilies(text), seriesNames(text)
	for _, s := range Specs() {
		name := s.PrometheusName()
		if got, want := families[name], string(s.Kind); got != want {
			t.Errorf("%s (%s): TYPE %q, want %q", s.Name, name, got, want)
		}
		for _, sn := range s.PrometheusSeries() {
			if !series[sn] {
				t.Errorf("%s: no %s series in the exposition", s.Name, sn)
			}
		}
	}
	// The list is complete: every stockd, http or messaging family is in it.
	known := PrometheusSeriesNames()
	for name := range series {
		if strings.HasPrefix(name, "stockd_") || strings.HasPrefix(name, "http_") || strings.HasPrefix(name, "messaging_") {
			if !slices.Contains(known, name) {
				t.Errorf("exposed %s is not in PrometheusSeriesNames", name)
			}
		}
	}
	for _, name := range RuntimeSeriesNames() {
		if !series[name] {
			t.Errorf("runtime series %s missing", name)
		}
	}
	for _, want := range []string{
		`http_server_request_duration_seconds_count{http_request_method="POST",http_response_status_code="409",http_route="/v1/reservations"} 1`,
		`stockd_kafka_consumer_lag{messaging_consumer_group_name="stockd",messaging_destination_name="onec.events",messaging_destination_partition_id="3",messaging_system="kafka"} 42`,
		`stockd_channel_freshness_seconds{channel="ozon",kind="ozon"} 1.5`,
		`stockd_channel_push_requests_total{channel="ozon",kind="ozon",method="stock",result="error"} 1`,
		`stockd_ledger_holds{state="held"} 3`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("exposition lacks %s", want)
		}
	}
}

func TestOpenMetricsCarriesExemplarOfSampledRequest(t *testing.T) {
	tel, _ := setupRecording(t, nil)
	in, err := NewInstruments(tel.Meter("stockd"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, span := tel.Tracer("stockd/test").Start(context.Background(), "POST /v1/reservations")
	in.RecordHTTP(ctx, "POST", "/v1/reservations", 201, 200*time.Microsecond)
	span.End()

	text, ct := scrape(t, tel, "application/openmetrics-text;version=1.0.0")
	if !strings.HasPrefix(ct, "application/openmetrics-text") {
		t.Fatalf("content type %q, want OpenMetrics", ct)
	}
	want := regexp.MustCompile(`http_server_request_duration_seconds_bucket\{[^}]*\} 1 # \{[^}]*trace_id="` + span.SpanContext().TraceID().String() + `"`)
	if !want.MatchString(text) {
		t.Fatalf("no bucket exemplar with trace %s in:\n%s", span.SpanContext().TraceID(), grepLines(text, "http_server_request_duration_seconds_bucket"))
	}
}

func grepLines(text, substr string) string {
	var out []string
	for line := range strings.Lines(text) {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "")
}

func TestServeMetricsFastHTTP(t *testing.T) {
	tel := setup(t, DefaultConfig())
	in, err := NewInstruments(tel.Meter("stockd"))
	if err != nil {
		t.Fatal(err)
	}
	in.LedgerOperation(context.Background(), OpConfirm, 2)

	var ctx fasthttp.RequestCtx
	ctx.Request.Header.SetMethod(fasthttp.MethodGet)
	ctx.Request.SetRequestURI("/metrics")
	tel.ServeMetrics(&ctx)
	if got, want := ctx.Response.StatusCode(), fasthttp.StatusOK; got != want {
		t.Fatalf("status %d, want %d", got, want)
	}
	if got := string(ctx.Response.Header.ContentType()); !strings.HasPrefix(got, "text/plain") {
		t.Fatalf("content type %q, want text/plain", got)
	}
	if body := string(ctx.Response.Body()); !strings.Contains(body, `stockd_ledger_operations_total{operation="confirm"} 2`) {
		t.Fatalf("body lacks the confirm count:\n%s", grepLines(body, "stockd_ledger"))
	}

	var post fasthttp.RequestCtx
	post.Request.Header.SetMethod(fasthttp.MethodPost)
	tel.ServeMetrics(&post)
	if got, want := post.Response.StatusCode(), fasthttp.StatusMethodNotAllowed; got != want {
		t.Fatalf("POST status %d, want %d", got, want)
	}

	var off fasthttp.RequestCtx
	off.Request.Header.SetMethod(fasthttp.MethodGet)
	Nop().ServeMetrics(&off)
	if got, want := off.Response.StatusCode(), fasthttp.StatusNotFound; got != want {
		t.Fatalf("Nop status %d, want %d", got, want)
	}
}

func TestMetricsHandlerNetHTTP(t *testing.T) {
	tel := setup(t, DefaultConfig())
	in, err := NewInstruments(tel.Meter("stockd"))
	if err != nil {
		t.Fatal(err)
	}
	in.JournalError(context.Background(), "postgres", JournalOpAppend)
	srv := httptest.NewServer(tel.MetricsHandler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `stockd_journal_errors_total{backend="postgres",operation="append"} 1`) {
		t.Fatalf("status %d, body:\n%s", resp.StatusCode, grepLines(string(body), "stockd_journal"))
	}
}

func TestPrometheusNames(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Specs() {
		if seen[s.Name] {
			t.Errorf("instrument %s listed twice", s.Name)
		}
		seen[s.Name] = true
	}
	for _, tc := range []struct {
		spec InstrumentSpec
		want string
	}{
		{InstrumentSpec{Name: "http.server.request.duration", Kind: KindHistogram, Unit: "s"}, "http_server_request_duration_seconds"},
		{InstrumentSpec{Name: "stockd.ingest.dlq.messages", Kind: KindCounter, Unit: "{message}"}, "stockd_ingest_dlq_messages_total"},
		{InstrumentSpec{Name: "stockd.journal.flush.size", Kind: KindHistogram, Unit: "By"}, "stockd_journal_flush_size_bytes"},
		{InstrumentSpec{Name: "stockd.channel.limiter.utilization", Kind: KindGauge, Unit: "1"}, "stockd_channel_limiter_utilization_ratio"},
		{InstrumentSpec{Name: "stockd.channel.limiter.wait.time", Kind: KindCounter, Unit: "s"}, "stockd_channel_limiter_wait_time_seconds_total"},
	} {
		if got := tc.spec.PrometheusName(); got != tc.want {
			t.Errorf("PrometheusName(%s) = %q, want %q", tc.spec.Name, got, tc.want)
		}
	}
	if got, want := len(PrometheusNames()), len(Specs()); got != want {
		t.Fatalf("%d names for %d specs", got, want)
	}
}

func TestNopRecordsNothing(t *testing.T) {
	tel := Nop()
	in, err := NewInstruments(tel.Meter("stockd"))
	if err != nil {
		t.Fatal(err)
	}
	recordOnce(context.Background(), in)
	if _, err := tel.WriteMetrics(io.Discard, ""); err != ErrNoPrometheus {
		t.Fatalf("WriteMetrics err = %v, want ErrNoPrometheus", err)
	}
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkRecordHTTP(b *testing.B) {
	tel := setup(b, DefaultConfig())
	in, err := NewInstruments(tel.Meter("stockd"))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		in.RecordHTTP(ctx, "POST", "/v1/reservations", 201, 150*time.Microsecond)
	}
}

func BenchmarkReserveOutcome(b *testing.B) {
	tel := setup(b, DefaultConfig())
	in, err := NewInstruments(tel.Meter("stockd"))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			in.ReserveOutcome(ctx, "site", OutcomeCreated)
		}
	})
}

// TestDocsListEveryMetric keeps docs/OBSERVABILITY.md's table whole.
func TestDocsListEveryMetric(t *testing.T) {
	doc, err := os.ReadFile("../../docs/OBSERVABILITY.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range Specs() {
		if row := "| `" + s.PrometheusName() + "` | `" + s.Name + "` |"; !strings.Contains(string(doc), row) {
			t.Errorf("docs/OBSERVABILITY.md has no row %s", row)
		}
	}
}
