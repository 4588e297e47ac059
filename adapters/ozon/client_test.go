package ozon_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"stockd/adapters/marketsim"
	"stockd/adapters/ozon"
	"stockd/adapters/ozon/ozonsim"
)

const (
	clientID = "123456"
	apiKey   = "0f1e2d3c-secret"
	wh       = "22142605386000"
)

var epoch = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

var httpClientNoTimeout http.Client

type env struct {
	client   *ozon.Client
	sim      *ozonsim.Sim
	clock    *marketsim.ManualClock
	requests atomic.Int64
	url      string
}

type envOpt struct {
	sim     func(*ozonsim.Config)
	client  func(*ozon.Options)
	timeout time.Duration
}

func newEnv(tb testing.TB, o envOpt) *env {
	tb.Helper()
	e := &env{clock: marketsim.NewManualClock(epoch)}
	cfg := ozonsim.DefaultConfig(clientID, apiKey)
	cfg.Now = e.clock.Now
	if o.sim != nil {
		o.sim(&cfg)
	}
	e.sim = ozonsim.New(cfg)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.requests.Add(1)
		e.sim.ServeHTTP(w, r)
	}))
	tb.Cleanup(srv.Close)
	e.url = srv.URL
	timeout := o.timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	opt := ozon.Options{
		BaseURL: srv.URL, ClientID: clientID, APIKey: apiKey,
		HTTP: &http.Client{Timeout: timeout}, Now: e.clock.Now,
		OrderWindowBack: 30 * 24 * time.Hour, OrderWindowAhead: 30 * 24 * time.Hour,
		StockCooldown: ozon.StockCooldown,
	}
	if o.client != nil {
		o.client(&opt)
	}
	c, err := ozon.New(opt)
	if err != nil {
		tb.Fatal(err)
	}
	e.client = c
	return e
}

func stock(offer string, qty int64) marketsim.StockUpdate {
	return marketsim.StockUpdate{OfferID: offer, WarehouseID: wh, Qty: qty}
}

func TestPushStocksHappyPath(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.sim.AddOffer("PH11042")
	e.sim.AddOffer("SK-58（深红色）")
	res, err := e.client.PushStocks(t.Context(), []marketsim.StockUpdate{stock("PH11042", 100), stock("SK-58（深红色）", 0)})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Status != marketsim.ItemOK {
			t.Fatalf("item %d: %+v, want ok", i, r)
		}
	}
	if got, ok := e.sim.Stock("PH11042", wh); !ok || got != 100 {
		t.Fatalf("sim stock %d (%v), want 100", got, ok)
	}
	if got, _ := e.sim.Stock("SK-58（深红色）", wh); got != 0 {
		t.Fatalf("sim stock %d, want 0", got)
	}
	if v := e.sim.Violations(); len(v) != 0 {
		t.Fatalf("violations %v, want none", v)
	}
}

func TestPushStocksSplitsAtMaximum(t *testing.T) {
	e := newEnv(t, envOpt{sim: func(c *ozonsim.Config) { c.AutoCreateOffers = true }})
	updates := make([]marketsim.StockUpdate, 2*ozon.MaxStockBatch+50)
	for i := range updates {
		updates[i] = stock(fmt.Sprintf("offer-%03d", i), int64(i))
	}
	res, err := e.client.PushStocks(t.Context(), updates)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := e.requests.Load(), int64(3); got != want {
		t.Fatalf("%d requests for %d items, want %d", got, len(updates), want)
	}
	for i, r := range res {
		if r.Status != marketsim.ItemOK || r.OfferID != updates[i].OfferID {
			t.Fatalf("item %d: %+v", i, r)
		}
	}
	if got, _ := e.sim.Stock("offer-249", wh); got != 249 {
		t.Fatalf("last item stock %d, want 249", got)
	}
	if n := e.sim.Violation(ozonsim.ViolationBatchSize); n != 0 {
		t.Fatalf("batch violations %d, want 0", n)
	}
}

