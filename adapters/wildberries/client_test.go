package wildberries_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"stockd/adapters/marketsim"
	"stockd/adapters/wildberries"
	"stockd/adapters/wildberries/wbsim"
)

const (
	token = "eyJhbGciOiJFUzI1NiJ9.sim"
	whA   = "507"
	whB   = "508"
)

var epoch = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

type env struct {
	client   *wildberries.Client
	sim      *wbsim.Sim
	clock    *marketsim.ManualClock
	requests atomic.Int64
	url      string
}

type envOpt struct {
	sim     func(*wbsim.Config)
	client  func(*wildberries.Options)
	timeout time.Duration
}

func newEnv(tb testing.TB, o envOpt) *env {
	tb.Helper()
	e := &env{clock: marketsim.NewManualClock(epoch)}
	cfg := wbsim.DefaultConfig(token)
	cfg.Now = e.clock.Now
	cfg.Warehouses = []int64{507, 508}
	if o.sim != nil {
		o.sim(&cfg)
	}
	e.sim = wbsim.New(cfg)
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
	opt := wildberries.Options{MarketplaceURL: srv.URL, PricesURL: srv.URL + "/", Token: token,
		HTTP: &http.Client{Timeout: timeout}, Now: e.clock.Now}
	if o.client != nil {
		o.client(&opt)
	}
	c, err := wildberries.New(opt)
	if err != nil {
		tb.Fatal(err)
	}
	e.client = c
	return e
}

func stock(chrt int64, wh string, qty int64) marketsim.StockUpdate {
	return marketsim.StockUpdate{OfferID: strconv.FormatInt(chrt, 10), WarehouseID: wh, Qty: qty}
}

