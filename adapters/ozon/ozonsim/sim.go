package ozonsim

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"stockd/adapters/marketsim"
)

// The kinds of violation the simulator counts: each is a rule the real
// Seller API enforces.
const (
	ViolationAuth           = "auth"            // missing or wrong Client-Id / Api-Key
	ViolationRateGlobal     = "rate_global"     // over GlobalPerSecond for the Client-Id
	ViolationRateStocks     = "rate_stocks"     // over StocksPerMinute
	ViolationItemCooldown   = "item_cooldown"   // a pair updated within StockCooldown
	ViolationPriceFrequency = "price_frequency" // a product priced more than PriceChangesPerHour
	ViolationBatchSize      = "batch_size"      // more items than the method allows
	ViolationInvalid        = "invalid_request" // a body the schema refuses
	// ViolationCircleOpen: a call to a method answered "Circle is open"
	// again before the block ended.
	ViolationCircleOpen = "circle_open"
)

// CircleOpenMessage is the message of a blocked method. Which HTTP
// status and code Ozon sends with it is UNCONFIRMED; the simulator
// answers 503 with code 14 (unavailable).
const CircleOpenMessage = "Circle is open"

// Config describes the simulated account and the rules it enforces.
type Config struct {
	ClientID string
	APIKey   string
	// BearerToken, if set, is accepted as "Authorization: Bearer".
	BearerToken string
	Now         func() time.Time

	GlobalPerSecond     int           // 50
	StocksPerMinute     int           // 80
	StockCooldown       time.Duration // 30 s (2 min on older rules)
	PriceChangesPerHour int           // 10
	MaxStockBatch       int           // 100
	MaxPriceBatch       int           // 1000
	// SendRetryAfter adds Retry-After to 429 replies. Whether Ozon sends
	// it is UNCONFIRMED (it appears only in test mocks), so it is a
	// switch.
	SendRetryAfter bool
	// Currency is the cabinet currency prices must be sent in.
	Currency string
	// Warehouses are the seller's FBS warehouses; stock for any other is
	// refused per item. Empty: any warehouse is accepted.
	Warehouses []int64
	// AutoCreateOffers accepts offers not added with AddOffer (and adds
	// them); otherwise they are refused per item as not found.
	AutoCreateOffers bool
	// Demand generates FBS postings over time; the zero value makes none.
	Demand marketsim.Demand
}

// DefaultConfig is the documented behaviour for one account.
func DefaultConfig(clientID, apiKey string) Config {
	return Config{
		ClientID:            clientID,
		APIKey:              apiKey,
		Now:                 time.Now,
		GlobalPerSecond:     50,
		StocksPerMinute:     80,
		StockCooldown:       30 * time.Second,
		PriceChangesPerHour: 10,
		MaxStockBatch:       100,
		MaxPriceBatch:       1000,
		SendRetryAfter:      false,
		Currency:            "RUB",
	}
}

// Sim is an http.Handler that behaves like the Ozon Seller API for one
// account. Safe for concurrent use.
type Sim struct {
	cfg        Config
	faults     marketsim.Faults
	violations marketsim.Violations
	global     *marketsim.SlidingWindow
	stocksRate *marketsim.SlidingWindow

	mu         sync.Mutex
	offers     map[string]int64 // offer_id → product_id
	nextProdID int64
	warehouses map[int64]bool
	stocks     map[pair]stockEntry
	prices     map[string]Price
	priceLog   map[string]*marketsim.SlidingWindow
	circles    map[string]*circle // path → block of the method
	postings   map[string]*Posting
	order      []string // posting numbers in creation order
	seq        int64
	gen        *marketsim.OrderGen
}

type pair struct {
	offerID     string
	warehouseID int64
}

type stockEntry struct {
	qty int64
	at  time.Time
}

// Price is the last price the simulator accepted for an offer.
type Price struct {
	Price    string
	OldPrice string
	Currency string
	At       time.Time
}

// New makes a simulator.
func New(cfg Config) *Sim {
	now := cfg.Now()
	s := &Sim{
		cfg:        cfg,
		global:     marketsim.NewSlidingWindow(cfg.GlobalPerSecond, time.Second),
		stocksRate: marketsim.NewSlidingWindow(cfg.StocksPerMinute, time.Minute),
		offers:     make(map[string]int64),
		nextProdID: 100000,
		warehouses: make(map[int64]bool),
		stocks:     make(map[pair]stockEntry),
		prices:     make(map[string]Price),
		priceLog:   make(map[string]*marketsim.SlidingWindow),
		circles:    make(map[string]*circle),
		postings:   make(map[string]*Posting),
		gen:        marketsim.NewOrderGen(cfg.Demand, now),
	}
	for _, wh := range cfg.Warehouses {
		s.warehouses[wh] = true
	}
	return s
}

// AddOffer registers an offer; it returns its product_id.
func (s *Sim) AddOffer(offerID string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addOfferLocked(offerID)
}

func (s *Sim) addOfferLocked(offerID string) int64 {
	if id, ok := s.offers[offerID]; ok {
		return id
	}
	s.nextProdID++
	s.offers[offerID] = s.nextProdID
	return s.nextProdID
}

