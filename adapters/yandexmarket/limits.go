package yandexmarket

import (
	"errors"
	"math"
	"time"

	"stockd/adapters/marketsim"
	"stockd/feeds/limit"
)

// Documented limits (shared reference, Yandex Market section).
const (
	// MaxStockBatch is the number of offers one stock update may carry
	// (both methods).
	MaxStockBatch = 2000
	// MaxPriceBatch is the number of offers one business price update may
	// carry.
	MaxPriceBatch = 500
	// MaxBodyBytes is the largest request body; over it YM answers 400
	// "The request is too big".
	MaxBodyBytes = 512 << 10
	// MaxParallel is the documented limit of parallel requests per
	// campaign or business (4 in the newer docs, 2 in the Sep-2025 copy).
	MaxParallel = 4
	// DefaultMaxInFlight is the client's own cap, below either reading.
	DefaultMaxInFlight = 2
	// StockOffersPerMinute is the campaign stock method's quota in offers.
	StockOffersPerMinute = 100000
	// StockRequestsPerMinute is the warehouse stock method's quota.
	StockRequestsPerMinute = 50
	// PriceOffersPerMinute is the business price method's quota in offers.
	PriceOffersPerMinute = 10000
	// OrderRequestsPerHour is the order list's quota.
	OrderRequestsPerHour = 100000
	// MaxOrdersPage is the largest page of the order list.
	MaxOrdersPage = 50
	// MaxOrderIDs is the largest orderIds filter.
	MaxOrderIDs = 50
	// MaxStockReadPage is the page size of the stock read (200 before
	// 2026-08-04, 100 since).
	MaxStockReadPage = 100
	// MaxSKURunes is the longest SKU.
	MaxSKURunes = 255
	// MaxStockCount is the largest stock count.
	MaxStockCount = 2_000_000_000
)

// Limiters pace one Yandex Market cabinet. Costs are offers for the
// offer-counted quotas. Nil fields do not pace.
type Limiters struct {
	StockOffers   marketsim.Limiter // campaign stock method, per offer
	StockRequests marketsim.Limiter // warehouse stock method, per request
	PriceOffers   marketsim.Limiter // business prices, per offer
	Orders        marketsim.Limiter // order list, per request
}

// NewLimiters builds buckets at headroom (e.g. 0.9) of the quotas. YM
// resets a quota at the end of its period, so a bucket whose burst and
// period's refill stay within the quota never exceeds it: the rate is
// headroom × N per period and the burst half of what headroom leaves.
func NewLimiters(headroom float64, now func() time.Time) (Limiters, error) {
	if !(headroom > 0 && headroom <= 1) {
		return Limiters{}, errors.New("yandexmarket: headroom must be in (0, 1]")
	}
	mk := func(n int, period time.Duration) (*limit.Bucket, error) {
		burst := max(int(math.Floor((1-headroom)*float64(n)/2)), 1)
		// the burst and a period's refill together stay within the quota,
		// at a headroom of 1 too
		perPeriod := min(headroom*float64(n), float64(n-burst))
		return limit.New(limit.Config{Rate: perPeriod / period.Seconds(), Burst: burst, Headroom: 1, Now: now})
	}
	var l Limiters
	var err error
	if l.StockOffers, err = mk(StockOffersPerMinute, time.Minute); err != nil {
		return Limiters{}, err
	}
	if l.StockRequests, err = mk(StockRequestsPerMinute, time.Minute); err != nil {
		return Limiters{}, err
	}
	if l.PriceOffers, err = mk(PriceOffersPerMinute, time.Minute); err != nil {
		return Limiters{}, err
	}
	if l.Orders, err = mk(OrderRequestsPerHour, time.Hour); err != nil {
		return Limiters{}, err
	}
	return l, nil
}
