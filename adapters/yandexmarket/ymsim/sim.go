package ymsim

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
	ViolationAuth        = "auth"            // missing or wrong Api-Key
	ViolationForbidden   = "forbidden"       // a campaign or business of another cabinet
	ViolationParallel    = "parallel"        // over MaxParallel open requests
	ViolationQuotaStocks = "quota_stocks"    // campaign stock offers per minute
	ViolationQuotaStockW = "quota_stocks_v3" // warehouse stock requests per minute
	ViolationQuotaPrices = "quota_prices"    // price offers per minute
	ViolationQuotaOrders = "quota_orders"    // order list requests per hour
	ViolationBatchSize   = "batch_size"      // more items than the method allows
	ViolationBodySize    = "body_size"       // a body over MaxBodyBytes
	ViolationInvalid     = "invalid_request" // a body YM refuses with 400
)

// Config describes the simulated cabinet and the rules it enforces.
type Config struct {
	APIKey      string
	BusinessID  int64
	CampaignIDs []int64
	// Warehouses are the partner warehouses of the business (for the
	// warehouse stock method).
	Warehouses []int64
	Now        func() time.Time

	MaxParallel            int   // 4 (2 in the Sep-2025 copy)
	StockOffersPerMinute   int64 // 100000
	StockRequestsPerMinute int64 // 50
	PriceOffersPerMinute   int64 // 10000
	OrderRequestsPerHour   int64 // 100000
	MaxStockBatch          int   // 2000
	MaxPriceBatch          int   // 500
	MaxBodyBytes           int64 // 512 KB
	MaxOrdersPage          int   // 50
	// AutoCreateOffers accepts SKUs not added with AddOffer; otherwise a
	// request naming one is refused with 400. Whether YM refuses or
	// ignores an unknown SKU is UNCONFIRMED.
	AutoCreateOffers bool
	// PricesLocked makes business price updates answer 423 (a cabinet that
	// uses only default prices, or is migrating).
	PricesLocked bool
	// Demand generates orders over time; the zero value none.
	Demand marketsim.Demand
}

// DefaultConfig is the documented behaviour for one cabinet.
func DefaultConfig(apiKey string, businessID int64, campaignIDs ...int64) Config {
	return Config{
		APIKey:                 apiKey,
		BusinessID:             businessID,
		CampaignIDs:            campaignIDs,
		Now:                    time.Now,
		MaxParallel:            4,
		StockOffersPerMinute:   100000,
		StockRequestsPerMinute: 50,
		PriceOffersPerMinute:   10000,
		OrderRequestsPerHour:   100000,
		MaxStockBatch:          2000,
		MaxPriceBatch:          500,
		MaxBodyBytes:           512 << 10,
		MaxOrdersPage:          50,
	}
}

// Sim is an http.Handler that behaves like the Yandex Market Partner API
// for one cabinet. Safe for concurrent use.
type Sim struct {
	cfg         Config
	mux         *http.ServeMux
	faults      marketsim.Faults
	violations  marketsim.Violations
	stockOffers *marketsim.FixedWindow
	stockReqs   *marketsim.FixedWindow
	priceOffers *marketsim.FixedWindow
	orderReqs   *marketsim.FixedWindow

	flightMu sync.Mutex
	inFlight map[string]int // "campaignId 1" / "businessId 2" → open requests
	maxSeen  map[string]int

	mu         sync.Mutex
	offers     map[string]bool
	campaigns  map[int64]bool
	warehouses map[int64]bool
	stocks     map[stockKey]Stock
	prices     map[string]Price
	orders     map[int64]*Order
	orderSeq   []int64
	seq        int64
	gen        *marketsim.OrderGen
}

type stockKey struct {
	sku       string
	warehouse string // campaign id (campaign method) or partnerWarehouseId
}

// Stock is the last count accepted for a SKU.
type Stock struct {
	Count     int64
	UpdatedAt string
}

