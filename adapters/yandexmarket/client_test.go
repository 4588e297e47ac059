package yandexmarket_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"stockd/adapters/marketsim"
	"stockd/adapters/yandexmarket"
	"stockd/adapters/yandexmarket/ymsim"
)

const (
	apiKey     = "ACMA:I4c4sim:151c0664"
	businessID = 10
	campaignID = 20
	campaign   = "20"
	partnerWh  = "77"
)

var epoch = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

type env struct {
	client   *yandexmarket.Client
	sim      *ymsim.Sim
	clock    *marketsim.ManualClock
	requests atomic.Int64
	url      string
}

type envOpt struct {
	sim     func(*ymsim.Config)
	client  func(*yandexmarket.Options)
	timeout time.Duration
}

func newEnv(tb testing.TB, o envOpt) *env {
	tb.Helper()
	e := &env{clock: marketsim.NewManualClock(epoch)}
	cfg := ymsim.DefaultConfig(apiKey, businessID, campaignID)
	cfg.Now = e.clock.Now
	cfg.Warehouses = []int64{77}
	if o.sim != nil {
		o.sim(&cfg)
	}
	e.sim = ymsim.New(cfg)
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
	opt := yandexmarket.Options{BaseURL: srv.URL, APIKey: apiKey, BusinessID: businessID, CampaignID: campaignID,
		StockMethod: yandexmarket.StockByCampaign, MaxInFlight: yandexmarket.DefaultMaxInFlight,
		HTTP: &http.Client{Timeout: timeout}, Now: e.clock.Now}
	if o.client != nil {
		o.client(&opt)
	}
	c, err := yandexmarket.New(opt)
	if err != nil {
		tb.Fatal(err)
	}
	e.client = c
	return e
}

func stock(sku string, qty int64) marketsim.StockUpdate {
	return marketsim.StockUpdate{OfferID: sku, Qty: qty}
}

