package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
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
