package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"stockd/adapters/httpapi"
	"stockd/engine/journal"
	"stockd/reservation"
)

const (
	testKey     = "test-reserve-key"
	testReadKey = "test-read-key"
)

// testEngine is a running engine on 127.0.0.1:0 with a stop function.
type testEngine struct {
	eng  *Engine
	base string
	stop func()
}

func testConfig(dir string) Config {
	cfg := DefaultConfig()
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Journal.Kind, cfg.Journal.Dir = JournalFile, dir
	cfg.Channels = DemoChannels()
	cfg.HTTP.APIKeys = []httpapi.APIKey{
		{Name: "checkout", SHA256: httpapi.HashToken(testKey), Scopes: []httpapi.Scope{httpapi.ScopeReserve, httpapi.ScopeRead}},
		{Name: "reader", SHA256: httpapi.HashToken(testReadKey), Scopes: []httpapi.Scope{httpapi.ScopeRead}},
	}
	return cfg
}

func startEngine(tb testing.TB, cfg Config, deps Deps) *testEngine {
	tb.Helper()
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	eng, err := Open(context.Background(), cfg, deps)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	var once sync.Once
	te := &testEngine{eng: eng, base: "http://" + eng.HTTPAddr()}
	te.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				tb.Errorf("Run: %v", err)
			}
		})
	}
	tb.Cleanup(te.stop)
	return te
}

func setStock(tb testing.TB, eng *Engine, sku, wh string, qty int64, offset int64) {
	tb.Helper()
	ev := reservation.Event{V: 1, ID: fmt.Sprintf("ev-%s-%s-%d", sku, wh, offset), Source: "test", Seq: uint64(offset),
		At: time.Unix(1_700_000_000+offset, 0), Type: reservation.EventStockSet, SKU: sku, Warehouse: wh, Qty: qty}
	res, err := eng.ApplyEvents(context.Background(), []SourcedEvent{{Event: ev,
		Source: reservation.Source{Topic: "onec.events", Partition: 0, Offset: offset}}})
	if err != nil || res[0].Err != nil || res[0].Outcome != reservation.OutcomeApplied {
		tb.Fatalf("stock.set %s/%s=%d: %v %+v", sku, wh, qty, err, res)
	}
}

type reply struct {
	status int
	body   map[string]any
}

func call(tb testing.TB, method, url, key, body string) reply {
	tb.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		r.body = map[string]any{"_raw": string(data)}
		return r
	}
	if len(data) > 0 {
		if err := json.Unmarshal(data, &r.body); err != nil {
			tb.Fatalf("%s %s: reply is not a JSON object: %q", method, url, data)
		}
	}
	return r
}

func wantStatus(tb testing.TB, r reply, status int, code string) {
	tb.Helper()
	if r.status != status || (code != "" && r.body["error"] != code) {
		tb.Fatalf("got %d %v, want %d %s", r.status, r.body, status, code)
	}
}