// Price is the last price accepted for an offer.
type Price struct {
	Value        string
	DiscountBase string
	CurrencyID   string
}

// New makes a simulator.
func New(cfg Config) *Sim {
	s := &Sim{
		cfg:         cfg,
		stockOffers: marketsim.NewFixedWindow(cfg.StockOffersPerMinute, time.Minute),
		stockReqs:   marketsim.NewFixedWindow(cfg.StockRequestsPerMinute, time.Minute),
		priceOffers: marketsim.NewFixedWindow(cfg.PriceOffersPerMinute, time.Minute),
		orderReqs:   marketsim.NewFixedWindow(cfg.OrderRequestsPerHour, time.Hour),
		inFlight:    make(map[string]int),
		maxSeen:     make(map[string]int),
		offers:      make(map[string]bool),
		campaigns:   make(map[int64]bool),
		warehouses:  make(map[int64]bool),
		stocks:      make(map[stockKey]Stock),
		prices:      make(map[string]Price),
		orders:      make(map[int64]*Order),
		gen:         marketsim.NewOrderGen(cfg.Demand, cfg.Now()),
	}
	for _, c := range cfg.CampaignIDs {
		s.campaigns[c] = true
	}
	for _, w := range cfg.Warehouses {
		s.warehouses[w] = true
	}
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /v2/campaigns/{campaignId}/offers/stocks", s.scoped(s.handleCampaignStocks))
	mux.HandleFunc("POST /v2/campaigns/{campaignId}/offers/stocks", s.scoped(s.handleStocksRead))
	mux.HandleFunc("POST /v3/businesses/{businessId}/offers/stocks/update", s.scoped(s.handleWarehouseStocks))
	mux.HandleFunc("POST /v2/businesses/{businessId}/offer-prices/updates", s.scoped(s.handlePrices))
	mux.HandleFunc("GET /v2/campaigns/{campaignId}/orders", s.scoped(s.handleOrders))
	s.mux = mux
	return s
}

// AddOffer registers SKUs of the catalogue.
func (s *Sim) AddOffer(skus ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sku := range skus {
		s.offers[sku] = true
	}
}

// Stock is the last count accepted for a SKU at a warehouse: the campaign
// id for the campaign method, the partnerWarehouseId for the other.
func (s *Sim) Stock(sku, warehouse string) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.stocks[stockKey{sku, warehouse}]
	return st.Count, ok
}

// StockRecord is the last record accepted, with its updatedAt.
func (s *Sim) StockRecord(sku, warehouse string) (Stock, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.stocks[stockKey{sku, warehouse}]
	return st, ok
}

// Price is the last price accepted for an offer.
func (s *Sim) Price(offerID string) (Price, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.prices[offerID]
	return p, ok
}

// MaxInFlightSeen is the most requests seen open at once for a key such
// as "campaignId 12345" or "businessId 1".
func (s *Sim) MaxInFlightSeen(key string) int {
	s.flightMu.Lock()
	defer s.flightMu.Unlock()
	return s.maxSeen[key]
}

// Violations counts the limits clients broke, by kind.
func (s *Sim) Violations() map[string]int64 { return s.violations.Snapshot() }

// Violation is the count of one kind.
func (s *Sim) Violation(kind string) int64 { return s.violations.Count(kind) }

// Faults is the fault plan; tests set it.
func (s *Sim) Faults() *marketsim.Faults { return &s.faults }

// errorBody is YM's error reply.
type errorBody struct {
	Status string      `json:"status"`
	Errors []errorItem `json:"errors"`
}

type errorItem struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	marketsim.WriteJSON(w, status, errorBody{Status: "ERROR", Errors: []errorItem{{Code: code, Message: msg}}})
}

func writeOK(w http.ResponseWriter) {
	marketsim.WriteJSON(w, http.StatusOK, map[string]string{"status": "OK"})
}