func TestPushStocksPerItemErrors(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.sim.AddOffer("A")
	if _, err := e.client.PushStocks(t.Context(), []marketsim.StockUpdate{stock("A", 1)}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(10 * time.Second) // inside the 30 s cooldown
	res, err := e.client.PushStocks(t.Context(), []marketsim.StockUpdate{stock("A", 2), stock("unknown", 1)})
	if err != nil {
		t.Fatal(err)
	}
	if r := res[0]; r.Status != marketsim.ItemRejected || r.Code != ozon.CodeTooManyRequests ||
		!r.Retriable || r.RetryAfter != ozon.StockCooldown {
		t.Fatalf("cooldown item: %+v, want retriable TOO_MANY_REQUESTS after %v", r, ozon.StockCooldown)
	}
	if r := res[1]; r.Status != marketsim.ItemRejected || r.Code != "NOT_FOUND" || r.Retriable {
		t.Fatalf("unknown offer: %+v, want non-retriable NOT_FOUND", r)
	}
	if got := e.sim.Violation(ozonsim.ViolationItemCooldown); got != 1 {
		t.Fatalf("cooldown violations %d, want 1", got)
	}
	if got, _ := e.sim.Stock("A", wh); got != 1 {
		t.Fatalf("stock %d, want the first value 1 kept", got)
	}
	e.clock.Advance(21 * time.Second)
	res, err = e.client.PushStocks(t.Context(), []marketsim.StockUpdate{stock("A", 2)})
	if err != nil || res[0].Status != marketsim.ItemOK {
		t.Fatalf("after the cooldown: %+v, %v", res, err)
	}
}

func TestInvalidItemsAreNotSent(t *testing.T) {
	e := newEnv(t, envOpt{})
	res, err := e.client.PushStocks(t.Context(), []marketsim.StockUpdate{
		stock(strings.Repeat("я", 51), 1),
		{OfferID: "A", WarehouseID: "main", Qty: 1},
		stock("A", -1),
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Status != marketsim.ItemRejected || r.Retriable {
			t.Fatalf("item %d: %+v, want a non-retriable rejection", i, r)
		}
	}
	if n := e.requests.Load(); n != 0 {
		t.Fatalf("%d requests sent for invalid items, want 0", n)
	}
}

type recordingLimiter struct {
	waits     atomic.Int64
	penalized atomic.Int64
	until     atomic.Int64
}

func (l *recordingLimiter) Wait(context.Context, int) error { l.waits.Add(1); return nil }
func (l *recordingLimiter) Charge(int)                      {}
func (l *recordingLimiter) Penalize(until time.Time) {
	l.penalized.Add(1)
	l.until.Store(until.UnixNano())
}

func TestRateLimitedIsRetriableWithRetryAfter(t *testing.T) {
	lim := &recordingLimiter{}
	e := newEnv(t, envOpt{
		sim: func(c *ozonsim.Config) {
			c.StocksPerMinute = 1
			c.SendRetryAfter = true
			c.AutoCreateOffers = true
		},
		client: func(o *ozon.Options) { o.Limiters.Stocks = lim },
	})
	if _, err := e.client.PushStocks(t.Context(), []marketsim.StockUpdate{stock("A", 1)}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(15 * time.Second)
	res, err := e.client.PushStocks(t.Context(), []marketsim.StockUpdate{stock("B", 1), stock("C", 1)})
	var apiErr *marketsim.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want *APIError", err)
	}
	if apiErr.StatusCode != http.StatusTooManyRequests || !apiErr.Retriable ||
		!errors.Is(err, marketsim.ErrRateLimited) || apiErr.Code != "8" {
		t.Fatalf("err = %#v, want retriable 429 code 8", apiErr)
	}
	if got, want := apiErr.RetryAfter, 45*time.Second; got != want {
		t.Fatalf("RetryAfter %v, want %v", got, want)
	}
	for _, r := range res {
		if r.Status != marketsim.ItemNotSent || !r.Retriable {
			t.Fatalf("item %+v, want retriable not_sent", r)
		}
	}
	if lim.penalized.Load() != 1 || time.Unix(0, lim.until.Load()).Sub(e.clock.Now()) != 45*time.Second {
		t.Fatal("the stocks limiter was not penalized until the Retry-After")
	}
	if got := e.sim.Violation(ozonsim.ViolationRateStocks); got != 1 {
		t.Fatalf("rate violations %d, want 1", got)
	}
}

// "Circle is open" blocks one method for minutes: the error says wait
// CircleOpenPause, and only that method's limiter is held back.
func TestCircleOpenPausesOnlyThatMethod(t *testing.T) {
	global, stocks := &recordingLimiter{}, &recordingLimiter{}
	e := newEnv(t, envOpt{
		sim:    func(c *ozonsim.Config) { c.AutoCreateOffers = true },
		client: func(o *ozon.Options) { o.Limiters.Global, o.Limiters.Stocks = global, stocks },
	})
	e.sim.OpenCircle("/v2/products/stocks", 3*time.Minute)
	res, err := e.client.PushStocks(t.Context(), []marketsim.StockUpdate{stock("A", 1)})
	var apiErr *marketsim.APIError
	if !errors.As(err, &apiErr) || !errors.Is(err, ozon.ErrCircleOpen) || !errors.Is(err, marketsim.ErrRateLimited) {
		t.Fatalf("err = %v, want a circle-open APIError", err)
	}
	if !apiErr.Retriable || apiErr.RetryAfter != ozon.CircleOpenPause {
		t.Fatalf("retriable %v after %v, want retriable after %v", apiErr.Retriable, apiErr.RetryAfter, ozon.CircleOpenPause)
	}
	if res[0].Status != marketsim.ItemNotSent || res[0].RetryAfter != ozon.CircleOpenPause {
		t.Fatalf("item %+v, want not sent, retry after the pause", res[0])
	}
	if stocks.penalized.Load() != 1 || time.Unix(0, stocks.until.Load()).Sub(e.clock.Now()) != ozon.CircleOpenPause {
		t.Fatal("the stocks limiter was not held back for CircleOpenPause")
	}
	if global.penalized.Load() != 0 {
		t.Fatal("the global limiter was held back: other methods must go on")
	}
	// Prices are another method: they go through.
	if _, err := e.client.PushPrices(t.Context(), []marketsim.PriceUpdate{{OfferID: "A", Price: 100_00, Currency: "RUB"}}); err != nil {
		t.Fatalf("prices during the stock block: %v", err)
	}
	e.clock.Advance(ozon.CircleOpenPause)
	if res, err := e.client.PushStocks(t.Context(), []marketsim.StockUpdate{stock("A", 1)}); err != nil || res[0].Status != marketsim.ItemOK {
		t.Fatalf("after the pause: %+v, %v", res, err)
	}
	if got := e.sim.Violation(ozonsim.ViolationCircleOpen); got != 0 {
		t.Fatalf("circle violations %d, want 0", got)
	}
}

func TestValidationErrorIsNotRetriable(t *testing.T) {
	// The simulator allows 50 pairs; the client sends its documented 100.
	e := newEnv(t, envOpt{sim: func(c *ozonsim.Config) { c.MaxStockBatch = 50; c.AutoCreateOffers = true }})
	updates := make([]marketsim.StockUpdate, 60)
	for i := range updates {
		updates[i] = stock(fmt.Sprintf("o%d", i), 1)
	}
	_, err := e.client.PushStocks(t.Context(), updates)
	var apiErr *marketsim.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest || apiErr.Retriable ||
		!errors.Is(err, marketsim.ErrInvalid) {
		t.Fatalf("err = %v, want a non-retriable 400", err)
	}
	if !strings.Contains(apiErr.Message, "at most 50") {
		t.Fatalf("message %q does not carry Ozon's text", apiErr.Message)
	}
	if got := e.sim.Violation(ozonsim.ViolationBatchSize); got != 1 {
		t.Fatalf("batch violations %d, want 1", got)
	}
}

func TestWrongAuth(t *testing.T) {
	e := newEnv(t, envOpt{client: func(o *ozon.Options) { o.APIKey = "wrong" }})
	_, err := e.client.PushStocks(t.Context(), []marketsim.StockUpdate{stock("A", 1)})
	var apiErr *marketsim.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusForbidden || apiErr.Retriable ||
		!errors.Is(err, marketsim.ErrUnauthorized) {
		t.Fatalf("err = %v, want a non-retriable 403", err)
	}
	if got := e.sim.Violation(ozonsim.ViolationAuth); got != 1 {
		t.Fatalf("auth violations %d, want 1", got)
	}
}

func TestServerErrorIsRetriable(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.sim.Faults().Queue(marketsim.Fault{Kind: marketsim.FaultServerError, Status: http.StatusServiceUnavailable})
	_, err := e.client.PushStocks(t.Context(), []marketsim.StockUpdate{stock("A", 1)})
	var apiErr *marketsim.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusServiceUnavailable || !apiErr.Retriable ||
		!errors.Is(err, marketsim.ErrServer) {
		t.Fatalf("err = %v, want a retriable 503", err)
	}
}

func TestTimeoutIsRetriable(t *testing.T) {
	e := newEnv(t, envOpt{timeout: 100 * time.Millisecond})
	e.sim.Faults().Queue(marketsim.Fault{Kind: marketsim.FaultHang, Delay: 10 * time.Second})
	_, err := e.client.PushStocks(t.Context(), []marketsim.StockUpdate{stock("A", 1)})
	var apiErr *marketsim.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 0 || !apiErr.Retriable ||
		!errors.Is(err, marketsim.ErrTimeout) {
		t.Fatalf("err = %v, want a retriable timeout", err)
	}
	if got := e.sim.Faults().Injected(marketsim.FaultHang); got != 1 {
		t.Fatalf("hangs injected %d, want 1", got)
	}
}

func TestSlowReplyStillSucceeds(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.sim.AddOffer("A")
	e.sim.Faults().Queue(marketsim.Fault{Kind: marketsim.FaultSlow, Delay: 20 * time.Millisecond})
	res, err := e.client.PushStocks(t.Context(), []marketsim.StockUpdate{stock("A", 3)})
	if err != nil || res[0].Status != marketsim.ItemOK {
		t.Fatalf("slow reply: %+v, %v", res, err)
	}
}

func TestFaultPlanIsSeeded(t *testing.T) {
	draw := func() []marketsim.FaultKind {
		var f marketsim.Faults
		f.SetPlan(marketsim.FaultPlan{Seed: 42, ErrorRate: 0.3, ErrorStatus: 500, SlowRate: 0.2, SlowFor: time.Millisecond})
		out := make([]marketsim.FaultKind, 50)
		for i := range out {
			out[i] = f.Next("/v2/products/stocks").Kind
		}
		return out
	}
	a, b := draw(), draw()
	errorsSeen := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("draw %d differs between runs with one seed", i)
		}
		if a[i] == marketsim.FaultServerError {
			errorsSeen++
		}
	}
	if errorsSeen == 0 || errorsSeen == len(a) {
		t.Fatalf("%d server errors in %d draws at rate 0.3", errorsSeen, len(a))
	}
}

