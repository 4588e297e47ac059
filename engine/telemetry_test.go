package engine

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"stockd/adapters/httpapi"
	"stockd/adapters/marketsim"
	"stockd/adapters/telemetry"
	"stockd/adapters/testsvc"
	"stockd/adapters/yandexmarket/ymsim"
	"stockd/engine/journal"
	"stockd/feeds"
)

const testEventsKey = "test-events-key"

// tracedEngineConfig is an engine on kfake with one Yandex Market channel
// pushing to a simulator, and a key for POST /v1/events.
func tracedEngineConfig(tb testing.TB) (Config, Deps, *ymsim.Sim) {
	tb.Helper()
	topics := uniqueTopics(tb)
	cfg := testConfig(tb.TempDir())
	cfg.Kafka = topics
	cfg.Kafka.Brokers = testsvc.Kfake(tb, 4, topics.EventsTopic, topics.DLQTopic)
	cfg.HTTP.APIKeys = append(cfg.HTTP.APIKeys, httpapi.APIKey{Name: "1c", SHA256: httpapi.HashToken(testEventsKey),
		Scopes: []httpapi.Scope{httpapi.ScopeEvents}})
	cfg.Channels = append(cfg.Channels[:1], ChannelConfig{Name: "ym", Kind: ChannelYandexMarket,
		Warehouses: []string{"wh-msk"}, Strategy: "priority"})
	cfg.Feeds = []feeds.ChannelConfig{{Name: "ym", Kind: feeds.KindYandexMarket, Warehouses: []feeds.TargetConfig{{}},
		Stock:   feeds.StockPolicy{Percent: 100, Buffer: 0},
		Account: feeds.AccountConfig{APIKey: feeds.SecretRef{Env: "YM_KEY"}, BusinessID: 10, CampaignID: 20, StockMethod: "campaign"}}}
	simCfg := ymsim.DefaultConfig("ACMA:key", 10, 20)
	simCfg.AutoCreateOffers = true
	sim := ymsim.New(simCfg)
	return cfg, Deps{Secrets: mapSecrets{"YM_KEY": "ACMA:key"}, MarketTransport: marketsim.HandlerTransport{Handler: sim}}, sim
}

func recordingTelemetry(tb testing.TB, sampler telemetry.Sampler) (*telemetry.Telemetry, *tracetest.InMemoryExporter) {
	tb.Helper()
	cfg := telemetry.DefaultConfig()
	cfg.Tracing.Sampler = sampler
	exp := tracetest.NewInMemoryExporter()
	tel, err := telemetry.Setup(context.Background(), cfg, telemetry.WithSpanExporter(exp))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { tel.Shutdown(context.Background()) })
	return tel, exp
}

