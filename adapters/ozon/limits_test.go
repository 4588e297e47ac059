package ozon

import (
	"testing"
	"time"

	"stockd/feeds/limit"
)

// TestLimitersStayWithinTheLimits: a bucket's burst and a period's refill
// together never pass Ozon's N per period, at any headroom (at 1 too).
func TestLimitersStayWithinTheLimits(t *testing.T) {
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
		}{{"global", l.Global.(*limit.Bucket), GlobalPerSecond, time.Second}, {"stocks", l.Stocks.(*limit.Bucket), StocksPerMinute, time.Minute}} {
			if most := float64(c.b.Burst()) + c.b.Rate()*c.period.Seconds(); most > float64(c.n)+1e-9 {
				t.Errorf("headroom %v, %s: up to %.1f requests a period, limit %d", headroom, c.name, most, c.n)
			}
		}
	}
}