func rawPost(tb testing.TB, url, path, body string, key string) int {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, url+path, bytes.NewBufferString(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Client-Id", clientID)
	req.Header.Set("Api-Key", key)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestRawClientOverLimitsCountsViolations(t *testing.T) {
	e := newEnv(t, envOpt{sim: func(c *ozonsim.Config) { c.AutoCreateOffers = true }})
	// The clock stands still: every request falls in the same second.
	tooMany := 0
	for i := range 60 {
		body := fmt.Sprintf(`{"stocks":[{"offer_id":"o%d","stock":1,"warehouse_id":%s}]}`, i, wh)
		if rawPost(t, e.url, "/v2/products/stocks", body, apiKey) == http.StatusTooManyRequests {
			tooMany++
		}
	}
	if got := e.sim.Violation(ozonsim.ViolationRateGlobal); got != 10 || tooMany != 10 {
		t.Fatalf("global violations %d, 429s %d; want 10 of 60 requests over 50/s", got, tooMany)
	}
	e.clock.Advance(2 * time.Second)
	for i := range 40 {
		body := fmt.Sprintf(`{"stocks":[{"offer_id":"p%d","stock":1,"warehouse_id":%s}]}`, i, wh)
		rawPost(t, e.url, "/v2/products/stocks", body, apiKey)
	}
	// 50 + 40 stock updates in one minute, over 80.
	if got := e.sim.Violation(ozonsim.ViolationRateStocks); got != 10 {
		t.Fatalf("stock rate violations %d, want 10", got)
	}
	big := `{"stocks":[` + strings.TrimSuffix(strings.Repeat(`{"offer_id":"x","stock":1,"warehouse_id":1},`, 101), ",") + `]}`
	e.clock.Advance(time.Minute)
	if code := rawPost(t, e.url, "/v2/products/stocks", big, apiKey); code != http.StatusBadRequest {
		t.Fatalf("101 pairs answered %d, want 400", code)
	}
	if got := e.sim.Violation(ozonsim.ViolationBatchSize); got != 1 {
		t.Fatalf("batch violations %d, want 1", got)
	}
}

// TestLimitersKeepTheSimulatorQuiet runs the client with the limiters
// NewLimiters builds against the simulator in virtual time: a push side
// that uses them never breaks a rate limit.
func TestLimitersKeepTheSimulatorQuiet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := ozonsim.DefaultConfig(clientID, apiKey)
		cfg.AutoCreateOffers = true
		sim := ozonsim.New(cfg)
		lim, err := ozon.NewLimiters(0.9, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		c, err := ozon.New(ozon.Options{
			BaseURL: "http://ozon.invalid", ClientID: clientID, APIKey: apiKey,
			HTTP:     &http.Client{Timeout: 10 * time.Second, Transport: marketsim.HandlerTransport{Handler: sim}},
			Limiters: lim, Now: time.Now, StockCooldown: ozon.StockCooldown,
			OrderWindowBack: time.Hour, OrderWindowAhead: time.Hour,
		})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		const batches = 200
		for b := range batches {
			updates := make([]marketsim.StockUpdate, 10)
			for i := range updates {
				updates[i] = stock(fmt.Sprintf("b%d-%d", b, i), int64(i))
			}
			if _, err := c.PushStocks(t.Context(), updates); err != nil {
				t.Fatalf("batch %d: %v", b, err)
			}
		}
		if v := sim.Violations(); len(v) != 0 {
			t.Fatalf("violations %v, want none", v)
		}
		// 200 requests at 72 a minute after a burst of 4.
		if got, min := time.Since(start), 2*time.Minute+40*time.Second; got < min {
			t.Fatalf("%d requests took %v, faster than %v allows", batches, got, min)
		}
	})
}

