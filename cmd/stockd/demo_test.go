package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"stockd/adapters/kafka"
)

// TestDemoServesAndStops runs `stockd demo` in-process, reads the URL it
// prints, checks health and readiness, then stops it the way Ctrl-C does.
func TestDemoServesAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"demo", "-listen", "127.0.0.1:0"}, pw, io.Discard)
		pw.Close()
	}()
	base := readBannerURL(t, pr)
	for _, path := range []string{"/healthz", "/readyz"} {
		if got := httpStatus(t, base+path); got != http.StatusOK {
			t.Fatalf("GET %s = %d, want 200", path, got)
		}
	}
	// The demo exports metrics: the reads above are in the request histogram.
	body := httpBody(t, base+"/metrics")
	for _, name := range []string{"http_server_request_duration_seconds", "stockd_ledger_skus", "stockd_ingest_events_total"} {
		if !strings.Contains(body, name) {
			t.Fatalf("/metrics lacks %s", name)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("demo returned %v after stop, want nil", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("demo did not stop within 20s of cancellation")
	}
}

func readBannerURL(tb testing.TB, r io.Reader) string {
	tb.Helper()
	urlRe := regexp.MustCompile(`HTTP API\s+(http://\S+)`)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if m := urlRe.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				break
			}
		}
		io.Copy(io.Discard, r)
	}()
	select {
	case u := <-found:
		return u
	case <-time.After(30 * time.Second):
		tb.Fatal("demo printed no HTTP API line within 30s")
		return ""
	}
}

func httpStatus(tb testing.TB, url string) int {
	tb.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		tb.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func httpBody(tb testing.TB, url string) string {
	tb.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(url)
	if err != nil {
		tb.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET %s = %d %s", url, resp.StatusCode, data)
	}
	return string(data)
}

// demoBanner is what a test reads from the demo's banner.
type demoBanner struct {
	base, key string
	brokers   []string
	orders    string // the orders.out topic
}

func readBanner(tb testing.TB, r io.Reader) demoBanner {
	tb.Helper()
	var (
		urlRe    = regexp.MustCompile(`HTTP API\s+(http://\S+)`)
		keyRe    = regexp.MustCompile(`API key\s+(\S+)`)
		brokerRe = regexp.MustCompile(`Kafka broker\s+\[([^\]]+)\] \(embedded, topics \S+, \S+, ([^)\s]+)\)`)
	)
	found := make(chan demoBanner, 1)
	go func() {
		var b demoBanner
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			line := sc.Text()
			if m := urlRe.FindStringSubmatch(line); m != nil {
				b.base = m[1]
			}
			if m := keyRe.FindStringSubmatch(line); m != nil {
				b.key = m[1]
			}
			if m := brokerRe.FindStringSubmatch(line); m != nil {
				b.brokers, b.orders = strings.Fields(m[1]), m[2]
			}
			if strings.HasPrefix(line, "Press Ctrl-C") {
				found <- b
				break
			}
		}
		io.Copy(io.Discard, r)
	}()
	select {
	case b := <-found:
		if b.base == "" || b.key == "" || len(b.brokers) == 0 || b.orders == "" {
			tb.Fatalf("banner lacks a field: %+v", b)
		}
		return b
	case <-time.After(30 * time.Second):
		tb.Fatal("demo printed no banner within 30s")
		return demoBanner{}
	}
}

