package wbsim

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"stockd/adapters/marketsim"
)

// The kinds of violation the simulator counts.
const (
	ViolationAuth           = "auth"            // missing or unknown token
	ViolationRateStocks     = "rate_stocks"     // over the stock methods' bucket
	ViolationRateOrders     = "rate_orders"     // over the FBS orders bucket
	ViolationRatePrices     = "rate_prices"     // over the prices bucket
	ViolationBatchSize      = "batch_size"      // more items than the method allows
	ViolationConflict       = "conflict"        // a 409 answered (it costs 10 requests)
	ViolationIgnoredPayload = "ignored_payload" // unknown keys: 204, nothing updated
	ViolationInvalid        = "invalid_request" // a body WB refuses with 400
)

// Bucket is a WB limit: Limit requests per Period, Burst saved up.
type Bucket struct {
	Limit  int
	Period time.Duration
	Burst  int
}

// Config describes the simulated seller and the rules it enforces.
type Config struct {
	// Tokens are accepted in the Authorization header (WB tokens are made
	// per category; any of these opens every method here).
	Tokens []string
	Now    func() time.Time

	StockLimit     Bucket // 300/min, burst 20
	OrderLimit     Bucket // 300/min, burst 20
	PriceLimit     Bucket // 10/6 s, burst 5
	MaxStockBatch  int    // 1000
	MaxAmount      int64  // 100000
	MaxPriceBatch  int    // 1000
	MaxStatusBatch int    // 1000
	// Warehouses are the seller's warehouses; empty accepts any.
	Warehouses []int64
	// AutoCreateSizes accepts chrtIds and nmIDs not added with AddProduct.
	AutoCreateSizes bool
	// Reject409WholeBatch makes a 409 refuse every item of the request,
	// not only the ones it names. Which WB does is UNCONFIRMED.
	Reject409WholeBatch bool
	// TaskDelay is how long a price upload stays in processing.
	TaskDelay time.Duration
	// QuarantineFactor: a new discounted price this many times lower than
	// the current one goes to price quarantine (3).
	QuarantineFactor int64
	// Demand generates assembly tasks over time; the zero value none.
	Demand marketsim.Demand
}

// DefaultConfig is the documented behaviour for one seller.
func DefaultConfig(tokens ...string) Config {
	return Config{
		Tokens:              tokens,
		Now:                 time.Now,
		StockLimit:          Bucket{Limit: 300, Period: time.Minute, Burst: 20},
		OrderLimit:          Bucket{Limit: 300, Period: time.Minute, Burst: 20},
		PriceLimit:          Bucket{Limit: 10, Period: 6 * time.Second, Burst: 5},
		MaxStockBatch:       1000,
		MaxAmount:           100000,
		MaxPriceBatch:       1000,
		MaxStatusBatch:      1000,
		Reject409WholeBatch: true,
		TaskDelay:           0,
		QuarantineFactor:    3,
	}
}

// Sim is an http.Handler that behaves like the Wildberries marketplace and
// prices APIs (both hosts) for one seller. Safe for concurrent use.
type Sim struct {
	cfg        Config
	mux        *http.ServeMux
	faults     marketsim.Faults
	violations marketsim.Violations
	stocksRate *marketsim.TokenBucket
	ordersRate *marketsim.TokenBucket
	pricesRate *marketsim.TokenBucket

	mu         sync.Mutex
	sizes      map[int64]int64 // chrtId → nmID
	vendor     map[int64]string
	warehouses map[int64]bool
	processing map[int64]bool // warehouses answering 409 StoreIsProcessing
	stocks     map[stockKey]int64
	prices     map[int64]Price
	tasks      map[int64]*task
	refuse     map[int64]string // nmID → errorText of uploads refusing it
	lastTask   *task
	taskSeq    int64
	orders     map[int64]*AssemblyTask
	orderSeq   []int64
	seq        int64
	gen        *marketsim.OrderGen
}

type stockKey struct {
	chrtID      int64
	warehouseID int64
}

// Price is the price and discount in force for an nmID.
type Price struct {
	Price    int64 // whole roubles, before discount
	Discount int64 // per cent
	At       time.Time
}

// New makes a simulator.
func New(cfg Config) *Sim {
	now := cfg.Now()
	mk := func(b Bucket) *marketsim.TokenBucket {
		return marketsim.NewTokenBucket(b.Limit, b.Period, b.Burst, now)
	}
	s := &Sim{
		cfg:        cfg,
		stocksRate: mk(cfg.StockLimit),
		ordersRate: mk(cfg.OrderLimit),
		pricesRate: mk(cfg.PriceLimit),
		sizes:      make(map[int64]int64),
		vendor:     make(map[int64]string),
		warehouses: make(map[int64]bool),
		processing: make(map[int64]bool),
		stocks:     make(map[stockKey]int64),
		prices:     make(map[int64]Price),
		tasks:      make(map[int64]*task),
		refuse:     make(map[int64]string),
		orders:     make(map[int64]*AssemblyTask),
		gen:        marketsim.NewOrderGen(cfg.Demand, now),
	}
	for _, wh := range cfg.Warehouses {
		s.warehouses[wh] = true
	}
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /api/v3/stocks/{warehouseId}", s.limited(s.stocksRate, ViolationRateStocks, s.handleStocksPut))
	mux.HandleFunc("POST /api/v3/stocks/{warehouseId}", s.limited(s.stocksRate, ViolationRateStocks, s.handleStocksRead))
	mux.HandleFunc("GET /api/v3/orders/new", s.limited(s.ordersRate, ViolationRateOrders, s.handleOrdersNew))
	mux.HandleFunc("POST /api/v3/orders/status", s.limited(s.ordersRate, ViolationRateOrders, s.handleOrdersStatus))
	mux.HandleFunc("POST /api/v2/upload/task", s.limited(s.pricesRate, ViolationRatePrices, s.handleUpload))
	mux.HandleFunc("GET /api/v2/history/tasks", s.limited(s.pricesRate, ViolationRatePrices, s.handleHistoryTask))
	mux.HandleFunc("GET /api/v2/buffer/tasks", s.limited(s.pricesRate, ViolationRatePrices, s.handleBufferTask))
	mux.HandleFunc("GET /api/v2/history/goods/task", s.limited(s.pricesRate, ViolationRatePrices, s.handleHistoryGoods))
	s.mux = mux
	return s
}

