package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"stockd/adapters/httpapi"
	"stockd/adapters/kafka"
	"stockd/adapters/testsvc"
)

// brokerCases runs a test body against the in-process kfake broker and
// against the real Kafka broker of scripts/services.sh.
func brokerCases(t *testing.T, body func(t *testing.T, brokers []string, topics KafkaConfig)) {
	t.Run("kfake", func(t *testing.T) {
		topics := uniqueTopics(t)
		brokers := testsvc.Kfake(t, 4, topics.EventsTopic, topics.DLQTopic)
		t.Logf("broker: kfake %v", brokers)
		body(t, brokers, topics)
	})
	t.Run("kafka", func(t *testing.T) {
		topics := uniqueTopics(t)
		brokers := testsvc.KafkaTopics(t, 4, topics.EventsTopic, topics.DLQTopic)
		t.Logf("broker: real Kafka %v", brokers)
		body(t, brokers, topics)
	})
}

// ingestConfig is the test config with its journal in dir, consuming
// topics from brokers.
func ingestConfig(dir string, brokers []string, topics KafkaConfig) Config {
	cfg := testConfig(dir)
	cfg.Kafka = topics
	cfg.Kafka.Brokers = brokers
	return cfg
}

// startIngestEngine starts an engine on a fresh journal that consumes
// topics from brokers.
func startIngestEngine(t *testing.T, brokers []string, topics KafkaConfig) *testEngine {
	t.Helper()
	return startEngine(t, ingestConfig(t.TempDir(), brokers, topics), Deps{})
}

func uniqueTopics(tb testing.TB) KafkaConfig {
	base := testsvc.UniqueName(tb, "onec")
	return KafkaConfig{EventsTopic: base + ".events", DLQTopic: base + ".dlq", OrdersTopic: base + ".orders", GroupID: base,
		SeqGapTimeout: 200 * time.Millisecond, SessionTimeout: 6 * time.Second, RebalanceTimeout: 5 * time.Second,
		MaxEventAhead: DefaultMaxEventAhead}
}

func produce(tb testing.TB, brokers []string, topic string, msgs ...kafkago.Message) {
	tb.Helper()
	w, err := kafka.NewWriter(kafka.DefaultWriterConfig(brokers, topic))
	if err != nil {
		tb.Fatal(err)
	}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		tb.Fatalf("produce: %v", err)
	}
}

func stockSetMsg(id, sku, wh string, qty int64, seq int) kafkago.Message {
	ev := map[string]any{"v": 1, "id": id, "source": "ut11-main", "seq": seq,
		"at": time.Unix(1_700_000_000+int64(seq), 0).UTC().Format(time.RFC3339), "type": "stock.set",
		"sku": sku, "warehouse": wh, "qty": qty}
	data, _ := json.Marshal(ev)
	return kafkago.Message{Key: []byte(sku), Value: data}
}

func adjustMsg(id, sku, wh string, delta int64, seq int) kafkago.Message {
	ev := map[string]any{"v": 1, "id": id, "source": "ut11-main", "seq": seq,
		"at": time.Unix(1_700_000_000+int64(seq), 0).UTC().Format(time.RFC3339), "type": "stock.adjust",
		"sku": sku, "warehouse": wh, "delta": delta}
	data, _ := json.Marshal(ev)
	return kafkago.Message{Key: []byte(sku), Value: data}
}