// holdState reads a hold's state over the API.
func holdState(tb testing.TB, b demoBanner, id string) string {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, b.base+"/v1/reservations/"+url.PathEscape(id), nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+b.key)
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		tb.Fatalf("GET hold %s: %v", id, err)
	}
	defer resp.Body.Close()
	var hold struct {
		State string `json:"state"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&hold); err != nil || resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET hold %s: %d %v", id, resp.StatusCode, err)
	}
	return hold.State
}

// TestDemoTurnsMarketplaceOrdersIntoHolds runs the demo with busy buyers and
// a quick simulated 1C: marketplace orders become confirmed holds, are
// published on orders.out, and the simulated 1C takes them over the 1C
// exchange and hands them off.
func TestDemoTurnsMarketplaceOrdersIntoHolds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"demo", "-listen", "127.0.0.1:0", "-skus", "300", "-rate", "20",
			"-orders-per-minute", "120", "-onec-exchange-interval", "1s"}, pw, io.Discard)
		pw.Close()
	}()
	b := readBanner(t, pr)
	r, err := kafka.NewReader(kafka.DefaultReaderConfig(b.brokers, b.orders, "demo-test"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	readCtx, stopRead := context.WithTimeout(ctx, 90*time.Second)
	defer stopRead()
	var seen []string
	handedOff := ""
	for handedOff == "" {
		m, err := r.FetchMessage(readCtx)
		if err != nil {
			t.Fatalf("no marketplace order handed off (orders seen %v): %v", seen, err)
		}
		var msg struct {
			ID, State, Channel string
			MarketplaceOrderID string `json:"marketplace_order_id"`
			Forced             bool
		}
		if err := json.Unmarshal(m.Value, &msg); err != nil {
			t.Fatalf("orders.out message %q: %v", m.Value, err)
		}
		if msg.State != "confirmed" || msg.MarketplaceOrderID == "" || !msg.Forced {
			continue
		}
		seen = append(seen, msg.ID)
		// The hold exists; the simulated 1C takes it within a few exchanges
		// (unless the buyer cancels it first).
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) {
			state := holdState(t, b, msg.ID)
			if state == "handed_off" {
				handedOff = msg.ID
				break
			}
			if state != "confirmed" {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	t.Logf("marketplace orders held: %d; %s handed off to 1C", len(seen), handedOff)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("demo returned %v after stop, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("demo did not stop within 30s of cancellation")
	}
}

// TestDemoRefusesBadFlags: a catalog size the simulator cannot make, or a
// negative rate, is refused before anything starts.
func TestDemoRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-skus", "0"}, {"-skus", "2000000"}, {"-rate", "-1"}, {"-orders-per-minute", "-2"}} {
		err := runDemo(context.Background(), append(args, "-listen", "127.0.0.1:0", "-duration", "1s"), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "-skus must be") {
			t.Errorf("demo %v: %v, want the flags refused", args, err)
		}
	}
}

// TestDemoKeptDirAppliesNewEvents: a second demo run on the same -dir
// (its journal kept, the embedded broker new and empty, its offsets from 0
// again) applies the new run's 1C events: none is taken as applied already
// because the last run had reached its offset.
func TestDemoKeptDirAppliesNewEvents(t *testing.T) {
	dir := t.TempDir()
	counter := func(body, result string) float64 {
		re := regexp.MustCompile(`stockd_ingest_events_total\{[^}]*result="` + result + `"[^}]*\} ([0-9.e+]+)`)
		m := re.FindStringSubmatch(body)
		if m == nil {
			return 0
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		return v
	}
	for round, want := range []float64{300, 100} {
		ctx, cancel := context.WithCancel(context.Background())
		pr, pw := io.Pipe()
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, []string{"demo", "-listen", "127.0.0.1:0", "-dir", dir, "-skus", "200", "-rate", "50"}, pw, io.Discard)
			pw.Close()
		}()
		base := readBannerURL(t, pr)
		deadline := time.Now().Add(60 * time.Second)
		var body string
		for {
			if body = httpBody(t, base+"/metrics"); counter(body, "applied") >= want {
				break
			}
			if time.Now().After(deadline) {
				cancel()
				t.Fatalf("run %d: fewer than %.0f 1C events applied within 60 s", round+1, want)
			}
			time.Sleep(200 * time.Millisecond)
		}
		if n := counter(body, "already_applied"); round == 1 && n > 0 {
			t.Errorf("run 2: %.0f events taken as applied already", n)
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("run %d: %v", round+1, err)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("run %d did not stop", round+1)
		}
	}
}
