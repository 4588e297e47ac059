package feeds

import (
	"errors"
	"testing"
)

func TestStockPolicyChannelQty(t *testing.T) {
	for _, tc := range []struct {
		name  string
		p     StockPolicy
		avail int64
		want  int64
	}{
		{"all", StockPolicy{Percent: 100}, 7, 7},
		{"percent floors", StockPolicy{Percent: 50}, 7, 3},
		{"buffer", StockPolicy{Percent: 100, Buffer: 2}, 7, 5},
		{"buffer below zero", StockPolicy{Percent: 100, Buffer: 10}, 7, 0},
		{"max", StockPolicy{Percent: 100, Max: 4}, 7, 4},
		{"zero below", StockPolicy{Percent: 100, ZeroBelow: 2}, 2, 0},
		{"above zero below", StockPolicy{Percent: 100, ZeroBelow: 2}, 3, 3},
		{"negative available", StockPolicy{Percent: 100}, -3, 0},
	} {
		if got := tc.p.ChannelQty(tc.avail); got != tc.want {
			t.Errorf("%s: ChannelQty(%d) = %d, want %d", tc.name, tc.avail, got, tc.want)
		}
	}
	if err := (StockPolicy{Percent: 0}).Validate(); err == nil {
		t.Error("percent 0 validated")
	}
}

func TestPricePolicy(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    PricePolicy
		base Money
		want Money
	}{
		{"plain", PricePolicy{PriceType: "r"}, 123456, 123456},
		{"markup 12.5%", PricePolicy{PriceType: "r", MarkupBP: 1250}, 100000, 112500},
		{"fixed", PricePolicy{PriceType: "r", Fixed: 5000}, 100000, 105000},
		{"round up to 100 rub minus 1 kop", PricePolicy{PriceType: "r", Round: Rounding{Mode: RoundUp, Step: 10000, Minus: 1}}, 123456, 129999},
		{"round down to rub", PricePolicy{PriceType: "r", Round: Rounding{Mode: RoundDown, Step: 100}}, 123456, 123400},
		{"round nearest to 10 rub", PricePolicy{PriceType: "r", Round: Rounding{Mode: RoundNearest, Step: 1000}}, 123456, 123000},
	} {
		if err := tc.p.Validate(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got, err := tc.p.ChannelPrice(tc.base)
		if err != nil || got != tc.want {
			t.Errorf("%s: ChannelPrice(%d) = %d, %v; want %d", tc.name, tc.base, got, err, tc.want)
		}
	}
	p := PricePolicy{PriceType: "r", MinPrice: 100000}
	if _, err := p.ChannelPrice(99999); !errors.Is(err, ErrBelowMinPrice) {
		t.Errorf("below min price: err = %v, want ErrBelowMinPrice", err)
	}
	q := PricePolicy{PriceType: "r", MaxChangePct: 20}
	if q.NeedsApproval(10000, 12000) || !q.NeedsApproval(10000, 12001) || !q.NeedsApproval(10000, 7999) {
		t.Error("max_change_pct 20: want 20% allowed, 20.01% and -20.01% quarantined")
	}
	if (PricePolicy{PriceType: "r", Round: Rounding{Mode: RoundUp}}).Validate() == nil {
		t.Error("rounding without step validated")
	}
}

// TestWildberriesStockCappedAtItsMaximum: a Wildberries channel shows at
// most the 100,000 Wildberries takes, whatever stock.max says (a larger
// amount would be refused and the offer left at its last figure).
func TestWildberriesStockCappedAtItsMaximum(t *testing.T) {
	for _, tc := range []struct {
		kind Kind
		max  int64
		want int64
	}{
		{KindWildberries, 0, MaxWildberriesAmount},
		{KindWildberries, 200_000, MaxWildberriesAmount},
		{KindWildberries, 50, 50},
		{KindOzon, 0, 150_000},
	} {
		c := ChannelConfig{Kind: tc.kind}
		if tc.max != 0 {
			c.Stock = StockPolicy{Percent: 100, Max: tc.max}
		}
		if got := c.stockPolicy().ChannelQty(150_000); got != tc.want {
			t.Errorf("%s, max %d: 150,000 available shown as %d, want %d", tc.kind, tc.max, got, tc.want)
		}
	}
}