func TestPushStocksByCampaign(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.sim.AddOffer("КР-7/2", "A-1")
	at := time.Date(2026, 11, 21, 12, 30, 0, 0, time.FixedZone("MSK", 3*3600))
	res, err := e.client.PushStocks(t.Context(), []marketsim.StockUpdate{
		{OfferID: "КР-7/2", Qty: 5, At: at}, {OfferID: "A-1", WarehouseID: campaign, Qty: 0},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Status != marketsim.ItemOK {
			t.Fatalf("item %d: %+v", i, r)
		}
	}
	rec, ok := e.sim.StockRecord("КР-7/2", campaign)
	if !ok || rec.Count != 5 || rec.UpdatedAt != "2026-11-21T12:30:00+03:00" {
		t.Fatalf("sim record %+v (%v)", rec, ok)
	}
	if rec, _ := e.sim.StockRecord("A-1", campaign); rec.UpdatedAt != "2026-11-21T10:00:00+00:00" {
		t.Fatalf("zero At must be sent as now, got %q", rec.UpdatedAt)
	}
}

func TestPushStocksByWarehouse(t *testing.T) {
	e := newEnv(t, envOpt{client: func(o *yandexmarket.Options) { o.StockMethod = yandexmarket.StockByWarehouse }})
	e.sim.AddOffer("A-1")
	res, err := e.client.PushStocks(t.Context(), []marketsim.StockUpdate{
		{OfferID: "A-1", WarehouseID: partnerWh, Qty: 3}, {OfferID: "A-1", WarehouseID: "main", Qty: 3},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Status != marketsim.ItemOK || res[1].Status != marketsim.ItemRejected {
		t.Fatalf("results %+v", res)
	}
	if got, _ := e.sim.Stock("A-1", partnerWh); got != 3 {
		t.Fatalf("sim stock %d, want 3", got)
	}
}

func TestPushStocksSplitsByCountAndBodySize(t *testing.T) {
	e := newEnv(t, envOpt{sim: func(c *ymsim.Config) { c.AutoCreateOffers = true }})
	updates := make([]marketsim.StockUpdate, 2*yandexmarket.MaxStockBatch+500)
	for i := range updates {
		updates[i] = stock(fmt.Sprintf("sku-%05d", i), 1)
	}
	if _, err := e.client.PushStocks(t.Context(), updates); err != nil {
		t.Fatal(err)
	}
	if got := e.requests.Load(); got != 3 {
		t.Fatalf("%d requests for %d offers, want 3", got, len(updates))
	}
	// 1500 SKUs of 250 Cyrillic letters are over 512 KB in one body.
	long := strings.Repeat("Ж", 246)
	updates = updates[:1500]
	for i := range updates {
		updates[i] = stock(fmt.Sprintf("%s%04d", long, i), 1)
	}
	e.requests.Store(0)
	if _, err := e.client.PushStocks(t.Context(), updates); err != nil {
		t.Fatal(err)
	}
	if got := e.requests.Load(); got < 2 {
		t.Fatalf("%d requests for a body over 512 KB, want it split", got)
	}
	if v := e.sim.Violations(); len(v) != 0 {
		t.Fatalf("violations %v", v)
	}
}

func TestRequestLevelErrorIsNotRetriable(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.sim.AddOffer("A-1")
	res, err := e.client.PushStocks(t.Context(), []marketsim.StockUpdate{stock("A-1", 1), stock("0557722", 1)})
	var apiErr *marketsim.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest || apiErr.Retriable ||
		apiErr.Message != "Offer not found: 0557722" || apiErr.Code != "BAD_REQUEST" {
		t.Fatalf("err = %v, want YM's non-retriable 400", err)
	}
	for _, r := range res {
		if r.Status != marketsim.ItemNotSent || r.Retriable {
			t.Fatalf("item %+v: the whole request was refused", r)
		}
	}
	if _, ok := e.sim.Stock("A-1", campaign); ok {
		t.Fatal("a refused request changed stock")
	}
}

type recordingLimiter struct {
	penalized atomic.Int64
	until     atomic.Int64
	cost      atomic.Int64
}

func (l *recordingLimiter) Wait(_ context.Context, n int) error { l.cost.Add(int64(n)); return nil }
func (l *recordingLimiter) Charge(int)                          {}
func (l *recordingLimiter) Penalize(until time.Time) {
	l.penalized.Add(1)
	l.until.Store(until.UnixNano())
}

func TestQuota420IsRetriableUntilReset(t *testing.T) {
	lim := &recordingLimiter{}
	e := newEnv(t, envOpt{
		sim:    func(c *ymsim.Config) { c.StockOffersPerMinute = 3; c.AutoCreateOffers = true },
		client: func(o *yandexmarket.Options) { o.Limiters.StockOffers = lim },
	})
	if _, err := e.client.PushStocks(t.Context(), []marketsim.StockUpdate{stock("A", 1), stock("B", 1)}); err != nil {
		t.Fatal(err)
	}
	if got := lim.cost.Load(); got != 2 {
		t.Fatalf("limiter charged %d, want 2 offers", got)
	}
	e.clock.Advance(25 * time.Second)
	res, err := e.client.PushStocks(t.Context(), []marketsim.StockUpdate{stock("C", 1), stock("D", 1)})
	var apiErr *marketsim.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 420 || !apiErr.Retriable || !errors.Is(err, marketsim.ErrRateLimited) {
		t.Fatalf("err = %v, want a retriable 420", err)
	}
	if got, want := apiErr.RetryAfter, 35*time.Second; got != want {
		t.Fatalf("RetryAfter %v, want %v from X-RateLimit-Resource-Until", got, want)
	}
	if res[0].Status != marketsim.ItemNotSent || !res[0].Retriable {
		t.Fatalf("item %+v", res[0])
	}
	if lim.penalized.Load() != 1 || time.Unix(0, lim.until.Load()).Sub(e.clock.Now()) != 35*time.Second {
		t.Fatal("limiter not penalized until the quota resets")
	}
	if got := e.sim.Violation(ymsim.ViolationQuotaStocks); got != 1 {
		t.Fatalf("quota violations %d, want 1", got)
	}
}

func rawDo(tb testing.TB, method, url, body, key string) int {
	tb.Helper()
	req, err := http.NewRequest(method, url, bytes.NewBufferString(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Api-Key", key)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestParallelLimit(t *testing.T) {
	e := newEnv(t, envOpt{sim: func(c *ymsim.Config) { c.AutoCreateOffers = true }})
	e.sim.Faults().SetPlan(marketsim.FaultPlan{Seed: 1, SlowRate: 1, SlowFor: time.Second})
	// A raw client that opens 6 requests at once: 2 over the limit of 4.
	var wg sync.WaitGroup
	var refused atomic.Int64
	for i := range 6 {
		wg.Go(func() {
			body := fmt.Sprintf(`{"skus":[{"sku":"r%d","items":[{"count":1}]}]}`, i)
			if rawDo(t, http.MethodPut, e.url+"/v2/campaigns/20/offers/stocks", body, apiKey) == 420 {
				refused.Add(1)
			}
		})
	}
	wg.Wait()
	if refused.Load() != 2 || e.sim.Violation(ymsim.ViolationParallel) != 2 {
		t.Fatalf("%d refused, %d violations; want 2 of 6 over 4 in flight",
			refused.Load(), e.sim.Violation(ymsim.ViolationParallel))
	}
	// The client keeps to MaxInFlight whatever its callers do.
	e.sim.Faults().SetPlan(marketsim.FaultPlan{Seed: 1, SlowRate: 1, SlowFor: 50 * time.Millisecond})
	for i := range 8 {
		wg.Go(func() {
			if _, err := e.client.PushStocks(context.Background(), []marketsim.StockUpdate{stock(fmt.Sprintf("c%d", i), 1)}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := e.sim.MaxInFlightSeen("campaignId 20"); got > 4 {
		t.Fatalf("saw %d in flight", got)
	}
	if got := e.sim.Violation(ymsim.ViolationParallel); got != 2 {
		t.Fatalf("parallel violations %d after the client's pushes, want still 2", got)
	}
}

func TestAuthAndScope(t *testing.T) {
	e := newEnv(t, envOpt{client: func(o *yandexmarket.Options) { o.APIKey = "ACMA:wrong" }})
	_, err := e.client.PushStocks(t.Context(), []marketsim.StockUpdate{stock("A", 1)})
	var apiErr *marketsim.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized || apiErr.Retriable ||
		!errors.Is(err, marketsim.ErrUnauthorized) || apiErr.Code != "UNAUTHORIZED" {
		t.Fatalf("err = %v, want a non-retriable 401", err)
	}
	e2 := newEnv(t, envOpt{client: func(o *yandexmarket.Options) { o.CampaignID = 99 }})
	_, err = e2.client.PushStocks(t.Context(), []marketsim.StockUpdate{stock("A", 1)})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusForbidden || apiErr.Retriable {
		t.Fatalf("err = %v, want a non-retriable 403", err)
	}
	if e.sim.Violation(ymsim.ViolationAuth) != 1 || e2.sim.Violation(ymsim.ViolationForbidden) != 1 {
		t.Fatal("auth violations not counted")
	}
}

func TestServerErrorAndTimeout(t *testing.T) {
	e := newEnv(t, envOpt{timeout: 100 * time.Millisecond, sim: func(c *ymsim.Config) { c.AutoCreateOffers = true }})
	e.sim.Faults().Queue(
		marketsim.Fault{Kind: marketsim.FaultServerError, Status: http.StatusServiceUnavailable},
		marketsim.Fault{Kind: marketsim.FaultHang, Delay: 10 * time.Second},
	)
	_, err := e.client.PushStocks(t.Context(), []marketsim.StockUpdate{stock("A", 1)})
	var apiErr *marketsim.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 || !apiErr.Retriable || !errors.Is(err, marketsim.ErrServer) {
		t.Fatalf("err = %v, want a retriable 503", err)
	}
	_, err = e.client.PushStocks(t.Context(), []marketsim.StockUpdate{stock("A", 1)})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 0 || !apiErr.Retriable || !errors.Is(err, marketsim.ErrTimeout) {
		t.Fatalf("err = %v, want a retriable timeout", err)
	}
}

func TestRawClientOverLimitsCountsViolations(t *testing.T) {
	e := newEnv(t, envOpt{sim: func(c *ymsim.Config) { c.AutoCreateOffers = true; c.StockRequestsPerMinute = 3 }})
	for i := range 5 {
		body := fmt.Sprintf(`{"skuItems":[{"sku":"w%d","partnerWarehouseId":77,"count":1}]}`, i)
		rawDo(t, http.MethodPost, e.url+"/v3/businesses/10/offers/stocks/update", body, apiKey)
	}
	if got := e.sim.Violation(ymsim.ViolationQuotaStockW); got != 2 {
		t.Fatalf("warehouse stock quota violations %d, want 2 of 5 over 3/min", got)
	}
	tooPrecise := `{"offers":[{"offerId":"p","price":{"value":10.999,"currencyId":"RUR"}}]}`
	if code := rawDo(t, http.MethodPost, e.url+"/v2/businesses/10/offer-prices/updates", tooPrecise, apiKey); code != 400 {
		t.Fatalf("three decimals answered %d, want 400", code)
	}
	big := `{"skus":[` + strings.Repeat(`{"sku":"x","items":[{"count":1}]},`, 20000) + `{"sku":"y","items":[{"count":1}]}]}`
	if code := rawDo(t, http.MethodPut, e.url+"/v2/campaigns/20/offers/stocks", big, apiKey); code != 400 {
		t.Fatalf("a body over 512 KB answered %d, want 400", code)
	}
	if e.sim.Violation(ymsim.ViolationInvalid) != 1 || e.sim.Violation(ymsim.ViolationBodySize) != 1 {
		t.Fatalf("violations %v", e.sim.Violations())
	}
}

func TestLimitersKeepTheSimulatorQuiet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := ymsim.DefaultConfig(apiKey, businessID, campaignID)
		cfg.AutoCreateOffers = true
		sim := ymsim.New(cfg)
		lim, err := yandexmarket.NewLimiters(0.9, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		c, err := yandexmarket.New(yandexmarket.Options{BaseURL: "http://ym.invalid", APIKey: apiKey,
			BusinessID: businessID, CampaignID: campaignID, StockMethod: yandexmarket.StockByWarehouse,
			MaxInFlight: yandexmarket.DefaultMaxInFlight, Limiters: lim, Now: time.Now,
			HTTP: &http.Client{Timeout: 10 * time.Second, Transport: marketsim.HandlerTransport{Handler: sim}}})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		for i := range 80 {
			if _, err := c.PushStocks(t.Context(), []marketsim.StockUpdate{{OfferID: fmt.Sprintf("s%d", i), WarehouseID: partnerWh, Qty: 1}}); err != nil {
				t.Fatalf("stock %d: %v", i, err)
			}
		}
		prices := make([]marketsim.PriceUpdate, 30*yandexmarket.MaxPriceBatch)
		for i := range prices {
			prices[i] = marketsim.PriceUpdate{OfferID: fmt.Sprintf("p%d", i), Price: 1499_00, Currency: "RUB"}
		}
		if _, err := c.PushPrices(t.Context(), prices); err != nil {
			t.Fatal(err)
		}
		if v := sim.Violations(); len(v) != 0 {
			t.Fatalf("violations %v, want none", v)
		}
		if got, min := time.Since(start), 60*time.Second; got < min {
			t.Fatalf("80 warehouse stock requests took %v, under the %v the quota allows", got, min)
		}
	})
}
