package main

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"stockd/reservation"
)

// samplesDir returns shared/samples/commerceml beside the repository. Missing: fatal
// under CI=true, skipped otherwise.
func samplesDir(tb testing.TB) string {
	tb.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "samples", "commerceml"))
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("real CommerceML samples missing at %s: %v", dir, err)
		}
		tb.Skipf("real CommerceML samples not found at %s; skipping", dir)
	}
	return dir
}

// fakeStockd stands in for POST /v1/events: it decodes every NDJSON line with
// reservation.DecodeEvent and counts the events; the first request gets a 503.
type fakeStockd struct {
	mu       sync.Mutex
	requests int
	events   []reservation.Event
	maxBatch int
	maxBytes int
	refuse   bool
	// refuseFrom, when positive, refuses every request from this one on
	// (the first is 1, the 503)
	refuseFrom int
}

func (f *fakeStockd) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	if r.URL.Path != "/v1/events" || r.Method != http.MethodPost || r.Header.Get("Authorization") != "Bearer k3y" {
		http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
		return
	}
	if f.requests == 1 {
		w.Header().Set("Retry-After", "0")
		http.Error(w, `{"error":"kafka_unavailable"}`, http.StatusServiceUnavailable)
		return
	}
	if f.refuse || (f.refuseFrom > 0 && f.requests >= f.refuseFrom) {
		http.Error(w, `{"error":"invalid_events"}`, http.StatusUnprocessableEntity)
		return
	}
	var body bytes.Buffer
	if _, err := body.ReadFrom(r.Body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.maxBytes = max(f.maxBytes, body.Len())
	n := 0
	sc := bufio.NewScanner(&body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		ev, err := reservation.DecodeEvent(sc.Bytes())
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnprocessableEntity)
			return
		}
		f.events = append(f.events, ev)
		n++
	}
	f.maxBatch = max(f.maxBatch, n)
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write([]byte(`{"accepted":` + itoa(n) + `}`))
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestImportPostsToStockd(t *testing.T) {
	dir := filepath.Join(samplesDir(t), "cml207-warehouses")
	offers, err := os.ReadFile(filepath.Join(dir, "offers0_1.xml"))
	if err != nil {
		t.Fatal(err)
	}
	fake := &fakeStockd{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	state := filepath.Join(t.TempDir(), "state.json")
	var stdout, stderr bytes.Buffer
	args := []string{"-url", srv.URL, "-key", "k3y", "-source", "ut-207", "-batch", "50", "-state", state, "-tz", "Europe/Moscow",
		"-price-type", "279b6812-740b-11e8-80c8-0cc47ab29cd1=base", "-warehouse", "dd306af1-19c9-11e7-80c2-0cc47ab29cd1=wh-msk", dir}
	if err := runImport(context.Background(), args, &stdout, &stderr, func(string) string { return "" }); err != nil {
		t.Fatalf("runImport: %v\nstderr: %s", err, stderr.String())
	}
	stock, prices := 0, 0
	for _, ev := range fake.events {
		switch ev.Type {
		case reservation.EventStockSet:
			stock++
		case reservation.EventPriceSet:
			prices++
		}
	}
	if want := bytes.Count(offers, []byte("ИдСклада=")); stock != want {
		t.Errorf("stock.set posted: %d, want %d", stock, want)
	}
	if want := bytes.Count(offers, []byte("<Цена>")); prices != want {
		t.Errorf("price.set posted: %d, want %d", prices, want)
	}
	if fake.maxBatch > 50 || fake.maxBytes > maxBytesPerPost {
		t.Errorf("largest request: %d events, %d bytes", fake.maxBatch, fake.maxBytes)
	}
	for i, ev := range fake.events {
		if ev.Seq != uint64(i+1) || ev.Source != "ut-207" {
			t.Fatalf("event %d: source %q seq %d", i, ev.Source, ev.Seq)
		}
	}
	out := stdout.String()
	for _, want := range []string{"offers       44 ", "stock cells  " + itoa(stock) + " stock.set", "prices       " + itoa(prices) + " price.set",
		"events       " + itoa(len(fake.events)) + " published", "missing      0 "} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(stderr.String(), "import: 100%") {
		t.Errorf("progress on stderr: %q", stderr.String())
	}

	// A second run continues the seqs from the state file.
	n := len(fake.events)
	stdout.Reset()
	if err := runImport(context.Background(), args, &stdout, &stderr, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	if got := fake.events[n].Seq; got != uint64(n+1) {
		t.Errorf("second run starts at seq %d, want %d", got, n+1)
	}
}

func TestImportDryRun(t *testing.T) {
	dir := filepath.Join(samplesDir(t), "cml31-ut11-bitrix6")
	var stdout, stderr bytes.Buffer
	args := []string{"-dry-run", "-progress", "off", "-price-type", "aef2c177-1862-11de-9d9d-001a4d4b12d9=retail", dir}
	getenv := func(k string) string {
		if k == "STOCKD_URL" {
			return "http://127.0.0.1:1" // never contacted in a dry run
		}
		return ""
	}
	if err := runImport(context.Background(), args, &stdout, &stderr, getenv); err != nil {
		t.Fatalf("runImport: %v", err)
	}
	rests, err := os.ReadFile(filepath.Join(dir, "rests.xml"))
	if err != nil {
		t.Fatal(err)
	}
	out := stdout.String()
	if want := "stock cells  " + itoa(bytes.Count(rests, []byte("<Остаток>"))) + " stock.set"; !strings.Contains(out, want) {
		t.Errorf("summary lacks %q:\n%s", want, out)
	}
	if !strings.Contains(out, "dry run: nothing published") || stderr.Len() != 0 {
		t.Errorf("dry run output:\n%s\nstderr %q", out, stderr.String())
	}
}

func TestImportRefusedBatchFails(t *testing.T) {
	dir := filepath.Join(samplesDir(t), "cml207-warehouses")
	fake := &fakeStockd{refuse: true}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	err := runImport(context.Background(), []string{"-url", srv.URL, "-key", "k3y", "-progress", "off", dir}, &stdout, &stderr, func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "422") {
		t.Fatalf("runImport: %v", err)
	}
}

func TestImportFlags(t *testing.T) {
	for name, args := range map[string][]string{
		"no files":     {"-dry-run"},
		"no target":    {"x.xml"},
		"both targets": {"-url", "http://a", "-brokers", "b:9092", "x.xml"},
		"bad batch":    {"-dry-run", "-batch", "10001", "x.xml"},
		"bad map":      {"-dry-run", "-warehouse", "nope", "x.xml"},
		"bad tz":       {"-dry-run", "-tz", "Mars/Olympus", "x.xml"},
		"bad progress": {"-dry-run", "-progress", "bogus", "x.xml"},
		"missing file": {"-dry-run", "/nonexistent/offers.xml"},
	} {
		var stdout, stderr bytes.Buffer
		if err := runImport(context.Background(), args, &stdout, &stderr, func(string) string { return "" }); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestImportFileOrder(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"rests.xml", "offers.xml", "import.xml", "prices.xml", "zz.zip", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	files, err := importFiles([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		got = append(got, filepath.Base(f.path))
	}
	if want := "import.xml,offers.xml,prices.xml,rests.xml,zz.zip"; strings.Join(got, ",") != want {
		t.Fatalf("order %v, want %s", got, want)
	}
}

// TestImportTakesGlobalFlags: "stockctl -url U -key K import FILE" posts
// to U with K, as the usage line shows, and a -url named on the command
// line wins over STOCKD_KAFKA_BROKERS from the environment.
func TestImportTakesGlobalFlags(t *testing.T) {
	dir := filepath.Join(samplesDir(t), "cml207-warehouses")
	for name, env := range map[string]map[string]string{
		"no environment":                 {},
		"brokers in the environment":     {"STOCKD_KAFKA_BROKERS": "127.0.0.1:1"},
		"another url in the environment": {"STOCKD_URL": "http://127.0.0.1:1"},
	} {
		fake := &fakeStockd{}
		srv := httptest.NewServer(fake)
		var stdout, stderr bytes.Buffer
		args := []string{"-url", srv.URL, "-key", "k3y", "import", "-source", "ut-207", "-tz", "Europe/Moscow",
			"-warehouse", "dd306af1-19c9-11e7-80c2-0cc47ab29cd1=wh-msk", dir}
		err := run(context.Background(), args, func(k string) string { return env[k] }, &stdout, &stderr)
		srv.Close()
		if err != nil {
			t.Fatalf("%s: %v\nstderr: %s", name, err, stderr.String())
		}
		if len(fake.events) == 0 {
			t.Fatalf("%s: nothing posted to the -url given before the command", name)
		}
	}
}

// TestImportSavesStateAfterAFailure: a run that fails after publishing
// some batches keeps its -state, so the next run's seqs follow the
// published ones instead of handing them out again.
func TestImportSavesStateAfterAFailure(t *testing.T) {
	dir := filepath.Join(samplesDir(t), "cml207-warehouses")
	state := filepath.Join(t.TempDir(), "state.json")
	args := func(url string) []string {
		return []string{"-url", url, "-key", "k3y", "-progress", "off", "-batch", "10", "-state", state, "-source", "ut-207", dir}
	}
	failing := &fakeStockd{refuseFrom: 3} // the 503, one batch taken, then refused
	srv := httptest.NewServer(failing)
	var stdout, stderr bytes.Buffer
	err := runImport(context.Background(), args(srv.URL), &stdout, &stderr, func(string) string { return "" })
	srv.Close()
	if err == nil || len(failing.events) == 0 {
		t.Fatalf("first run: %v with %d events taken; want a failure after one batch", err, len(failing.events))
	}
	var published uint64
	for _, ev := range failing.events {
		published = max(published, ev.Seq)
	}
	ok := &fakeStockd{}
	srv = httptest.NewServer(ok)
	defer srv.Close()
	if err := runImport(context.Background(), args(srv.URL), &stdout, &stderr, func(string) string { return "" }); err != nil {
		t.Fatalf("second run: %v", err)
	}
	for _, ev := range ok.events {
		if ev.Seq <= published {
			t.Fatalf("the second run hands out seq %d again (the failed run published up to %d)", ev.Seq, published)
		}
	}
}