// Stock is the last stock accepted for an offer at a warehouse.
func (s *Sim) Stock(offerID, warehouseID string) (int64, bool) {
	wh, err := strconv.ParseInt(warehouseID, 10, 64)
	if err != nil {
		return 0, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.stocks[pair{offerID, wh}]
	return e.qty, ok
}

// Price is the last price accepted for an offer.
func (s *Sim) Price(offerID string) (Price, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.prices[offerID]
	return p, ok
}

// Violations counts the limits clients broke, by kind.
func (s *Sim) Violations() map[string]int64 { return s.violations.Snapshot() }

// Violation is the count of one kind.
func (s *Sim) Violation(kind string) int64 { return s.violations.Count(kind) }

// Faults is the fault plan; tests set it.
func (s *Sim) Faults() *marketsim.Faults { return &s.faults }

// errorReply is Ozon's common error body.
type errorReply struct {
	Code    int           `json:"code"`
	Message string        `json:"message"`
	Details []interface{} `json:"details"`
}

func writeError(w http.ResponseWriter, status, code int, msg string) {
	marketsim.WriteJSON(w, status, errorReply{Code: code, Message: msg, Details: []interface{}{}})
}

// ServeHTTP answers like the Seller API.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Read the body first: only then does net/http notice a client that
	// gives up, which ends a hang.
	body, err := marketsim.ReadBody(r, marketsim.MaxRequestBytes)
	if err != nil {
		writeError(w, http.StatusBadRequest, 3, "request body too large")
		return
	}
	if !s.applyFault(w, r) {
		return
	}
	if r.Method != http.MethodPost {
		writeError(w, http.StatusNotFound, 5, "Not Found")
		return
	}
	if !s.authorized(r) {
		s.violations.Add(ViolationAuth)
		writeError(w, http.StatusForbidden, 7, "Invalid Api-Key, please contact support")
		return
	}
	now := s.cfg.Now()
	if s.circleOpen(w, r.URL.Path, now) {
		return
	}
	if ok, wait := s.global.Take(now, 1); !ok {
		s.violations.Add(ViolationRateGlobal)
		s.tooMany(w, wait, "You have reached request rate limit per second")
		return
	}
	switch r.URL.Path {
	case "/v2/products/stocks":
		if ok, wait := s.stocksRate.Take(now, 1); !ok {
			s.violations.Add(ViolationRateStocks)
			s.tooMany(w, wait, "You have reached request rate limit per minute")
			return
		}
		s.handleStocks(w, body, now)
	case "/v1/product/import/prices":
		s.handlePrices(w, body, now)
	case "/v2/product/info/stocks-by-warehouse/fbs":
		s.handleStocksRead(w, body)
	case "/v4/posting/fbs/unfulfilled/list":
		s.handleUnfulfilled(w, body, now)
	case "/v3/posting/fbs/get":
		s.handlePostingGet(w, body, now)
	default:
		writeError(w, http.StatusNotFound, 5, "Not Found")
	}
}

// applyFault runs the planned fault; false means the request is answered.
func (s *Sim) applyFault(w http.ResponseWriter, r *http.Request) bool {
	f := s.faults.Next(r.URL.Path)
	switch f.Kind {
	case marketsim.FaultServerError:
		writeError(w, f.Status, 13, "internal error")
		return false
	case marketsim.FaultHang:
		if marketsim.Pause(r.Context(), f.Delay) {
			writeError(w, http.StatusGatewayTimeout, 4, "deadline exceeded")
		}
		return false
	case marketsim.FaultSlow:
		return marketsim.Pause(r.Context(), f.Delay)
	}
	return true
}

func (s *Sim) authorized(r *http.Request) bool {
	if s.cfg.BearerToken != "" && r.Header.Get("Authorization") == "Bearer "+s.cfg.BearerToken {
		return true
	}
	return r.Header.Get("Client-Id") == s.cfg.ClientID && s.cfg.APIKey != "" &&
		r.Header.Get("Api-Key") == s.cfg.APIKey
}

func (s *Sim) tooMany(w http.ResponseWriter, wait time.Duration, msg string) {
	if s.cfg.SendRetryAfter {
		w.Header().Set("Retry-After", marketsim.RetrySeconds(wait))
	}
	writeError(w, http.StatusTooManyRequests, 8, msg)
}

// decode reads a JSON body; a malformed one is answered with 400.
func decode(w http.ResponseWriter, body []byte, v any) bool {
	if err := json.Unmarshal(body, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		msg := "invalid request payload"
		if errors.As(err, &typeErr) {
			msg = "invalid value for field " + typeErr.Field
		}
		writeError(w, http.StatusBadRequest, 3, msg)
		return false
	}
	return true
}

// circle is a method blocked until a time; answered counts the refusals.
type circle struct {
	until    time.Time
	answered int
}

// OpenCircle blocks the method at path for d: every call gets
// "Circle is open" until then, and each call after the first is a
// ViolationCircleOpen (the client should have paused the method).
func (s *Sim) OpenCircle(path string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.circles[path] = &circle{until: s.cfg.Now().Add(d)}
}

// CircleRefusals is how many calls to path were answered "Circle is
// open".
func (s *Sim) CircleRefusals(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.circles[path]; ok {
		return c.answered
	}
	return 0
}

// circleOpen answers a call to a blocked method; false when it is not.
func (s *Sim) circleOpen(w http.ResponseWriter, path string, now time.Time) bool {
	s.mu.Lock()
	c, ok := s.circles[path]
	blocked := ok && now.Before(c.until)
	if blocked {
		if c.answered > 0 {
			s.violations.Add(ViolationCircleOpen)
		}
		c.answered++
	}
	s.mu.Unlock()
	if blocked {
		writeError(w, http.StatusServiceUnavailable, 14, CircleOpenMessage)
	}
	return blocked
}
