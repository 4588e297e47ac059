package engine

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"stockd/adapters/alerts"
	"stockd/engine/journal"
	"stockd/feeds"
)

// alertHook is a webhook on 127.0.0.1 that keeps what it is sent.
type alertHook struct {
	mu   sync.Mutex
	msgs []alerts.Payload
}

func (h *alertHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var p alerts.Payload
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.msgs = append(h.msgs, p)
	h.mu.Unlock()
}

// statuses lists the statuses sent for the alert name, in order.
func (h *alertHook) statuses(name string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, m := range h.msgs {
		if m.Alerts[0].Labels["alertname"] == name {
			out = append(out, m.Status)
		}
	}
	return out
}

// TestAlertWebhookFiresAndResolvesOnJournalFailure: a failed journal
// write is posted once as firing and, once the journal has recovered and
// no error followed for resolve_after, once as resolved.
func TestAlertWebhookFiresAndResolvesOnJournalFailure(t *testing.T) {
	hook := &alertHook{}
	srv := httptest.NewServer(hook)
	defer srv.Close()
	cfg := testConfig(t.TempDir())
	cfg.Telemetry.Alerts.WebhookURL = srv.URL + "/alerts"
	cfg.Telemetry.Alerts.Interval = 20 * time.Millisecond
	cfg.Telemetry.Alerts.ResolveAfter = 300 * time.Millisecond
	mem := journal.NewMemBackend(journal.MemOptions{MaxSnapshotsKept: 2})
	current := mem
	te := startEngine(t, cfg, Deps{Journal: mem, ReopenJournal: func(context.Context) (journal.Backend, error) {
		var err error
		current, err = current.Reopen()
		return current, err
	}})
	setStock(t, te.eng, "sku-1", "wh-msk", 5, 1)
	mem.FailNextWrites(1)
	wantStatus(t, call(t, "POST", te.base+"/v1/reservations", testKey,
		`{"id":"a","channel":"site","lines":[{"sku":"sku-1","qty":2}]}`), 503, "journal_unavailable")
	waitFor(t, "the journal alert to resolve", 20*time.Second, func() bool {
		return len(hook.statuses("StockdJournalErrors")) >= 2
	})
	time.Sleep(100 * time.Millisecond) // a repeat would come within a few intervals
	if got := hook.statuses("StockdJournalErrors"); len(got) != 2 || got[0] != "firing" || got[1] != "resolved" {
		t.Fatalf("journal alert messages = %v, want [firing resolved]", got)
	}
}

func TestAlertConditions(t *testing.T) {
	cfg := alerts.DefaultConfig()
	cfg.ChannelFreshnessSLO = map[string]time.Duration{"ozon": time.Minute}
	cfg.ResolveAfter = 5 * time.Minute
	eval := newAlertEval(cfg)
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	names := func(as []alerts.Alert) map[string]bool {
		out := map[string]bool{}
		for _, a := range as {
			out[a.Name+"/"+a.Key] = true
		}
		return out
	}
	ozon := feeds.Stats{Channel: "ozon", Kind: feeds.KindOzon, Freshness: 2 * time.Minute, AwaitingApproval: 1, Dropped: 3}
	ozon.Stock.Requests, ozon.Stock.RequestErrors = 10, 8
	wb := feeds.Stats{Channel: "wb", Kind: feeds.KindWildberries, Freshness: 2 * time.Minute}
	in := alertInputs{now: t0, channels: []feeds.Stats{ozon, wb}, shortSKUs: 2}
	in.ingest.DLQ, in.ingest.SeqGaps = 1, 0
	got := names(eval.evaluate(in))
	want := map[string]bool{"StockdChannelFreshnessOverSLO/ozon": true, "StockdChannelFailing/ozon": true,
		"StockdPricesQuarantined/ozon": true, "StockdChannelDroppingChanges/ozon": true, "StockdDLQGrowing/": true,
		"StockdShortSKUs/": true}
	if len(got) != len(want) {
		t.Fatalf("firing %v, want %v (wb is within the default 5m objective)", got, want)
	}
	for k := range want {
		if !got[k] {
			t.Fatalf("firing %v, want %v", got, want)
		}
	}
	// Ten minutes on: the pushes succeed, the counters stayed flat past
	// resolve_after, and nothing is short or late.
	ozon.Freshness, ozon.AwaitingApproval = 0, 0
	ozon.Stock.Requests = 100
	in = alertInputs{now: t0.Add(failingWindow + time.Second), channels: []feeds.Stats{ozon}}
	in.ingest.DLQ = 1
	eval.evaluate(alertInputs{now: t0.Add(failingWindow / 2), channels: []feeds.Stats{ozon}, ingest: in.ingest})
	if got := eval.evaluate(in); len(got) != 0 {
		t.Fatalf("still firing %v", names(got))
	}
}