func TestReserveLifecycleOverHTTP(t *testing.T) {
	te := startEngine(t, testConfig(t.TempDir()), Deps{})
	setStock(t, te.eng, "sku-1", "wh-msk", 3, 1)
	setStock(t, te.eng, "sku-1", "wh-spb", 2, 2)
	hold := `{"id":"order-1","channel":"site","lines":[{"sku":"sku-1","qty":4}],"ttl_seconds":600}`

	r := call(t, "POST", te.base+"/v1/reservations", testKey, hold)
	wantStatus(t, r, 201, "")
	if r.body["state"] != "held" || r.body["expires_at"] == nil {
		t.Fatalf("created hold = %v, want state held with expires_at", r.body)
	}
	allocs := r.body["lines"].([]any)[0].(map[string]any)["allocations"].([]any)
	if len(allocs) != 2 {
		t.Fatalf("site allows split with priority wh-msk then wh-spb; allocations = %v", allocs)
	}
	wantStatus(t, call(t, "POST", te.base+"/v1/reservations", testKey, hold), 200, "")
	wantStatus(t, call(t, "POST", te.base+"/v1/reservations", testKey,
		strings.Replace(hold, `"qty":4`, `"qty":3`, 1)), 422, "idempotency_conflict")

	r = call(t, "POST", te.base+"/v1/reservations", testKey,
		`{"id":"order-2","channel":"site","lines":[{"sku":"sku-1","qty":2}]}`)
	wantStatus(t, r, 409, "insufficient_stock")
	line := r.body["details"].(map[string]any)["lines"].([]any)[0].(map[string]any)
	if line["requested"] != 2.0 || line["available"] != 1.0 {
		t.Fatalf("shortage = %v, want requested 2 available 1", line)
	}

	r = call(t, "POST", te.base+"/v1/reservations/order-1/confirm", testKey, "")
	wantStatus(t, r, 200, "")
	if r.body["state"] != "confirmed" || r.body["expires_at"] != nil {
		t.Fatalf("confirmed hold = %v, want confirmed with no expiry", r.body)
	}
	r = call(t, "GET", te.base+"/v1/availability/sku-1?channel=site", testReadKey, "")
	wantStatus(t, r, 200, "")
	if got := r.body["channels"].([]any)[0].(map[string]any)["available"]; got != 1.0 {
		t.Fatalf("site available after holding 4 of 5 = %v, want 1", got)
	}
	wantStatus(t, call(t, "POST", te.base+"/v1/reservations/order-1/release", testKey, ""), 200, "")
	r = call(t, "POST", te.base+"/v1/reservations/order-1/release", testKey, "")
	wantStatus(t, r, 200, "")
	if r.body["state"] != "released" {
		t.Fatalf("released hold = %v", r.body)
	}
	wantStatus(t, call(t, "GET", te.base+"/v1/reservations/nope", testKey, ""), 404, "hold_not_found")
	wantStatus(t, call(t, "GET", te.base+"/v1/reservations/order-1", testKey, ""), 200, "")
}

func TestAuthAndBadInputChangeNothing(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.HTTP.Limits.MaxBodyBytes = 4096
	te := startEngine(t, cfg, Deps{})
	setStock(t, te.eng, "sku-1", "wh-msk", 5, 1)
	body := `{"id":"o","channel":"site","lines":[{"sku":"sku-1","qty":1}]}`
	for _, tc := range []struct {
		name, key, body string
		status          int
		code            string
	}{
		{"no key", "", body, 401, "unauthorized"},
		{"wrong key", "nope", body, 401, "unauthorized"},
		{"read scope", testReadKey, body, 403, "forbidden"},
		{"malformed", testKey, `{"id":`, 400, "malformed_json"},
		{"wrong type", testKey, `{"id":"o","channel":"site","lines":[{"sku":"sku-1","qty":"1"}]}`, 422, "invalid_request"},
		{"unknown field", testKey, `{"id":"o","channel":"site","lines":[{"sku":"sku-1","qty":1}],"ttl":5}`, 422, "invalid_request"},
		{"zero qty", testKey, `{"id":"o","channel":"site","lines":[{"sku":"sku-1","qty":0}]}`, 422, "invalid_request"},
		{"negative qty", testKey, `{"id":"o","channel":"site","lines":[{"sku":"sku-1","qty":-1}]}`, 422, "invalid_request"},
		{"unknown channel", testKey, `{"id":"o","channel":"tv","lines":[{"sku":"sku-1","qty":1}]}`, 422, "unknown_channel"},
		{"huge body", testKey, `{"id":"` + strings.Repeat("x", 8192) + `"}`, 413, "body_too_large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantStatus(t, call(t, "POST", te.base+"/v1/reservations", tc.key, tc.body), tc.status, tc.code)
		})
	}
	r := call(t, "GET", te.base+"/v1/availability/sku-1?channel=site", testReadKey, "")
	if got := r.body["channels"].([]any)[0].(map[string]any)["available"]; got != 5.0 {
		t.Fatalf("after refused requests available = %v, want 5 (nothing changed)", got)
	}
}

func TestUnicodeSKUInPath(t *testing.T) {
	te := startEngine(t, testConfig(t.TempDir()), Deps{})
	sku := "8f1c-гвоздь#a2c4"
	setStock(t, te.eng, sku, "wh-msk", 7, 1)
	r := call(t, "GET", te.base+"/v1/availability/8f1c-%D0%B3%D0%B2%D0%BE%D0%B7%D0%B4%D1%8C%23a2c4", testReadKey, "")
	wantStatus(t, r, 200, "")
	if r.body["sku"] != sku || !r.body["known"].(bool) {
		t.Fatalf("availability = %v, want known %q", r.body, sku)
	}
}

