package deploy

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"stockd/adapters/httpapi"
	"stockd/adapters/marketsim"
	"stockd/adapters/telemetry"
	"stockd/adapters/testsvc"
	"stockd/adapters/yandexmarket/ymsim"
	"stockd/engine"
	"stockd/feeds"
)

type envSecrets map[string]string

func (m envSecrets) LookupEnv(name string) (string, bool) { v, ok := m[name]; return v, ok }
func (m envSecrets) ReadFile(path string) ([]byte, error) { return os.ReadFile(path) }

const (
	scrapeKey  = "scrape-test-key"
	scrapeUser = "scrape-test"
)

// startScrapedEngine runs an engine on kfake with one Yandex Market
// channel on a simulator and every instrument registered (the marketplace
// simulator's violations too, as the demo does).
func startScrapedEngine(tb testing.TB) (base string, sim *ymsim.Sim) {
	tb.Helper()
	cfg := engine.DefaultConfig()
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Journal.Kind, cfg.Journal.Dir = engine.JournalFile, tb.TempDir()
	cfg.Channels = append(engine.DemoChannels()[:1], engine.ChannelConfig{Name: "ym", Kind: engine.ChannelYandexMarket,
		Warehouses: []string{"wh-msk"}, Strategy: "priority"})
	cfg.HTTP.APIKeys = []httpapi.APIKey{{Name: scrapeUser, SHA256: httpapi.HashToken(scrapeKey),
		Scopes: []httpapi.Scope{httpapi.ScopeReserve, httpapi.ScopeRead, httpapi.ScopeEvents}}}
	suffix := strings.ToLower(strings.ReplaceAll(tb.Name(), "/", "-"))
	cfg.Kafka.EventsTopic, cfg.Kafka.DLQTopic, cfg.Kafka.GroupID = "events-"+suffix, "dlq-"+suffix, "stockd-"+suffix
	cfg.Kafka.Brokers = testsvc.Kfake(tb, 2, cfg.Kafka.EventsTopic, cfg.Kafka.DLQTopic)
	cfg.Feeds = []feeds.ChannelConfig{{Name: "ym", Kind: feeds.KindYandexMarket, Warehouses: []feeds.TargetConfig{{}},
		Stock:   feeds.DefaultStockPolicy(),
		Account: feeds.AccountConfig{APIKey: feeds.SecretRef{Env: "YM_KEY"}, BusinessID: 10, CampaignID: 20, StockMethod: "campaign"}}}
	simCfg := ymsim.DefaultConfig("ACMA:key", 10, 20)
	simCfg.AutoCreateOffers = true
	sim = ymsim.New(simCfg)

	tel, err := telemetry.Setup(context.Background(), cfg.Telemetry)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { tel.Shutdown(context.Background()) })
	inst, err := telemetry.NewInstruments(tel.Meter("stockd"))
	if err != nil {
		tb.Fatal(err)
	}
	reg, err := inst.Observe(telemetry.Sources{Violations: func() []telemetry.Violation {
		return []telemetry.Violation{{Marketplace: "yandexmarket", Rule: "rate", Count: int64(len(sim.Violations()))}}
	}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { reg.Unregister() })
	eng, err := engine.Open(context.Background(), cfg, engine.Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Telemetry: tel, Secrets: envSecrets{"YM_KEY": "ACMA:key"}, MarketTransport: marketsim.HandlerTransport{Handler: sim}})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("Run: %v", err)
		}
	})
	return "http://" + eng.HTTPAddr(), sim
}

func do(tb testing.TB, method, url, body string) (int, string) {
	tb.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+scrapeKey)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

// scrapedSeries are the series names of one /metrics scrape.
func scrapedSeries(tb testing.TB, base string) map[string]bool {
	tb.Helper()
	status, body := do(tb, "GET", base+"/metrics", "")
	if status != 200 {
		tb.Fatalf("GET /metrics: %d", status)
	}
	out := map[string]bool{}
	for line := range strings.SplitSeq(body, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		name := line[:strings.IndexAny(line, "{ ")]
		out[name] = true
	}
	return out
}

// TestRunningEngineExportsEveryDashboardMetric: an engine that took a 1C
// event through Kafka, a reservation and a marketplace push serves, on
// /metrics, every series a Grafana dashboard queries.
func TestRunningEngineExportsEveryDashboardMetric(t *testing.T) {
	base, sim := startScrapedEngine(t)
	ev := `{"v":1,"id":"m1","source":"ut","seq":1,"at":"2026-11-21T10:00:00Z","type":"stock.set","sku":"sku-m","warehouse":"wh-msk","qty":7}`
	if status, body := do(t, "POST", base+"/v1/events", ev); status != 202 {
		t.Fatalf("POST /v1/events: %d %s", status, body)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if got, ok := sim.Stock("sku-m", "20"); ok && got > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the event did not reach the marketplace in 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if status, body := do(t, "POST", base+"/v1/reservations", `{"id":"m-1","channel":"site","lines":[{"sku":"sku-m","qty":1}]}`); status != 201 {
		t.Fatalf("reserve: %d %s", status, body)
	}
	scraped := scrapedSeries(t, base)
	checked := 0
	for name, d := range loadDashboards(t) {
		var walk func([]panel)
		walk = func(ps []panel) {
			for _, p := range ps {
				walk(p.Panels)
				for _, tg := range p.Targets {
					for _, m := range metricNames(tg.Expr) {
						checked++
						if !scraped[m] {
							t.Errorf("%s: panel %q queries %s, which a running engine's /metrics does not have", name, p.Title, m)
						}
					}
				}
			}
		}
		walk(d.Panels)
	}
	if checked == 0 {
		t.Fatal("no metric found in the dashboards")
	}
	for _, s := range telemetry.Specs() {
		if s.Kind != telemetry.KindHistogram {
			continue
		}
		for _, series := range s.PrometheusSeries() {
			if !scraped[series] {
				t.Errorf("histogram series %s of %s missing", series, s.Name)
			}
		}
	}
}
