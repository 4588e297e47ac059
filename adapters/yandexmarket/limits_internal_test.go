package yandexmarket

import (
	"testing"
	"time"

	"stockd/feeds/limit"
)

// TestLimitersStayWithinTheQuotas: a bucket's burst and a period's refill
// together never pass a quota, at any headroom (at 1 too).
func TestLimitersStayWithinTheQuotas(t *testing.T) {
	for _, headroom := range []float64{0.5, 0.9, 1} {
		l, err := NewLimiters(headroom, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name   string
			b      *limit.Bucket
			n      int
			period time.Duration
		}{
			{"stock offers", l.StockOffers.(*limit.Bucket), StockOffersPerMinute, time.Minute},
			{"stock requests", l.StockRequests.(*limit.Bucket), StockRequestsPerMinute, time.Minute},
			{"price offers", l.PriceOffers.(*limit.Bucket), PriceOffersPerMinute, time.Minute},
			{"orders", l.Orders.(*limit.Bucket), OrderRequestsPerHour, time.Hour},
		} {
			if most := float64(c.b.Burst()) + c.b.Rate()*c.period.Seconds(); most > float64(c.n)+1e-6 {
				t.Errorf("headroom %v, %s: up to %.1f a period, quota %d", headroom, c.name, most, c.n)
			}
		}
	}
}