// TestPathIDsDecodedOnce: a hold id or SKU holding "/" or "%" reaches the
// handler as the checkout percent-encoded it, decoded once: "2026/11/5" as
// 2026%2F11%2F5 is one id, not three segments, and "a%41" (sent as
// a%2541) is not the hold "aA".
func TestPathIDsDecodedOnce(t *testing.T) {
	te := startEngine(t, testConfig(t.TempDir()), Deps{})
	setStock(t, te.eng, "sku-1", "wh-msk", 10, 1)
	setStock(t, te.eng, "x%23y", "wh-msk", 3, 2)
	setStock(t, te.eng, "x#y", "wh-msk", 4, 3)
	for _, id := range []string{"aA", "a%41", "2026/11/5", "50%off"} {
		r := call(t, "POST", te.base+"/v1/reservations", testKey,
			fmt.Sprintf(`{"id":%q,"channel":"site","lines":[{"sku":"sku-1","qty":1}],"ttl_seconds":600}`, id))
		wantStatus(t, r, 201, "")
	}
	for _, id := range []string{"a%41", "2026/11/5", "50%off"} {
		path := te.base + "/v1/reservations/" + url.PathEscape(id)
		r := call(t, "GET", path, testKey, "")
		wantStatus(t, r, 200, "")
		if r.body["id"] != id {
			t.Fatalf("GET %s = hold %v, want %q", path, r.body["id"], id)
		}
		r = call(t, "POST", path+"/release", testKey, "")
		wantStatus(t, r, 200, "")
		if r.body["id"] != id || r.body["state"] != "released" {
			t.Fatalf("release %s = %v, want %q released", path, r.body, id)
		}
	}
	r := call(t, "GET", te.base+"/v1/reservations/aA", testKey, "")
	if wantStatus(t, r, 200, ""); r.body["state"] != "held" {
		t.Fatalf("hold aA = %v, want still held after releasing a%%41", r.body)
	}
	for sku, want := range map[string]float64{"x%23y": 3, "x#y": 4} {
		r := call(t, "GET", te.base+"/v1/availability/"+url.PathEscape(sku)+"?channel=site", testReadKey, "")
		wantStatus(t, r, 200, "")
		if got := r.body["channels"].([]any)[0].(map[string]any)["available"]; r.body["sku"] != sku || got != want {
			t.Fatalf("availability of %q = %v, want %v available", sku, r.body, want)
		}
	}
}

// TestTooManyLinesIsLimitExceeded: a hold over MaxLinesPerHold gets the
// documented 422 limit_exceeded naming the limit, and changes nothing.
func TestTooManyLinesIsLimitExceeded(t *testing.T) {
	te := startEngine(t, testConfig(t.TempDir()), Deps{})
	setStock(t, te.eng, "sku-1", "wh-msk", 5, 1)
	maxLines := te.eng.MaxLinesPerHold()
	lines := make([]string, maxLines+1)
	for i := range lines {
		lines[i] = fmt.Sprintf(`{"sku":"sku-%d","qty":1}`, i+1)
	}
	r := call(t, "POST", te.base+"/v1/reservations", testKey,
		`{"id":"big","channel":"site","lines":[`+strings.Join(lines, ",")+`]}`)
	wantStatus(t, r, 422, "limit_exceeded")
	details, _ := r.body["details"].(map[string]any)
	if details["limit"] != "MaxLinesPerHold" || details["max"] != float64(maxLines) {
		t.Fatalf("details = %v, want limit MaxLinesPerHold, max %d", r.body["details"], maxLines)
	}
	wantStatus(t, call(t, "GET", te.base+"/v1/reservations/big", testKey, ""), 404, "hold_not_found")
}

func TestConcurrentCheckoutsNeverOversell(t *testing.T) {
	te := startEngine(t, testConfig(t.TempDir()), Deps{})
	const units, buyers = 10, 64
	setStock(t, te.eng, "hot", "wh-msk", units, 1)
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for i := range buyers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := call(t, "POST", te.base+"/v1/reservations", testKey,
				fmt.Sprintf(`{"id":"buyer-%d","channel":"site","lines":[{"sku":"hot","qty":1}]}`, i))
			mu.Lock()
			statuses[r.status]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if statuses[201] != units || statuses[409] != buyers-units {
		t.Fatalf("statuses = %v, want %d×201 and %d×409", statuses, units, buyers-units)
	}
}

func TestHoldsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	te := startEngine(t, testConfig(dir), Deps{})
	setStock(t, te.eng, "sku-1", "wh-msk", 5, 1)
	wantStatus(t, call(t, "POST", te.base+"/v1/reservations", testKey,
		`{"id":"a","channel":"site","lines":[{"sku":"sku-1","qty":2}]}`), 201, "")
	wantStatus(t, call(t, "POST", te.base+"/v1/reservations", testKey,
		`{"id":"b","channel":"site","lines":[{"sku":"sku-1","qty":1}]}`), 201, "")
	wantStatus(t, call(t, "POST", te.base+"/v1/reservations/b/release", testKey, ""), 200, "")
	te.stop()

	te = startEngine(t, testConfig(dir), Deps{})
	r := call(t, "GET", te.base+"/v1/reservations/a", testKey, "")
	wantStatus(t, r, 200, "")
	if r.body["state"] != "held" {
		t.Fatalf("hold a after restart = %v", r.body)
	}
	r = call(t, "GET", te.base+"/v1/availability/sku-1?channel=site", testReadKey, "")
	if got := r.body["channels"].([]any)[0].(map[string]any)["available"]; got != 3.0 {
		t.Fatalf("available after restart = %v, want 3", got)
	}
	// The same event offset again is not applied twice.
	res, err := te.eng.ApplyEvents(context.Background(), []SourcedEvent{{
		Event:  reservation.Event{V: 1, ID: "x", Source: "test", Seq: 1, At: time.Unix(1_700_000_001, 0), Type: reservation.EventStockSet, SKU: "sku-1", Warehouse: "wh-msk", Qty: 100},
		Source: reservation.Source{Topic: "onec.events", Partition: 0, Offset: 1}}})
	if err != nil || res[0].Outcome != reservation.OutcomeAlreadyApplied {
		t.Fatalf("re-applying offset 1 after restart: %v %+v, want already_applied", err, res)
	}
}

func TestJournalFailureAnswers503AndAcknowledgesNothing(t *testing.T) {
	mem := journal.NewMemBackend(journal.MemOptions{})
	current := mem
	te := startEngine(t, testConfig(t.TempDir()), Deps{Journal: mem,
		ReopenJournal: func(context.Context) (journal.Backend, error) {
			var err error
			current, err = current.Reopen()
			return current, err
		}})
	setStock(t, te.eng, "sku-1", "wh-msk", 5, 1)
	mem.FailNextWrites(1)
	wantStatus(t, call(t, "POST", te.base+"/v1/reservations", testKey,
		`{"id":"a","channel":"site","lines":[{"sku":"sku-1","qty":2}]}`), 503, "journal_unavailable")
	// The engine reopens the journal and rebuilds the ledger; hold a was
	// never acknowledged, so it is gone and its units are free.
	deadline := time.Now().Add(10 * time.Second)
	for call(t, "GET", te.base+"/readyz", "", "").status != 200 {
		if time.Now().After(deadline) {
			t.Fatal("engine did not recover from the journal failure within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	wantStatus(t, call(t, "GET", te.base+"/v1/reservations/a", testKey, ""), 404, "hold_not_found")
	wantStatus(t, call(t, "POST", te.base+"/v1/reservations", testKey,
		`{"id":"b","channel":"site","lines":[{"sku":"sku-1","qty":5}]}`), 201, "")
	var n int
	if err := current.Replay(context.Background(), 1, func(lsn uint64, rec []byte) error {
		r, err := reservation.DecodeRecord(rec)
		if err != nil {
			return err
		}
		if r.Kind == reservation.RecordReserve && r.HoldID == "a" {
			return errors.New("the refused hold reached the journal")
		}
		n++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("journal holds %d records, want the stock.set and hold b", n)
	}
}

// TestStopRightAfterStart: an engine stopped at once after its start
// stops (its HTTP server may not have begun to accept yet) and releases
// its journal for the next one.
func TestStopRightAfterStart(t *testing.T) {
	dir := t.TempDir()
	for i := range 40 {
		te := startEngine(t, testConfig(dir), Deps{})
		stopped := make(chan struct{})
		go func() {
			te.stop()
			close(stopped)
		}()
		select {
		case <-stopped:
		case <-time.After(20 * time.Second):
			t.Fatalf("start %d: the engine did not stop within 20 s", i)
		}
	}
}