// postWithTraceparent posts body to url with a key and a traceparent.
func postWithTraceparent(tb testing.TB, url, key, traceparent, body string) int {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set(telemetry.HeaderTraceparent, traceparent)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func spansNamed(spans tracetest.SpanStubs, name string) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range spans {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

func linksTo(s tracetest.SpanStub, sc trace.SpanContext) bool {
	for _, l := range s.Links {
		if l.SpanContext.TraceID() == sc.TraceID() && l.SpanContext.SpanID() == sc.SpanID() {
			return true
		}
	}
	return false
}

// TestTraceFollowsAnEventFromPostEventsToTheMarketplacePush: a 1C event
// posted with a sampled traceparent (the rest of the trace is sampled at
// the default 1 %) is one trace across the Kafka hop — the request's
// server span, the publish span, the batch that applied it, the ledger
// apply — and the push to the marketplace that carried its change links
// to that batch.
func TestTraceFollowsAnEventFromPostEventsToTheMarketplacePush(t *testing.T) {
	cfg, deps, sim := tracedEngineConfig(t)
	tel, exp := recordingTelemetry(t, telemetry.SamplerRatio)
	deps.Telemetry = tel
	te := startEngine(t, cfg, deps)

	const traceID, callerSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	body := string(stockSetMsg("t1", "sku-trace", "wh-msk", 9, 1).Value)
	if got := postWithTraceparent(t, te.base+"/v1/events", testEventsKey, "00-"+traceID+"-"+callerSpan+"-01", body); got != 202 {
		t.Fatalf("POST /v1/events: %d, want 202", got)
	}
	waitFor(t, "the stock on the marketplace", 30*time.Second, func() bool {
		got, ok := sim.Stock("sku-trace", "20")
		return ok && got == 9
	})

	var process tracetest.SpanStub
	waitFor(t, "the push span linking the batch", 10*time.Second, func() bool {
		spans := exp.GetSpans()
		ps := spansNamed(spans, telemetry.SpanEventsProcess)
		for _, p := range ps {
			if p.SpanContext.TraceID().String() == traceID {
				process = p
			}
		}
		if !process.SpanContext.IsValid() {
			return false
		}
		for _, push := range spansNamed(spans, telemetry.PushSpanName("ym", "stock")) {
			if linksTo(push, process.SpanContext) {
				return true
			}
		}
		return false
	})
	spans := exp.GetSpans()
	server := onlySpan(t, spans, "POST /v1/events", traceID)
	if server.SpanKind != trace.SpanKindServer || server.Parent.SpanID().String() != callerSpan {
		t.Errorf("server span kind %v parent %s, want server under the caller's %s", server.SpanKind, server.Parent.SpanID(), callerSpan)
	}
	publish := onlySpan(t, spans, telemetry.SpanEventsPublish, traceID)
	if publish.SpanKind != trace.SpanKindProducer || publish.Parent.SpanID() != server.SpanContext.SpanID() {
		t.Errorf("publish span kind %v parent %s, want a producer under the server span %s", publish.SpanKind, publish.Parent.SpanID(), server.SpanContext.SpanID())
	}
	if process.SpanKind != trace.SpanKindConsumer {
		t.Errorf("process span kind %v, want consumer", process.SpanKind)
	}
	if process.Parent.SpanID() != publish.SpanContext.SpanID() && !linksTo(process, publish.SpanContext) {
		t.Errorf("process span: parent %s, links %v; want the publish span %s as parent or link",
			process.Parent.SpanID(), process.Links, publish.SpanContext.SpanID())
	}
	apply := onlySpan(t, spans, telemetry.SpanLedgerApply, traceID)
	if apply.Parent.SpanID() != process.SpanContext.SpanID() {
		t.Errorf("ledger apply parent %s, want the process span %s", apply.Parent.SpanID(), process.SpanContext.SpanID())
	}
	var push tracetest.SpanStub
	for _, p := range spansNamed(spans, telemetry.PushSpanName("ym", "stock")) {
		if linksTo(p, process.SpanContext) {
			push = p
		}
	}
	if push.SpanKind != trace.SpanKindClient || push.Parent.IsValid() {
		t.Errorf("push span kind %v parent %v, want a root client span", push.SpanKind, push.Parent)
	}
	attrs := map[string]string{}
	for _, kv := range push.Attributes {
		attrs[string(kv.Key)] = kv.Value.Emit()
	}
	if attrs["stockd.channel"] != "ym" || attrs["stockd.push.method"] != "stock" || attrs["stockd.push.result"] != "ok" {
		t.Errorf("push span attributes %v", attrs)
	}
}

// onlySpan is the one span of name in the trace.
func onlySpan(tb testing.TB, spans tracetest.SpanStubs, name, traceID string) tracetest.SpanStub {
	tb.Helper()
	var found []tracetest.SpanStub
	for _, s := range spansNamed(spans, name) {
		if s.SpanContext.TraceID().String() == traceID {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		tb.Fatalf("%d spans %q in trace %s, want 1", len(found), name, traceID)
	}
	return found[0]
}

// TestTraceOfAReserveReachesThePush: a sampled reserve request's change
// is carried to the marketplace push, whose span links to the request.
func TestTraceOfAReserveReachesThePush(t *testing.T) {
	cfg, deps, sim := tracedEngineConfig(t)
	tel, exp := recordingTelemetry(t, telemetry.SamplerRatio)
	deps.Telemetry = tel
	te := startEngine(t, cfg, deps)
	setStock(t, te.eng, "sku-r", "wh-msk", 5, 1)
	waitFor(t, "the first push", 30*time.Second, func() bool { got, ok := sim.Stock("sku-r", "20"); return ok && got == 5 })

	const traceID = "5bf92f3577b34da6a3ce929d0e0e4736"
	if got := postWithTraceparent(t, te.base+"/v1/reservations", testKey, "00-"+traceID+"-00f067aa0ba902b7-01",
		`{"id":"web-t","channel":"site","lines":[{"sku":"sku-r","qty":2}]}`); got != 201 {
		t.Fatalf("reserve: %d, want 201", got)
	}
	waitFor(t, "the push after the hold", 30*time.Second, func() bool { got, ok := sim.Stock("sku-r", "20"); return ok && got == 3 })
	waitFor(t, "the push span linking the request", 10*time.Second, func() bool {
		spans := exp.GetSpans()
		server := spansNamed(spans, "POST /v1/reservations")
		if len(server) != 1 {
			return false
		}
		for _, p := range spansNamed(spans, telemetry.PushSpanName("ym", "stock")) {
			if linksTo(p, server[0].SpanContext) {
				return true
			}
		}
		return false
	})
}

// TestJournalFlushIsASpan: with tracing on, each group commit is a
// "journal flush" span with its size.
func TestJournalFlushIsASpanWhenTraced(t *testing.T) {
	cfg := testConfig(t.TempDir())
	tel, exp := recordingTelemetry(t, telemetry.SamplerAlways)
	te := startEngine(t, cfg, Deps{Telemetry: tel})
	setStock(t, te.eng, "sku-j", "wh-msk", 5, 1)
	waitFor(t, "a journal flush span", 10*time.Second, func() bool {
		for _, s := range spansNamed(exp.GetSpans(), telemetry.SpanJournalFlush) {
			for _, kv := range s.Attributes {
				if kv.Key == telemetry.AttrJournalRecords && kv.Value.AsInt64() > 0 {
					return true
				}
			}
		}
		return false
	})
}

// TestKafkaLagMetricShowsLagThenDrains: while batches wait for a slow
// journal the lag gauge is above zero; once they are durable it is zero
// on every partition that had messages.
func TestKafkaLagMetricShowsLagThenDrains(t *testing.T) {
	topics := uniqueTopics(t)
	cfg := testConfig(t.TempDir())
	cfg.Kafka = topics
	cfg.Kafka.Brokers = testsvc.Kfake(t, 2, topics.EventsTopic, topics.DLQTopic)
	tel, _ := recordingTelemetry(t, telemetry.SamplerOff)
	opts := journal.DefaultMemOptions()
	opts.SyncLatency = 300 * time.Millisecond
	te := startEngine(t, cfg, Deps{Telemetry: tel, Journal: journal.NewMemBackend(opts)})

	var msgs []kafkago.Message
	for i := range 200 {
		msgs = append(msgs, stockSetMsg(fmt.Sprint("l", i), fmt.Sprint("sku-l", i%20), "wh-msk", int64(i), i+1))
	}
	produce(t, cfg.Kafka.Brokers, topics.EventsTopic, msgs...)
	sawLag := false
	waitFor(t, "lag above zero", 20*time.Second, func() bool {
		for _, p := range te.eng.ingest.lag.partitions() {
			sawLag = sawLag || p.Lag > 0
		}
		return sawLag
	})
	waitFor(t, "every event applied", 30*time.Second, func() bool { return te.eng.IngestStats().Applied+te.eng.IngestStats().Stale >= 200 })
	waitFor(t, "lag drained", 20*time.Second, func() bool {
		lags := lagSeries(t, te)
		if len(lags) != 2 {
			return false
		}
		for _, v := range lags {
			if v != "0" {
				return false
			}
		}
		return true
	})
}

// lagSeries scrapes /metrics and returns stockd_kafka_consumer_lag by
// partition.
func lagSeries(tb testing.TB, te *testEngine) map[string]string {
	tb.Helper()
	r := call(tb, "GET", te.base+"/metrics", "", "")
	out := map[string]string{}
	for line := range strings.SplitSeq(r.body["_raw"].(string), "\n") {
		if !strings.HasPrefix(line, "stockd_kafka_consumer_lag{") {
			continue
		}
		_, rest, _ := strings.Cut(line, `messaging_destination_partition_id="`)
		part, _, _ := strings.Cut(rest, `"`)
		out[part] = line[strings.LastIndexByte(line, ' ')+1:]
	}
	return out
}