// ServeHTTP answers like the Partner API: auth, then per method the
// campaign or business, its parallel limit, faults (holding the slot) and
// the method itself.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Read the body first: only then does net/http notice a client that
	// gives up, which ends a hang.
	body, err := marketsim.ReadBody(r, marketsim.MaxRequestBytes)
	if err != nil || (s.cfg.MaxBodyBytes > 0 && int64(len(body)) > s.cfg.MaxBodyBytes) {
		s.violations.Add(ViolationBodySize)
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", "The request is too big")
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if r.Header.Get("Api-Key") == "" || r.Header.Get("Api-Key") != s.cfg.APIKey {
		s.violations.Add(ViolationAuth)
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "Api-Key is missing or invalid")
		return
	}
	s.mux.ServeHTTP(w, r)
}

// scoped wraps a method: the campaign or business of its path must be the
// cabinet's, and at most MaxParallel requests of it may be open.
func (s *Sim) scoped(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		kind, id := "campaignId", r.PathValue("campaignId")
		if id == "" {
			kind, id = "businessId", r.PathValue("businessId")
		}
		n, err := strconv.ParseInt(id, 10, 64)
		allowed := err == nil && ((kind == "campaignId" && s.campaigns[n]) || (kind == "businessId" && n == s.cfg.BusinessID))
		if !allowed {
			s.violations.Add(ViolationForbidden)
			writeError(w, http.StatusForbidden, "FORBIDDEN", "Access denied to "+kind+" "+id)
			return
		}
		key := kind + " " + id
		if !s.enter(key) {
			s.violations.Add(ViolationParallel)
			writeError(w, 420, "LIMIT_EXCEEDED",
				fmt.Sprintf("Hit rate limit of %d parallel requests for %s %s", s.cfg.MaxParallel, kind, id))
			return
		}
		defer s.leave(key)
		if !s.applyFault(w, r) {
			return
		}
		h(w, r)
	}
}

func (s *Sim) enter(key string) bool {
	s.flightMu.Lock()
	defer s.flightMu.Unlock()
	if s.inFlight[key] >= s.cfg.MaxParallel {
		return false
	}
	s.inFlight[key]++
	s.maxSeen[key] = max(s.maxSeen[key], s.inFlight[key])
	return true
}

func (s *Sim) leave(key string) {
	s.flightMu.Lock()
	defer s.flightMu.Unlock()
	s.inFlight[key]--
}

func (s *Sim) applyFault(w http.ResponseWriter, r *http.Request) bool {
	f := s.faults.Next(r.URL.Path)
	switch f.Kind {
	case marketsim.FaultServerError:
		writeError(w, f.Status, "INTERNAL_ERROR", "Internal server error, retry later")
		return false
	case marketsim.FaultHang:
		if marketsim.Pause(r.Context(), f.Delay) {
			writeError(w, http.StatusGatewayTimeout, "GATEWAY_TIMEOUT", "Gateway timeout")
		}
		return false
	case marketsim.FaultSlow:
		return marketsim.Pause(r.Context(), f.Delay)
	}
	return true
}

// quota charges cost to a resource quota and sets the
// X-RateLimit-Resource-* headers; over it, it answers 420. YM decrements
// quotas on 2xx and 4xx replies alike, so the charge comes before the
// request is validated.
func (s *Sim) quota(w http.ResponseWriter, q *marketsim.FixedWindow, kind string, cost int64) bool {
	now := s.cfg.Now()
	ok, _ := q.Take(now, cost)
	limit, remaining, until := q.State(now)
	h := w.Header()
	h.Set("X-RateLimit-Resource-Limit", strconv.FormatInt(limit, 10))
	h.Set("X-RateLimit-Resource-Remaining", strconv.FormatInt(max(remaining, 0), 10))
	h.Set("X-RateLimit-Resource-Until", until.UTC().Format(http.TimeFormat))
	if !ok {
		s.violations.Add(kind)
		writeError(w, 420, "LIMIT_EXCEEDED", "Resource limit exceeded, retry after "+until.UTC().Format(http.TimeFormat))
		return false
	}
	return true
}