// BenchmarkPushStocks measures one full batch of MaxStockBatch pairs
// through the client and the simulator in process (encode, serve, decode,
// per-item matching), without the network.
func BenchmarkPushStocks(b *testing.B) {
	clock := marketsim.NewManualClock(epoch)
	cfg := ozonsim.DefaultConfig(clientID, apiKey)
	cfg.Now = clock.Now
	cfg.AutoCreateOffers = true
	cfg.GlobalPerSecond, cfg.StocksPerMinute = 1<<20, 1<<20
	sim := ozonsim.New(cfg)
	c, err := ozon.New(ozon.Options{BaseURL: "http://ozon.invalid", ClientID: clientID, APIKey: apiKey,
		HTTP: &http.Client{Timeout: 10 * time.Second, Transport: marketsim.HandlerTransport{Handler: sim}},
		Now:  clock.Now, StockCooldown: ozon.StockCooldown, OrderWindowBack: time.Hour, OrderWindowAhead: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	updates := make([]marketsim.StockUpdate, ozon.MaxStockBatch)
	for i := range updates {
		updates[i] = stock(fmt.Sprintf("offer-%03d", i), int64(i))
	}
	b.ReportAllocs()
	for b.Loop() {
		clock.Advance(ozon.StockCooldown)
		res, err := c.PushStocks(context.Background(), updates)
		if err != nil || res[len(res)-1].Status != marketsim.ItemOK {
			b.Fatalf("%v %+v", err, res[len(res)-1])
		}
	}
}
