package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// serve runs h on a fasthttp server on 127.0.0.1 until the test ends.
func serve(tb testing.TB, h fasthttp.RequestHandler) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	srv := &fasthttp.Server{
		Handler:         h,
		Name:            "loadgen-test",
		Concurrency:     1024,
		ReadTimeout:     5 * time.Second,
		WriteTimeout:    5 * time.Second,
		IdleTimeout:     5 * time.Second,
		CloseOnShutdown: true,
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.ShutdownWithContext(ctx); err != nil {
			tb.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			tb.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String()
}

func testConfig(target string) Config {
	return Config{
		Target:         target,
		APIToken:       "test-token",
		Mode:           ClosedLoop,
		Connections:    4,
		Duration:       30 * time.Second,
		MaxOps:         200,
		RequestTimeout: 5 * time.Second,
		DialTimeout:    time.Second,
		HoldIDPrefix:   "t",
		Workload:       DefaultWorkload(),
	}
}

func isRelease(ctx *fasthttp.RequestCtx) bool {
	return strings.HasSuffix(string(ctx.Path()), "/release")
}

type holdBody struct {
	ID      string `json:"id"`
	Channel string `json:"channel"`
	Lines   []struct {
		SKU string `json:"sku"`
		Qty int    `json:"qty"`
	} `json:"lines"`
	TTLSeconds int `json:"ttl_seconds"`
}

func TestRunCountsStatuses(t *testing.T) {
	statuses := []int{201, 200, 409, 503}
	var holds, releases atomic.Int64
	var mu sync.Mutex
	ids := make(map[string]bool)
	var badBody atomic.Value
	addr := serve(t, func(ctx *fasthttp.RequestCtx) {
		if string(ctx.Request.Header.Peek("Authorization")) != "Bearer test-token" {
			ctx.SetStatusCode(401)
			return
		}
		if isRelease(ctx) {
			releases.Add(1)
			ctx.SetStatusCode(200)
			return
		}
		var body holdBody
		if err := json.Unmarshal(ctx.PostBody(), &body); err != nil || body.Channel != "site" ||
			len(body.Lines) != 2 || body.Lines[0].SKU == body.Lines[1].SKU || body.Lines[0].Qty != 1 {
			badBody.Store(string(ctx.PostBody()))
		}
		mu.Lock()
		ids[body.ID] = true
		mu.Unlock()
		n := holds.Add(1)
		ctx.SetStatusCode(statuses[n%int64(len(statuses))])
	})
	cfg := testConfig(addr)
	cfg.Workload.LinesPerHold = 2

	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if b := badBody.Load(); b != nil {
		t.Errorf("server got a malformed hold body: %s", b)
	}
	want := HoldCounts{Created: 50, Replayed: 50, Insufficient: 50, Other: 50}
	if res.Hold != want {
		t.Errorf("hold counts = %+v, want %+v", res.Hold, want)
	}
	if got, want := res.Release, (ReleaseCounts{OK: 100}); got != want {
		t.Errorf("release counts = %+v, want %+v (released after 201 and 200 only)", got, want)
	}
	if got := res.OtherStatuses[503]; got != 50 || len(res.OtherStatuses) != 1 {
		t.Errorf("other statuses = %v, want map[503:50]", res.OtherStatuses)
	}
	if res.Started != 200 || holds.Load() != 200 || releases.Load() != 100 {
		t.Errorf("started %d, server saw %d holds and %d releases; want 200, 200, 100",
			res.Started, holds.Load(), releases.Load())
	}
	if len(ids) != 200 {
		t.Errorf("%d distinct hold ids, want 200", len(ids))
	}
	if got := res.Latency.TotalCount(); got != 200 {
		t.Errorf("latency samples = %d, want 200", got)
	}
	if res.Holds() != 100 || res.HoldsPerSec() <= 0 {
		t.Errorf("holds = %d at %.0f/s, want 100 at a positive rate", res.Holds(), res.HoldsPerSec())
	}
}

// A server that stalls 50 ms on every 10th hold, driven on one connection
// at 100 holds/s: each stall delays the four arrivals behind it by 40, 30,
// 20 and 10 ms. Measured from the schedule, 5 holds in 10 take ≥ 10 ms;
// measured from the actual send (coordinated omission), only 1 would.
func TestOpenLoopMeasuresFromSchedule(t *testing.T) {
	var holds atomic.Int64
	addr := serve(t, func(ctx *fasthttp.RequestCtx) {
		if isRelease(ctx) {
			ctx.SetStatusCode(200)
			return
		}
		if holds.Add(1)%10 == 0 {
			time.Sleep(50 * time.Millisecond)
		}
		ctx.SetStatusCode(201)
	})
	cfg := testConfig(addr)
	cfg.Mode = OpenLoop
	cfg.Connections = 1
	cfg.RateOpsPerSec = 100
	cfg.MaxInFlight = 1000
	cfg.MaxOps = 100

	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Hold.Created != 100 || res.Dropped != 0 {
		t.Fatalf("created %d, dropped %d; want 100, 0 (%+v)", res.Hold.Created, res.Dropped, res)
	}
	if got := res.Quantile(99); got < 50*time.Millisecond {
		t.Errorf("p99 = %v, want ≥ 50ms", got)
	}
	if got := res.Quantile(70); got < 10*time.Millisecond {
		t.Errorf("p70 = %v, want ≥ 10ms: queueing behind a stall must count", got)
	}
}

func TestOpenLoopDropsPastMaxInFlight(t *testing.T) {
	release := make(chan struct{})
	addr := serve(t, func(ctx *fasthttp.RequestCtx) {
		if !isRelease(ctx) {
			<-release
		}
		ctx.SetStatusCode(201)
	})
	cfg := testConfig(addr)
	cfg.Mode = OpenLoop
	cfg.Connections = 2
	cfg.MaxInFlight = 3
	cfg.RateOpsPerSec = 1000
	cfg.MaxOps = 50
	go func() {
		time.Sleep(300 * time.Millisecond) // far past the 50 ms schedule
		close(release)
	}()
	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Started != 3 || res.Dropped != 47 {
		t.Errorf("started %d, dropped %d; want 3, 47", res.Started, res.Dropped)
	}
}

func TestRunCountsTransportErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	cfg := testConfig(addr)
	cfg.Connections = 2
	cfg.MaxOps = 10

	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got, want := res.Hold, (HoldCounts{Errors: 10}); got != want {
		t.Errorf("hold counts = %+v, want %+v", got, want)
	}
	if res.Release.Errors != 10 || res.FirstError == "" || res.Failures() != 20 {
		t.Errorf("release %+v, first error %q, failures %d; want 10 errors, an error text, 20",
			res.Release, res.FirstError, res.Failures())
	}
}

