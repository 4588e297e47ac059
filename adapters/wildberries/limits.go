package wildberries

import (
	"errors"
	"time"

	"stockd/adapters/marketsim"
	"stockd/feeds/limit"
)

// Documented limits (shared reference, Wildberries section; WB states them
// as token buckets: period, limit, interval, burst).
const (
	// MaxStockBatch is the number of sizes one stock update may carry.
	MaxStockBatch = 1000
	// MaxAmount is the largest stock amount per size.
	MaxAmount = 100000
	// MaxPriceBatch is the number of goods one price upload may carry.
	MaxPriceBatch = 1000
	// MaxStatusBatch is the number of assembly tasks one status request
	// may name.
	MaxStatusBatch = 1000
	// ConflictCost is what a 409 costs against the stock limit.
	ConflictCost = 10
	// MaxVendorCodeRunes is the longest vendorCode (card upload).
	MaxVendorCodeRunes = 72
)

// The token buckets WB documents per seller account.
var (
	// StockLimit covers every seller-warehouse stock method.
	StockLimit = Bucket{Limit: 300, Period: time.Minute, Burst: 20}
	// OrderLimit covers FBS assembly tasks, supplies and passes.
	OrderLimit = Bucket{Limit: 300, Period: time.Minute, Burst: 20}
	// PriceLimit covers every "prices and discounts" method, the task
	// history polls included.
	PriceLimit = Bucket{Limit: 10, Period: 6 * time.Second, Burst: 5}
)

// Bucket is a WB limit: Limit requests per Period, Burst saved up.
type Bucket struct {
	Limit  int
	Period time.Duration
	Burst  int
}

// Limiters pace one Wildberries seller account. Nil fields do not pace.
type Limiters struct {
	Stocks marketsim.Limiter
	Orders marketsim.Limiter
	Prices marketsim.Limiter
}

// NewLimiters builds buckets at headroom (e.g. 0.9) of the documented
// buckets; WB's own model is a token bucket, so rate and burst both scale.
func NewLimiters(headroom float64, now func() time.Time) (Limiters, error) {
	if !(headroom > 0 && headroom <= 1) {
		return Limiters{}, errors.New("wildberries: headroom must be in (0, 1]")
	}
	mk := func(b Bucket) (*limit.Bucket, error) {
		return limit.New(limit.Config{Rate: limit.PerPeriod(b.Limit, b.Period), Burst: b.Burst, Headroom: headroom, Now: now})
	}
	stocks, err := mk(StockLimit)
	if err != nil {
		return Limiters{}, err
	}
	orders, err := mk(OrderLimit)
	if err != nil {
		return Limiters{}, err
	}
	prices, err := mk(PriceLimit)
	if err != nil {
		return Limiters{}, err
	}
	return Limiters{Stocks: stocks, Orders: orders, Prices: prices}, nil
}
