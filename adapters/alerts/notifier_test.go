package alerts

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// recorder is a webhook that keeps every payload; fail makes the next
// answers 503.
type recorder struct {
	mu       sync.Mutex
	payloads []Payload
	fail     int
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail > 0 {
		r.fail--
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	var p Payload
	if err := json.Unmarshal(body, &p); err != nil || req.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	r.payloads = append(r.payloads, p)
}

func (r *recorder) got() []Payload {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Payload(nil), r.payloads...)
}

// handlerTransport serves requests with a handler in memory (no network,
// so it runs inside a synctest bubble).
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, req)
	return rec.Result(), nil
}

func testConfig(url string) Config {
	cfg := DefaultConfig()
	cfg.WebhookURL = url
	cfg.MinRepeat = 0
	cfg.Timeout = 5 * time.Second
	return cfg
}

func startNotifier(tb testing.TB, cfg Config, client *http.Client) *Notifier {
	tb.Helper()
	n, err := New(cfg, Deps{Client: client, Now: time.Now})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.Run(ctx)
	}()
	tb.Cleanup(func() {
		cancel()
		<-done
	})
	return n
}

func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var freshness = Alert{Name: "StockdChannelFreshnessOverSLO", Key: "ozon", Severity: "page",
	Summary: "ozon is 6m behind", Labels: map[string]string{"channel": "ozon"}, Value: 360}

func TestWebhookGetsOneFiringAndOneResolved(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(rec) // listens on 127.0.0.1
	defer srv.Close()
	n := startNotifier(t, testConfig(srv.URL+"/hook"), srv.Client())
	for range 3 {
		n.Update([]Alert{freshness})
	}
	n.Update(nil)
	n.Update(nil)
	waitFor(t, "two messages", func() bool { return n.Stats().Sent == 2 })
	got := rec.got()
	if len(got) != 2 {
		t.Fatalf("got %d messages, want 2", len(got))
	}
	if got[0].Status != "firing" || got[1].Status != "resolved" {
		t.Fatalf("statuses = %s, %s; want firing, resolved", got[0].Status, got[1].Status)
	}
	a := got[0].Alerts[0]
	if a.Labels["alertname"] != freshness.Name || a.Labels["channel"] != "ozon" || a.Labels["severity"] != "page" ||
		a.Annotations["summary"] != freshness.Summary || a.Annotations["value"] != "360" {
		t.Fatalf("firing alert = %+v", a)
	}
	r := got[1].Alerts[0]
	if r.EndsAt.IsZero() || r.StartsAt != a.StartsAt || r.Fingerprint != a.Fingerprint {
		t.Fatalf("resolved alert = %+v, firing %+v: want the same alert with an end", r, a)
	}
	if st := n.Stats(); st.Active != 0 || st.Firing != 1 || st.Resolved != 1 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestMinRepeatSendsAStillFiringAlertAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		cfg := testConfig("http://127.0.0.1:9/hook")
		cfg.MinRepeat = time.Hour
		n := startNotifier(t, cfg, &http.Client{Transport: handlerTransport{rec}})
		for range 7 { // every 15 minutes for 1.5 hours
			n.Update([]Alert{freshness})
			time.Sleep(15 * time.Minute)
		}
		synctest.Wait()
		if got, want := len(rec.got()), 2; got != want {
			t.Fatalf("%d messages in 1.5 h of firing, want %d (start, one repeat)", got, want)
		}
	})
}

func TestRateLimitHoldsBackAndSendsLater(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		cfg := testConfig("http://127.0.0.1:9/hook")
		cfg.MaxPerMinute = 2
		n := startNotifier(t, cfg, &http.Client{Transport: handlerTransport{rec}})
		var firing []Alert
		for i := range 5 {
			firing = append(firing, Alert{Name: "StockdChannelFailing", Key: fmt.Sprint("ch", i)})
		}
		n.Update(firing)
		synctest.Wait()
		if got := len(rec.got()); got != 2 {
			t.Fatalf("%d sent at once, want MaxPerMinute 2", got)
		}
		if st := n.Stats(); st.Waits != 1 || st.Queued != 2 {
			t.Fatalf("stats = %+v, want one wait, two queued", st)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if got := len(rec.got()); got != 4 {
			t.Fatalf("%d sent after a minute, want 4", got)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if got := len(rec.got()); got != 5 {
			t.Fatalf("%d sent after two minutes, want 5", got)
		}
	})
}

func TestFailedPostIsRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{fail: MaxAttempts - 1}
		n := startNotifier(t, testConfig("http://127.0.0.1:9/hook"), &http.Client{Transport: handlerTransport{rec}})
		n.Update([]Alert{freshness})
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if st := n.Stats(); st.Sent != 1 || st.Failed != 0 || len(rec.got()) != 1 {
			t.Fatalf("stats = %+v, %d received; want one sent after %d refusals", st, len(rec.got()), MaxAttempts-1)
		}
		rec.mu.Lock()
		rec.fail = MaxAttempts
		rec.mu.Unlock()
		n.Update(nil)
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if st := n.Stats(); st.Failed != 1 {
			t.Fatalf("stats = %+v, want the resolved message given up after %d tries", st, MaxAttempts)
		}
	})
}

func TestUpdateNeverBlocksOnAFullQueue(t *testing.T) {
	n, err := New(testConfig("http://127.0.0.1:9/hook"), Deps{Client: http.DefaultClient, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	var firing []Alert
	for i := range MaxQueuedMessages + 10 {
		firing = append(firing, Alert{Name: "StockdChannelDroppingChanges", Key: fmt.Sprint(i)})
	}
	n.Update(firing) // no Run: nothing drains the queue
	if st := n.Stats(); st.Queued != MaxQueuedMessages || st.Dropped != 10 {
		t.Fatalf("stats = %+v, want %d queued and 10 dropped", st, MaxQueuedMessages)
	}
}

func TestConfigRejects(t *testing.T) {
	for name, mutate := range map[string]func(*Config){
		"url":      func(c *Config) { c.WebhookURL = "ftp://x" },
		"interval": func(c *Config) { c.Interval = 0 },
		"rate":     func(c *Config) { c.MaxPerMinute = MaxPerMinuteLimit + 1 },
		"timeout":  func(c *Config) { c.Timeout = 0 },
		"slo":      func(c *Config) { c.ChannelFreshnessSLO = map[string]time.Duration{"ozon": 0} },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig("http://127.0.0.1:9/hook")
			mutate(&cfg)
			if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "alerts") {
				t.Fatalf("Validate = %v, want an error", err)
			}
		})
	}
}