func TestPushStocksOneRequestPerWarehouse(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.sim.AddProduct(111, "КР-7/2", 1001, 1002)
	res, err := e.client.PushStocks(t.Context(), []marketsim.StockUpdate{
		stock(1001, whA, 5), stock(1002, whB, 7), stock(1002, whA, 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Status != marketsim.ItemOK {
			t.Fatalf("item %d: %+v", i, r)
		}
	}
	if got := e.requests.Load(); got != 2 {
		t.Fatalf("%d requests, want one per warehouse (2)", got)
	}
	for _, c := range []struct {
		chrt, wh string
		want     int64
	}{{"1001", whA, 5}, {"1002", whB, 7}, {"1002", whA, 0}} {
		if got, ok := e.sim.Stock(c.chrt, c.wh); !ok || got != c.want {
			t.Fatalf("stock %s@%s = %d (%v), want %d", c.chrt, c.wh, got, ok, c.want)
		}
	}
}

func TestPushStocksSplitsAtMaximum(t *testing.T) {
	e := newEnv(t, envOpt{sim: func(c *wbsim.Config) { c.AutoCreateSizes = true }})
	updates := make([]marketsim.StockUpdate, 2*wildberries.MaxStockBatch+1)
	for i := range updates {
		updates[i] = stock(int64(10000+i), whA, int64(i%50))
	}
	res, err := e.client.PushStocks(t.Context(), updates)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.requests.Load(); got != 3 {
		t.Fatalf("%d requests for %d sizes, want 3", got, len(updates))
	}
	for i, r := range res {
		if r.Status != marketsim.ItemOK {
			t.Fatalf("item %d: %+v", i, r)
		}
	}
	if v := e.sim.Violations(); len(v) != 0 {
		t.Fatalf("violations %v", v)
	}
}

type recordingLimiter struct {
	charged   atomic.Int64
	penalized atomic.Int64
	until     atomic.Int64
}

func (l *recordingLimiter) Wait(context.Context, int) error { return nil }
func (l *recordingLimiter) Charge(n int)                    { l.charged.Add(int64(n)) }
func (l *recordingLimiter) Penalize(until time.Time) {
	l.penalized.Add(1)
	l.until.Store(until.UnixNano())
}

func TestConflictNamesItemsAndCostsTen(t *testing.T) {
	lim := &recordingLimiter{}
	e := newEnv(t, envOpt{
		sim:    func(c *wbsim.Config) { c.MaxAmount = 50 },
		client: func(o *wildberries.Options) { o.Limiters.Stocks = lim },
	})
	e.sim.AddProduct(111, "A", 1001, 1002)
	res, err := e.client.PushStocks(t.Context(), []marketsim.StockUpdate{
		stock(1001, whA, 60), stock(9999, whA, 1), stock(1002, whA, 3),
	})
	if err != nil {
		t.Fatalf("a 409 naming items is per-item, got %v", err)
	}
	if r := res[0]; r.Status != marketsim.ItemRejected || r.Code != wildberries.CodeUploadDataLimit || r.Retriable {
		t.Fatalf("over amount: %+v", r)
	}
	if r := res[1]; r.Status != marketsim.ItemRejected || r.Code != wildberries.CodeNotFound || r.Retriable {
		t.Fatalf("unknown size: %+v", r)
	}
	if r := res[2]; r.Status != marketsim.ItemNotSent || r.Code != wildberries.CodeBatchRejected || !r.Retriable {
		t.Fatalf("innocent size: %+v, want retriable not sent", r)
	}
	if _, ok := e.sim.Stock("1002", whA); ok {
		t.Fatal("the simulator applied part of a batch it refused whole")
	}
	if got, want := lim.charged.Load(), int64(wildberries.ConflictCost-1); got != want {
		t.Fatalf("limiter charged %d after a 409, want %d more", got, want)
	}
	if got := e.sim.Violation(wbsim.ViolationConflict); got != 1 {
		t.Fatalf("conflicts %d, want 1", got)
	}
}

func TestStoreIsProcessingIsRetriable(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.sim.AddProduct(111, "A", 1001)
	e.sim.SetStoreProcessing(507, true)
	res, err := e.client.PushStocks(t.Context(), []marketsim.StockUpdate{stock(1001, whA, 1)})
	var apiErr *marketsim.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusConflict || !apiErr.Retriable ||
		apiErr.Code != wildberries.CodeStoreIsProcessing || !errors.Is(err, marketsim.ErrConflict) {
		t.Fatalf("err = %v, want a retriable 409 StoreIsProcessing", err)
	}
	if res[0].Status != marketsim.ItemNotSent || !res[0].Retriable {
		t.Fatalf("item %+v", res[0])
	}
}

func TestRateLimitedIsRetriableWithRetryAfter(t *testing.T) {
	lim := &recordingLimiter{}
	e := newEnv(t, envOpt{
		sim:    func(c *wbsim.Config) { c.StockLimit = wbsim.Bucket{Limit: 1, Period: time.Minute, Burst: 1} },
		client: func(o *wildberries.Options) { o.Limiters.Stocks = lim },
	})
	e.sim.AddProduct(111, "A", 1001)
	if _, err := e.client.PushStocks(t.Context(), []marketsim.StockUpdate{stock(1001, whA, 1)}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(20 * time.Second)
	res, err := e.client.PushStocks(t.Context(), []marketsim.StockUpdate{stock(1001, whA, 2)})
	var apiErr *marketsim.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusTooManyRequests || !apiErr.Retriable ||
		!errors.Is(err, marketsim.ErrRateLimited) {
		t.Fatalf("err = %v, want a retriable 429", err)
	}
	if got, want := apiErr.RetryAfter, 40*time.Second; got != want {
		t.Fatalf("RetryAfter %v, want %v from X-Ratelimit-Retry", got, want)
	}
	if apiErr.Message != "limited by rate_stocks" {
		t.Fatalf("message %q, want WB's detail", apiErr.Message)
	}
	if res[0].Status != marketsim.ItemNotSent || !res[0].Retriable || res[0].RetryAfter != 40*time.Second {
		t.Fatalf("item %+v", res[0])
	}
	if lim.penalized.Load() != 1 || time.Unix(0, lim.until.Load()).Sub(e.clock.Now()) != 40*time.Second {
		t.Fatal("limiter not penalized until the retry time")
	}
}

func TestValidationErrorIsNotRetriable(t *testing.T) {
	e := newEnv(t, envOpt{sim: func(c *wbsim.Config) { c.MaxStockBatch = 10; c.AutoCreateSizes = true }})
	updates := make([]marketsim.StockUpdate, 11)
	for i := range updates {
		updates[i] = stock(int64(2000+i), whA, 1)
	}
	_, err := e.client.PushStocks(t.Context(), updates)
	var apiErr *marketsim.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest || apiErr.Retriable ||
		apiErr.Code != "IncorrectRequestBody" {
		t.Fatalf("err = %v, want a non-retriable 400 IncorrectRequestBody", err)
	}
	if got := e.sim.Violation(wbsim.ViolationBatchSize); got != 1 {
		t.Fatalf("batch violations %d, want 1", got)
	}
}

func TestWrongAuth(t *testing.T) {
	e := newEnv(t, envOpt{client: func(o *wildberries.Options) { o.Token = "stolen" }})
	_, err := e.client.PushStocks(t.Context(), []marketsim.StockUpdate{stock(1001, whA, 1)})
	var apiErr *marketsim.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized || apiErr.Retriable ||
		!errors.Is(err, marketsim.ErrUnauthorized) {
		t.Fatalf("err = %v, want a non-retriable 401", err)
	}
	if got := e.sim.Violation(wbsim.ViolationAuth); got != 1 {
		t.Fatalf("auth violations %d, want 1", got)
	}
}

func TestServerErrorAndTimeout(t *testing.T) {
	e := newEnv(t, envOpt{timeout: 100 * time.Millisecond})
	e.sim.AddProduct(111, "A", 1001)
	e.sim.Faults().Queue(
		marketsim.Fault{Kind: marketsim.FaultServerError, Status: http.StatusInternalServerError},
		marketsim.Fault{Kind: marketsim.FaultHang, Delay: 10 * time.Second},
	)
	_, err := e.client.PushStocks(t.Context(), []marketsim.StockUpdate{stock(1001, whA, 1)})
	var apiErr *marketsim.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 500 || !apiErr.Retriable || !errors.Is(err, marketsim.ErrServer) {
		t.Fatalf("err = %v, want a retriable 500", err)
	}
	_, err = e.client.PushStocks(t.Context(), []marketsim.StockUpdate{stock(1001, whA, 1)})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 0 || !apiErr.Retriable || !errors.Is(err, marketsim.ErrTimeout) {
		t.Fatalf("err = %v, want a retriable timeout", err)
	}
}

func rawDo(tb testing.TB, method, url, body, auth string) int {
	tb.Helper()
	req, err := http.NewRequest(method, url, bytes.NewBufferString(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", auth)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestMisspeltKeysGive204AndChangeNothing(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.sim.AddProduct(111, "A", 1001)
	code := rawDo(t, http.MethodPut, e.url+"/api/v3/stocks/507", `{"stocks":[{"chrtID":1001,"amount":5}]}`, token)
	if code != http.StatusNoContent {
		t.Fatalf("status %d, want WB's 204", code)
	}
	if _, ok := e.sim.Stock("1001", whA); ok {
		t.Fatal("a misspelt key updated stock")
	}
	if got := e.sim.Violation(wbsim.ViolationIgnoredPayload); got != 1 {
		t.Fatalf("ignored payloads %d, want 1", got)
	}
}

func TestRawClientOverLimitsCountsViolations(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.sim.AddProduct(111, "A", 1001)
	// One 409 costs 10 of the burst of 20: ten more pass, then 429s.
	if code := rawDo(t, http.MethodPut, e.url+"/api/v3/stocks/507", `{"stocks":[{"chrtId":4242,"amount":1}]}`, token); code != http.StatusConflict {
		t.Fatalf("unknown size answered %d, want 409", code)
	}
	passed := 0
	for i := range 15 {
		body := fmt.Sprintf(`{"stocks":[{"chrtId":1001,"amount":%d}]}`, i)
		if rawDo(t, http.MethodPut, e.url+"/api/v3/stocks/507", body, token) == http.StatusNoContent {
			passed++
		}
	}
	if passed != 10 {
		t.Fatalf("%d requests passed after a 409 in a burst of 20, want 10", passed)
	}
	if got := e.sim.Violation(wbsim.ViolationRateStocks); got != 5 {
		t.Fatalf("stock rate violations %d, want 5", got)
	}
	for range 7 {
		rawDo(t, http.MethodPost, e.url+"/api/v2/upload/task", `{"data":[{"nmID":111,"price":1000,"discount":0}]}`, token)
	}
	if got := e.sim.Violation(wbsim.ViolationRatePrices); got != 2 {
		t.Fatalf("price rate violations %d, want 2 of 7 over a burst of 5", got)
	}
}

func TestLimitersKeepTheSimulatorQuiet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := wbsim.DefaultConfig(token)
		cfg.AutoCreateSizes = true
		sim := wbsim.New(cfg)
		lim, err := wildberries.NewLimiters(0.9, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		c, err := wildberries.New(wildberries.Options{
			MarketplaceURL: "http://wb.invalid", PricesURL: "http://prices.invalid", Token: token,
			HTTP:     &http.Client{Timeout: 10 * time.Second, Transport: marketsim.HandlerTransport{Handler: sim}},
			Limiters: lim, Now: time.Now,
		})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		for b := range 300 {
			if _, err := c.PushStocks(t.Context(), []marketsim.StockUpdate{stock(int64(5000+b), whA, 1)}); err != nil {
				t.Fatalf("request %d: %v", b, err)
			}
		}
		for b := range 30 {
			if _, err := c.PushPrices(t.Context(), []marketsim.PriceUpdate{{OfferID: strconv.Itoa(700 + b), Price: 1000_00, Currency: "RUB"}}); err != nil {
				t.Fatalf("price %d: %v", b, err)
			}
		}
		if v := sim.Violations(); len(v) != 0 {
			t.Fatalf("violations %v, want none", v)
		}
		if got, min := time.Since(start), 60*time.Second; got < min {
			t.Fatalf("300 stock requests took %v, under the %v the limit allows", got, min)
		}
	})
}

func TestValidators(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{{"87654321", true}, {"1", true}, {"0", false}, {"-5", false}, {"12a", false}, {"", false},
		{"9223372036854775808", false}} {
		if err := wildberries.ValidateOfferID(tc.id); (err == nil) != tc.ok {
			t.Errorf("ValidateOfferID(%q) = %v, want ok=%v", tc.id, err, tc.ok)
		}
		if _, err := wildberries.ParseNmID(tc.id); (err == nil) != tc.ok {
			t.Errorf("ParseNmID(%q) = %v, want ok=%v", tc.id, err, tc.ok)
		}
	}
	for _, tc := range []struct {
		code string
		ok   bool
	}{{"КР-7/2", true}, {"A", true}, {"", false}, {"a\nb", false},
		{string(bytes.Repeat([]byte("Ж"), 72)), true}, {string(bytes.Repeat([]byte("Ж"), 73)), false}} {
		if err := wildberries.ValidateVendorCode(tc.code); (err == nil) != tc.ok {
			t.Errorf("ValidateVendorCode(%q) = %v, want ok=%v", tc.code, err, tc.ok)
		}
	}
	res, err := newEnv(t, envOpt{}).client.PushStocks(t.Context(), []marketsim.StockUpdate{
		{OfferID: "abc", WarehouseID: whA, Qty: 1}, stock(1, "main", 1), stock(1, whA, wildberries.MaxAmount+1)})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Status != marketsim.ItemRejected || r.Retriable {
			t.Fatalf("item %d: %+v, want refused before sending", i, r)
		}
	}
}
