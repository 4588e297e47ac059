package feeds

import (
	"testing"
	"time"

	"stockd/adapters/marketsim"
	"stockd/adapters/ozon"
	"stockd/adapters/yandexmarket"
	"stockd/feeds/limit"
)

// TestMarketplaceBucketsStayWithinTheLimits: each Ozon and Yandex Market
// bucket's burst and a period's refill together never pass the documented
// N per period, at any headroom (at 1 too).
func TestMarketplaceBucketsStayWithinTheLimits(t *testing.T) {
	type bucket struct {
		name   string
		l      marketsim.Limiter
		n      int
		period time.Duration
	}
	for _, headroom := range []float64{0.5, 0.9, 1} {
		o, err := ozon.NewLimiters(headroom, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		y, err := yandexmarket.NewLimiters(headroom, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []bucket{
			{"ozon global", o.Global, ozon.GlobalPerSecond, time.Second},
			{"ozon stocks", o.Stocks, ozon.StocksPerMinute, time.Minute},
			{"yandexmarket stock offers", y.StockOffers, yandexmarket.StockOffersPerMinute, time.Minute},
			{"yandexmarket stock requests", y.StockRequests, yandexmarket.StockRequestsPerMinute, time.Minute},
			{"yandexmarket price offers", y.PriceOffers, yandexmarket.PriceOffersPerMinute, time.Minute},
			{"yandexmarket orders", y.Orders, yandexmarket.OrderRequestsPerHour, time.Hour},
		} {
			b := c.l.(*limit.Bucket)
			if most := float64(b.Burst()) + b.Rate()*c.period.Seconds(); most > float64(c.n)+1e-6 {
				t.Errorf("headroom %v, %s: up to %.1f a period, limit %d", headroom, c.name, most, c.n)
			}
		}
	}
}