// waitFor polls cond (bounded) until it holds.
func waitFor(tb testing.TB, what string, limit time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func siteAvailable(tb testing.TB, te *testEngine, sku string) int64 {
	tb.Helper()
	av, err := te.eng.Availability(sku, "site")
	if err != nil {
		tb.Fatal(err)
	}
	return av.Channels[0].Available
}

func TestIngestAppliesEventsAndSendsBadOnesToDLQ(t *testing.T) {
	brokerCases(t, func(t *testing.T, brokers []string, topics KafkaConfig) {
		te := startIngestEngine(t, brokers, topics)
		produce(t, brokers, topics.EventsTopic,
			stockSetMsg("e1", "sku-a", "wh-msk", 10, 1),
			kafkago.Message{Key: []byte("sku-a"), Value: []byte(`{"v":1,"type":"stock.set"`)},
			adjustMsg("e2", "sku-a", "wh-msk", -3, 2),
			adjustMsg("e2", "sku-a", "wh-msk", -3, 3),  // same id: applied once
			stockSetMsg("e4", "sku-a", "wh-spb", 4, 5), // seq 4 is never sent: a gap
		)
		waitFor(t, "events applied and the gap reported", 30*time.Second, func() bool {
			st := te.eng.IngestStats()
			return st.Applied+st.Duplicate+st.DLQ >= 4 && st.SeqGaps >= 1
		})
		if got := siteAvailable(t, te, "sku-a"); got != 11 {
			t.Fatalf("sku-a available = %d, want 10-3 in wh-msk + 4 in wh-spb = 11", got)
		}
		st := te.eng.IngestStats()
		if st.DLQ != 1 || st.Duplicate != 1 || st.SeqGaps != 1 {
			t.Fatalf("stats = %+v, want 1 DLQ, 1 duplicate, 1 seq gap", st)
		}
		r := call(t, "GET", te.base+"/v1/ingest", testReadKey, "")
		wantStatus(t, r, 200, "")
		gaps := r.body["recent_gaps"].([]any)
		if r.body["seq_gaps"] != 1.0 || len(gaps) != 1 || gaps[0].(map[string]any)["after"] != 3.0 {
			t.Fatalf("GET /v1/ingest = %v, want one gap after seq 3", r.body)
		}
		m := readOne(t, brokers, topics.DLQTopic)
		var reason string
		for _, h := range m.Headers {
			if h.Key == DLQReasonHeader {
				reason = string(h.Value)
			}
		}
		if reason == "" || string(m.Value) != `{"v":1,"type":"stock.set"` {
			t.Fatalf("DLQ message = %q headers %v, want the bad message with a reason", m.Value, m.Headers)
		}
	})
}

// TestIngestBadMessageAtTheSizeLimit: a bad message close to Kafka's
// message size limit, whose DLQ copy with the reason and source headers
// would be over it, goes to the DLQ cut to fit (the original length in a
// header) and the partition goes on: the good event after it is applied.
func TestIngestBadMessageAtTheSizeLimit(t *testing.T) {
	brokerCases(t, func(t *testing.T, brokers []string, topics KafkaConfig) {
		te := startIngestEngine(t, brokers, topics)
		// 128 bytes under the writers' bound: what the broker's default
		// message.max.bytes (1 MiB + 12, counting the batch's framing)
		// takes, and too large for a copy with two more headers
		huge := `{"v":1,"type":"` + strings.Repeat("x", kafka.DefaultMaxBatchBytes-128-len(`{"v":1,"type":""}`)) + `"}`
		bad := kafkago.Message{Key: []byte("sku-a"), Value: []byte(huge)}
		produce(t, brokers, topics.EventsTopic, bad)
		produce(t, brokers, topics.EventsTopic, stockSetMsg("e1", "sku-a", "wh-msk", 10, 1))
		m := dlqThenApplied(t, te, brokers, topics, "sku-a", 10)
		h := headerMap(m)
		if h[DLQTruncatedHeader] != strconv.Itoa(len(huge)) || len(m.Value) == 0 || !strings.HasPrefix(huge, string(m.Value)) {
			t.Fatalf("DLQ copy: %d bytes, headers %v; want a prefix of the %d-byte message, truncated header", len(m.Value), h, len(huge))
		}
		if r := h[DLQReasonHeader]; r == "" || len(r) > MaxDLQReasonBytes || !strings.Contains(r, "unknown type") {
			t.Fatalf("reason %q: want a short 'unknown type' reason", r)
		}
	})
}

// TestIngestRejectedEventToDLQ: an event the ledger rejects (here a kit
// whose component is itself a kit) goes to the DLQ with the reason before
// its offset advances, and the events around it are applied; a restart
// neither applies it nor sends it again.
func TestIngestRejectedEventToDLQ(t *testing.T) {
	brokerCases(t, func(t *testing.T, brokers []string, topics KafkaConfig) {
		cfg := ingestConfig(t.TempDir(), brokers, topics)
		te := startEngine(t, cfg, Deps{})
		upsert := func(id, sku, component string, seq int) kafkago.Message {
			v := fmt.Sprintf(`{"v":1,"id":%q,"source":"ut11-main","seq":%d,"at":"2026-11-21T10:00:00Z","type":"item.upsert",`+
				`"sku":%q,"article":"a","name":"n","barcodes":[],"kit":[{"sku":%q,"qty":1}]}`, id, seq, sku, component)
			return kafkago.Message{Key: []byte("kits"), Value: []byte(v)} // one partition: in this order
		}
		stock := stockSetMsg("s1", "sku-a", "wh-msk", 4, 3)
		stock.Key = []byte("kits")
		nested := upsert("u2", "kit-2", "kit-1", 2)
		produce(t, brokers, topics.EventsTopic, upsert("u1", "kit-1", "sku-a", 1), nested, stock)
		waitFor(t, "the events around the rejected one applied", 30*time.Second, func() bool {
			st := te.eng.IngestStats()
			return st.Applied >= 2 && st.DLQ >= 1
		})
		if got := siteAvailable(t, te, "kit-1"); got != 4 {
			t.Fatalf("kit-1 available = %d, want 4 (one per sku-a)", got)
		}
		if st := te.eng.IngestStats(); st.Rejected != 1 || st.DLQ != 1 || st.SeqGaps != 0 {
			t.Fatalf("stats %+v: want 1 rejected, 1 DLQ, no seq gap", st)
		}
		m := readOne(t, brokers, topics.DLQTopic)
		if r := headerMap(m)[DLQReasonHeader]; string(m.Value) != string(nested.Value) || !strings.Contains(r, "kits do not nest") {
			t.Fatalf("DLQ message %s (reason %q), want the nested kit with its reason", m.Value, r)
		}
		te.stop()
		te = startEngine(t, cfg, Deps{})
		time.Sleep(300 * time.Millisecond) // a redelivered event would show up by now
		if st := te.eng.IngestStats(); st.DLQ != 0 || st.Rejected != 0 {
			t.Fatalf("after a restart: %+v, want nothing sent again", st)
		}
		if av, err := te.eng.Availability("kit-2", "site"); err != nil || av.Known {
			t.Fatalf("kit-2 after a restart: %+v %v, want unknown", av, err)
		}
	})
}

// dlqThenApplied waits until one message went to the DLQ and the good one
// after it was applied, checks that sku is available as the good one says,
// and returns the DLQ's message.
func dlqThenApplied(t *testing.T, te *testEngine, brokers []string, topics KafkaConfig, sku string, want int64) kafkago.Message {
	t.Helper()
	waitFor(t, "a message to the DLQ and the next one applied", 60*time.Second, func() bool {
		st := te.eng.IngestStats()
		return st.Applied >= 1 && st.DLQ >= 1
	})
	if got := siteAvailable(t, te, sku); got != want {
		t.Fatalf("%s available = %d, want %d (the bad message refused)", sku, got, want)
	}
	return readOne(t, brokers, topics.DLQTopic)
}

// TestIngestFutureDatedEventToDLQ: a stock.set dated decades ahead (a
// mistyped year) goes to the DLQ instead of freezing its cell: the next
// figure for the cell, correctly dated, is applied.
func TestIngestFutureDatedEventToDLQ(t *testing.T) {
	brokerCases(t, func(t *testing.T, brokers []string, topics KafkaConfig) {
		te := startIngestEngine(t, brokers, topics)
		future := stockSetMsg("f1", "sku-f", "wh-msk", 99, 1)
		future.Value = []byte(strings.Replace(string(future.Value), `"at":"2023-`, `"at":"2063-`, 1))
		if !strings.Contains(string(future.Value), `"at":"2063-`) {
			t.Fatalf("test event %s has no 2023 date to move", future.Value)
		}
		produce(t, brokers, topics.EventsTopic, future, stockSetMsg("f2", "sku-f", "wh-msk", 7, 2))
		m := dlqThenApplied(t, te, brokers, topics, "sku-f", 7)
		if r := headerMap(m)[DLQReasonHeader]; !strings.Contains(r, "at: 2063-") || !strings.Contains(r, "after this server's clock") {
			t.Fatalf("DLQ reason %q, want the future at", r)
		}
	})
}

func readOne(tb testing.TB, brokers []string, topic string) kafkago.Message {
	tb.Helper()
	cfg := kafka.DefaultReaderConfig(brokers, topic, testsvc.UniqueName(tb, "dlq-reader"))
	r, err := kafka.NewReader(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, err := r.FetchMessage(ctx)
	if err != nil {
		tb.Fatalf("read %s: %v", topic, err)
	}
	return m
}

// TestIngestExactlyOnceAcrossRestart stops the engine after part of a
// partition was applied, adds more, restarts: every adjust counts once.
func TestIngestExactlyOnceAcrossRestart(t *testing.T) {
	brokerCases(t, func(t *testing.T, brokers []string, topics KafkaConfig) {
		cfg := ingestConfig(t.TempDir(), brokers, topics)
		te := startEngine(t, cfg, Deps{})
		var first []kafkago.Message
		for i := range 50 {
			first = append(first, adjustMsg(fmt.Sprintf("a%d", i), "sku-x", "wh-msk", 1, i+1))
		}
		produce(t, brokers, topics.EventsTopic, first...)
		waitFor(t, "first 50 applied", 30*time.Second, func() bool { return siteAvailable(t, te, "sku-x") == 50 })
		te.stop()

		var second []kafkago.Message
		for i := 50; i < 80; i++ {
			second = append(second, adjustMsg(fmt.Sprintf("a%d", i), "sku-x", "wh-msk", 1, i+1))
		}
		produce(t, brokers, topics.EventsTopic, second...)
		te = startEngine(t, cfg, Deps{})
		waitFor(t, "all 80 applied", 30*time.Second, func() bool { return siteAvailable(t, te, "sku-x") >= 80 })
		time.Sleep(300 * time.Millisecond) // a redelivered event would show up by now
		if got := siteAvailable(t, te, "sku-x"); got != 80 {
			t.Fatalf("after restart available = %d, want exactly 80", got)
		}
	})
}

func TestPostEventsReachesLedgerThroughKafka(t *testing.T) {
	brokerCases(t, func(t *testing.T, brokers []string, topics KafkaConfig) {
		cfg := ingestConfig(t.TempDir(), brokers, topics)
		const eventsKey = "events-key"
		cfg.HTTP.APIKeys = append(cfg.HTTP.APIKeys, httpapi.APIKey{Name: "1c", SHA256: httpapi.HashToken(eventsKey),
			Scopes: []httpapi.Scope{httpapi.ScopeEvents}})
		te := startEngine(t, cfg, Deps{})
		ev := func(id string, seq int, qty int) string {
			return fmt.Sprintf(`{"v":1,"id":%q,"source":"ut","seq":%d,"at":"2026-11-21T10:00:%02d+03:00","type":"stock.set","sku":"sku-p","warehouse":"wh-msk","qty":%d}`, id, seq, seq, qty)
		}
		bad := `{"v":1,"id":"bad","source":"ut","seq":9,"at":"2026-11-21T10:00:00+03:00","type":"stock.set","sku":"sku-p","warehouse":"wh-msk","qty":"many"}`
		r := call(t, "POST", te.base+"/v1/events", eventsKey, "["+ev("p1", 1, 100)+","+bad+"]")
		wantStatus(t, r, 422, "invalid_events")
		refused := r.body["details"].(map[string]any)["events"].([]any)
		if len(refused) != 1 || refused[0].(map[string]any)["index"] != 1.0 {
			t.Fatalf("refused = %v, want index 1 only", refused)
		}
		future := strings.Replace(ev("f1", 4, 1), "2026-11-21", "2062-11-21", 1) // a mistyped year
		r = call(t, "POST", te.base+"/v1/events", eventsKey, "["+future+"]")
		wantStatus(t, r, 422, "invalid_events")
		refused = r.body["details"].(map[string]any)["events"].([]any)
		if msg, _ := refused[0].(map[string]any)["message"].(string); !strings.Contains(msg, "at: 2062-11-21T07:00:04Z is more than 24h0m0s after") {
			t.Fatalf("future-dated event refused with %q", msg)
		}
		wantStatus(t, call(t, "POST", te.base+"/v1/events", testKey, "["+ev("p1", 1, 5)+"]"), 403, "forbidden")
		r = call(t, "POST", te.base+"/v1/events", eventsKey, ev("p2", 2, 5)+"\n\n"+ev("p3", 3, 6)+"\n")
		wantStatus(t, r, 202, "")
		if r.body["accepted"] != 2.0 {
			t.Fatalf("accepted = %v, want 2", r.body["accepted"])
		}
		waitFor(t, "posted events applied", 30*time.Second, func() bool { return te.eng.IngestStats().Applied >= 2 })
		if got := siteAvailable(t, te, "sku-p"); got != 6 {
			t.Fatalf("available = %d, want 6 (the refused batch produced nothing)", got)
		}
	})
}

// TestIngestResumesFromTheLedgerNotTheGroup: consumption resumes from the
// offsets in the ledger, not the consumer group's commits. The journal is
// put back to an earlier copy (a restore from a backup) while the group
// has committed past it: the events after the copy are applied again from
// Kafka, each once.
func TestIngestResumesFromTheLedgerNotTheGroup(t *testing.T) {
	brokerCases(t, func(t *testing.T, brokers []string, topics KafkaConfig) {
		dir := t.TempDir()
		cfg := ingestConfig(dir+"/journal", brokers, topics)
		adjusts := func(from, to int) []kafkago.Message {
			var out []kafkago.Message
			for i := from; i < to; i++ {
				out = append(out, adjustMsg(fmt.Sprintf("r%d", i), "sku-r", "wh-msk", 1, i+1))
			}
			return out
		}
		te := startEngine(t, cfg, Deps{})
		produce(t, brokers, topics.EventsTopic, adjusts(0, 3)...)
		waitFor(t, "the first 3 applied", 30*time.Second, func() bool { return siteAvailable(t, te, "sku-r") == 3 })
		te.stop()
		if err := os.CopyFS(dir+"/backup", os.DirFS(dir+"/journal")); err != nil {
			t.Fatal(err)
		}
		te = startEngine(t, cfg, Deps{})
		produce(t, brokers, topics.EventsTopic, adjusts(3, 6)...)
		waitFor(t, "all 6 applied", 30*time.Second, func() bool { return siteAvailable(t, te, "sku-r") == 6 })
		time.Sleep(300 * time.Millisecond) // the group commits what is durable
		te.stop()

		if err := os.RemoveAll(dir + "/journal"); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(dir+"/backup", dir+"/journal"); err != nil {
			t.Fatal(err)
		}
		te = startEngine(t, cfg, Deps{})
		if got := siteAvailable(t, te, "sku-r"); got != 3 {
			t.Fatalf("the restored journal gives %d, want 3", got)
		}
		waitFor(t, "the 3 after the backup applied again", 60*time.Second, func() bool { return siteAvailable(t, te, "sku-r") >= 6 })
		time.Sleep(300 * time.Millisecond)
		if got := siteAvailable(t, te, "sku-r"); got != 6 {
			t.Fatalf("after the restore: %d, want exactly 6", got)
		}
	})
}
