package feeds

import (
	"errors"
	"fmt"
)

// StockPolicy turns what the ledger says is available into what a channel
// is shown: clamp(floor(available × Percent/100) − Buffer, 0, Max), and 0
// when the result is at or below ZeroBelow.
type StockPolicy struct {
	Percent   int   `yaml:"percent"`    // share of available stock offered, 1..100
	Buffer    int64 `yaml:"buffer"`     // units held back from the channel
	Max       int64 `yaml:"max"`        // cap on the quantity shown; 0 means no cap
	ZeroBelow int64 `yaml:"zero_below"` // show 0 when the result is ≤ this
}

// DefaultStockPolicy shows everything that is available.
func DefaultStockPolicy() StockPolicy { return StockPolicy{Percent: 100} }

// Validate reports a policy that cannot be applied.
func (p StockPolicy) Validate() error {
	switch {
	case p.Percent < 1 || p.Percent > 100:
		return fmt.Errorf("feeds: stock policy percent %d is outside 1..100", p.Percent)
	case p.Buffer < 0 || p.Max < 0 || p.ZeroBelow < 0:
		return errors.New("feeds: stock policy buffer, max and zero_below must not be negative")
	}
	return nil
}

// ChannelQty applies the policy to an available quantity.
func (p StockPolicy) ChannelQty(available int64) int64 {
	if available <= 0 {
		return 0
	}
	q := available*int64(p.Percent)/100 - p.Buffer
	if q < 0 {
		q = 0
	}
	if p.Max > 0 && q > p.Max {
		q = p.Max
	}
	if q <= p.ZeroBelow {
		return 0
	}
	return q
}