func TestRunRefusesNonLoopbackTargets(t *testing.T) {
	for _, target := range []string{
		"10.0.0.1:8080", "192.168.1.10:80", "172.16.0.1:80", "8.8.8.8:53", "0.0.0.0:80", "[::]:80",
		"example.com:80", "http://example.com:80", "https://127.0.0.1:443", "127.0.0.1",
		"http://127.0.0.1:80/v1", "user@127.0.0.1:80", "",
	} {
		cfg := testConfig(target)
		res, err := Run(t.Context(), cfg)
		if !errors.Is(err, ErrNotLoopback) {
			t.Errorf("Run(%q) error = %v, want ErrNotLoopback", target, err)
		}
		if res.Started != 0 {
			t.Errorf("Run(%q) started %d operations, want 0", target, res.Started)
		}
	}
	if _, err := dialLoopback(time.Second)("10.0.0.1:80"); !errors.Is(err, ErrNotLoopback) {
		t.Errorf("dial 10.0.0.1:80 error = %v, want ErrNotLoopback", err)
	}
}

func TestLoopbackAddrAccepts(t *testing.T) {
	for target, want := range map[string]string{
		"127.0.0.1:8080":       "127.0.0.1:8080",
		"127.1.2.3:9":          "127.1.2.3:9",
		"localhost:8080":       "127.0.0.1:8080",
		"LOCALHOST:1":          "127.0.0.1:1",
		"[::1]:8080":           "[::1]:8080",
		"http://127.0.0.1:80":  "127.0.0.1:80",
		"http://127.0.0.1:80/": "127.0.0.1:80",
	} {
		got, err := loopbackAddr(target)
		if err != nil || got != want {
			t.Errorf("loopbackAddr(%q) = %q, %v; want %q, nil", target, got, err, want)
		}
	}
}

func TestRunRefusesInvalidConfig(t *testing.T) {
	for name, edit := range map[string]func(*Config){
		"zipf s 1":          func(c *Config) { c.Workload.ZipfS = 1 },
		"lines over skus":   func(c *Config) { c.Workload.SKUs = 2; c.Workload.LinesPerHold = 3 },
		"no duration":       func(c *Config) { c.Duration = 0 },
		"no max ops":        func(c *Config) { c.MaxOps = 0 },
		"open without rate": func(c *Config) { c.Mode = OpenLoop; c.MaxInFlight = 10 },
		"quote in channel":  func(c *Config) { c.Workload.Channel = `si"te` },
		"too many conns":    func(c *Config) { c.Connections = MaxConnections + 1 },
	} {
		cfg := testConfig("127.0.0.1:1")
		edit(&cfg)
		if _, err := Run(t.Context(), cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: error = %v, want ErrInvalidConfig", name, err)
		}
	}
}

// TestWaitUntil: waitUntil returns true no earlier than due, at once for a
// due time past, and false once the context ends before due.
func TestWaitUntil(t *testing.T) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	ctx := context.Background()
	for _, d := range []time.Duration{-time.Millisecond, 0, 150 * time.Microsecond, 3 * time.Millisecond} {
		due := time.Now().Add(d)
		if !waitUntil(ctx, due, timer) {
			t.Fatalf("waitUntil(%v ahead) = false with a live context", d)
		}
		if now := time.Now(); now.Before(due) {
			t.Errorf("waitUntil(%v ahead) returned %v before due", d, due.Sub(now))
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	if waitUntil(cctx, start.Add(time.Hour), timer) {
		t.Fatal("waitUntil an hour ahead = true after its context ended")
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("waitUntil took %v to notice its context ended", took)
	}
}