// AddProduct registers a card: its nmID, vendorCode and size chrtIds.
func (s *Sim) AddProduct(nmID int64, vendorCode string, chrtIDs ...int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.vendor[nmID] = vendorCode
	for _, c := range chrtIDs {
		s.sizes[c] = nmID
	}
}

// SetStoreProcessing makes stock updates of a warehouse answer 409
// StoreIsProcessing until turned off.
func (s *Sim) SetStoreProcessing(warehouseID int64, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.processing[warehouseID] = on
}

// Stock is the last amount accepted for a chrtId at a warehouse.
func (s *Sim) Stock(chrtID, warehouseID string) (int64, bool) {
	c, err1 := strconv.ParseInt(chrtID, 10, 64)
	wh, err2 := strconv.ParseInt(warehouseID, 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.stocks[stockKey{c, wh}]
	return q, ok
}

// Price is the price in force for an nmID, after processed uploads.
func (s *Sim) Price(nmID string) (Price, bool) {
	n, err := strconv.ParseInt(nmID, 10, 64)
	if err != nil {
		return Price{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleLocked(s.cfg.Now())
	p, ok := s.prices[n]
	return p, ok
}

// Violations counts the limits clients broke, by kind.
func (s *Sim) Violations() map[string]int64 { return s.violations.Snapshot() }

// Violation is the count of one kind.
func (s *Sim) Violation(kind string) int64 { return s.violations.Count(kind) }

// Faults is the fault plan; tests set it.
func (s *Sim) Faults() *marketsim.Faults { return &s.faults }

// ServeHTTP answers like WB: faults, then auth, then the method's limit.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Read the body first: only then does net/http notice a client that
	// gives up, which ends a hang.
	body, err := marketsim.ReadBody(r, marketsim.MaxRequestBytes)
	if err != nil {
		writeMarketError(w, http.StatusBadRequest, "IncorrectRequestBody", "request body too large")
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if !s.applyFault(w, r) {
		return
	}
	if !s.authorized(r.Header.Get("Authorization")) {
		s.violations.Add(ViolationAuth)
		writeCommonError(w, http.StatusUnauthorized, "unauthorized",
			"token problem; token is malformed: could not base64 decode header", s.cfg.Now())
		return
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Sim) authorized(header string) bool {
	if header == "" {
		return false
	}
	for _, t := range s.cfg.Tokens {
		if header == t || header == "Bearer "+t {
			return true
		}
	}
	return false
}

func (s *Sim) applyFault(w http.ResponseWriter, r *http.Request) bool {
	f := s.faults.Next(r.URL.Path)
	switch f.Kind {
	case marketsim.FaultServerError:
		writeCommonError(w, f.Status, "internal server error", "internal server error", s.cfg.Now())
		return false
	case marketsim.FaultHang:
		if marketsim.Pause(r.Context(), f.Delay) {
			writeCommonError(w, http.StatusGatewayTimeout, "gateway timeout", "upstream timed out", s.cfg.Now())
		}
		return false
	case marketsim.FaultSlow:
		return marketsim.Pause(r.Context(), f.Delay)
	}
	return true
}

// limited charges one request to bucket before h runs; over the limit it
// answers 429 with WB's headers.
func (s *Sim) limited(bucket *marketsim.TokenBucket, kind string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		now := s.cfg.Now()
		if ok, wait := bucket.Take(now, 1); !ok {
			s.violations.Add(kind)
			secs := marketsim.RetrySeconds(wait)
			w.Header().Set("X-Ratelimit-Retry", secs)
			w.Header().Set("X-Ratelimit-Reset", secs)
			w.Header().Set("X-Ratelimit-Remaining", "0")
			w.Header().Set("X-Ratelimit-Limit", "1")
			writeCommonError(w, http.StatusTooManyRequests, "too many requests",
				"limited by "+kind, now)
			return
		}
		h(w, r)
	}
}

// commonError is WB's common error body (401, 429, ...).
type commonError struct {
	Title      string `json:"title"`
	Detail     string `json:"detail"`
	Code       string `json:"code"`
	RequestID  string `json:"requestId"`
	Origin     string `json:"origin"`
	Status     int    `json:"status"`
	StatusText string `json:"statusText"`
	Timestamp  string `json:"timestamp"`
}

func writeCommonError(w http.ResponseWriter, status int, title, detail string, now time.Time) {
	marketsim.WriteJSON(w, status, commonError{
		Title: title, Detail: detail, Code: fmt.Sprintf("%d-sim", status),
		RequestID: fmt.Sprintf("sim-%d", now.UnixNano()), Origin: "s2s-api-auth-stat",
		Status: status, StatusText: http.StatusText(status), Timestamp: now.UTC().Format(time.RFC3339),
	})
}

// marketError is the marketplace host's 4xx body {code, message, data}.
type marketError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data"`
}

func writeMarketError(w http.ResponseWriter, status int, code, msg string) {
	marketsim.WriteJSON(w, status, marketError{Code: code, Message: msg})
}
