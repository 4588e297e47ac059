package ozon

import (
	"math"
	"time"

	"stockd/adapters/marketsim"
	"stockd/feeds/limit"
)

// Documented limits (see shared reference, Ozon section; check them against
// the live docs before release).
const (
	// MaxStockBatch is the number of (offer, warehouse) pairs one stock
	// update may carry.
	MaxStockBatch = 100
	// MaxPriceBatch is the number of offers one price update may carry.
	MaxPriceBatch = 1000
	// GlobalPerSecond is the request limit per Client-Id across all
	// methods (raised from 10 on 2025-05-22).
	GlobalPerSecond = 50
	// StocksPerMinute is the stock update limit per seller account.
	StocksPerMinute = 80
	// StockCooldown is how often one (offer, warehouse) pair may be
	// updated: 30 s in the current docs; older docs say 2 minutes, so
	// accounts on the old rule need 2*time.Minute.
	StockCooldown = 30 * time.Second
	// CircleOpenPause is how long a method answered "Circle is open" is
	// left alone: Ozon says it recovers "within a few minutes" (the
	// exact time is UNCONFIRMED).
	CircleOpenPause = 5 * time.Minute
	// PriceChangesPerHour is how often one product's price may change.
	PriceChangesPerHour = 10
	// MaxOfferIDRunes is the longest offer_id.
	MaxOfferIDRunes = 50
	// MaxPostingsPage is the page size of the v4 unfulfilled list (1..100).
	MaxPostingsPage = 100
	// MaxStockReadBatch is the number of offer_ids one read-back request
	// carries. The method's maximum is UNCONFIRMED; 100 is conservative.
	MaxStockReadBatch = 100
)

// Limiters pace one Ozon account. Nil fields do not pace.
type Limiters struct {
	Global marketsim.Limiter // every request of the Client-Id
	Stocks marketsim.Limiter // stock updates, on top of Global
}

// NewLimiters builds buckets at headroom (e.g. 0.9) of the documented
// limits. Ozon states its limits as N requests per period with no burst,
// read here as a sliding window; a bucket with rate r and burst b sends at
// most b + r×period in a period, so the rate is headroom × N per period and
// the burst half of what headroom leaves, ⌊(1 − headroom) × N / 2⌋, at
// least 1; the other half absorbs network jitter.
func NewLimiters(headroom float64, now func() time.Time) (Limiters, error) {
	global, err := windowBucket(GlobalPerSecond, time.Second, headroom, now)
	if err != nil {
		return Limiters{}, err
	}
	stocks, err := windowBucket(StocksPerMinute, time.Minute, headroom, now)
	if err != nil {
		return Limiters{}, err
	}
	return Limiters{Global: global, Stocks: stocks}, nil
}

func windowBucket(n int, period time.Duration, headroom float64, now func() time.Time) (*limit.Bucket, error) {
	burst := int(math.Floor((1 - headroom) * float64(n) / 2))
	if burst < 1 {
		burst = 1
	}
	// the burst and a period's refill together stay within N, at a
	// headroom of 1 too
	perPeriod := min(headroom*float64(n), float64(n-burst))
	return limit.New(limit.Config{
		Rate:     perPeriod / period.Seconds(),
		Burst:    burst,
		Headroom: 1,
		Now:      now,
	})
}
