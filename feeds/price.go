package feeds

import (
	"errors"
	"fmt"
	"math"
)

// Money is an amount in minor units (kopecks): exact, no floating point.
type Money int64

// RoundMode says which way a price moves to a multiple of the step.
type RoundMode string

// The rounding modes.
const (
	RoundNone    RoundMode = "none"
	RoundUp      RoundMode = "up"
	RoundDown    RoundMode = "down"
	RoundNearest RoundMode = "nearest"
)

// Rounding moves a price to a multiple of Step, then subtracts Minus:
// {up, 10000, 1} turns 1234.56 into 1299.99.
type Rounding struct {
	Mode  RoundMode `yaml:"mode"`
	Step  Money     `yaml:"step"`  // kopecks: 100 = whole roubles
	Minus Money     `yaml:"minus"` // kopecks taken off after rounding
}

// PricePolicy turns the seller's 1C prices into a channel's price:
// base × (1 + MarkupBP/10000) + Fixed, rounded, never below MinPrice.
type PricePolicy struct {
	PriceType    string   `yaml:"price_type"`     // 1C price type Ид of the base price
	OldPriceType string   `yaml:"old_price_type"` // price type shown crossed out; empty: none
	MarkupBP     int64    `yaml:"markup_bp"`      // markup in basis points: 1250 = +12.5 %
	Fixed        Money    `yaml:"fixed"`          // kopecks added after the markup
	Round        Rounding `yaml:"round"`
	MinPrice     Money    `yaml:"min_price"`      // a computed price below this is refused
	MaxChangePct int      `yaml:"max_change_pct"` // a bigger jump is quarantined; 0: no check
}

// ErrBelowMinPrice means a computed price is below the policy's minimum.
var ErrBelowMinPrice = errors.New("feeds: price below the channel's minimum")

// Validate reports a policy that cannot be applied.
func (p PricePolicy) Validate() error {
	switch {
	case p.PriceType == "":
		return errors.New("feeds: price policy needs price_type (the 1C price type Ид)")
	case p.MarkupBP < -9000 || p.MarkupBP > 100000:
		return fmt.Errorf("feeds: markup_bp %d is outside -9000..100000", p.MarkupBP)
	case p.MinPrice < 0 || p.MaxChangePct < 0:
		return errors.New("feeds: min_price and max_change_pct must not be negative")
	}
	switch p.Round.Mode {
	case "", RoundNone:
	case RoundUp, RoundDown, RoundNearest:
		if p.Round.Step <= 0 || p.Round.Minus < 0 || p.Round.Minus >= p.Round.Step {
			return errors.New("feeds: rounding needs step > 0 and 0 ≤ minus < step")
		}
	default:
		return fmt.Errorf("feeds: rounding mode %q is not none, up, down or nearest", p.Round.Mode)
	}
	return nil
}

// ChannelPrice computes the channel price from the base price.
func (p PricePolicy) ChannelPrice(base Money) (Money, error) {
	if base <= 0 {
		return 0, fmt.Errorf("feeds: base price %d is not positive", base)
	}
	if base > math.MaxInt64/200000 {
		return 0, fmt.Errorf("feeds: base price %d is too large", base)
	}
	withMarkup := divRound(int64(base)*(10000+p.MarkupBP), 10000)
	price := p.Round.apply(Money(withMarkup) + p.Fixed)
	if price < p.MinPrice || price <= 0 {
		return 0, fmt.Errorf("%w: %d < %d", ErrBelowMinPrice, price, p.MinPrice)
	}
	return price, nil
}

// NeedsApproval reports whether moving from the last acknowledged price to
// next changes it by more than MaxChangePct and must be quarantined.
func (p PricePolicy) NeedsApproval(lastAcked, next Money) bool {
	if p.MaxChangePct == 0 || lastAcked <= 0 {
		return false
	}
	diff := int64(next - lastAcked)
	if diff < 0 {
		diff = -diff
	}
	return diff*100 > int64(lastAcked)*int64(p.MaxChangePct)
}

func (r Rounding) apply(m Money) Money {
	if r.Mode == "" || r.Mode == RoundNone {
		return m
	}
	step := int64(r.Step)
	v := int64(m)
	switch r.Mode {
	case RoundUp:
		v = (v + step - 1) / step * step
	case RoundDown:
		v = v / step * step
	case RoundNearest:
		v = divRound(v, step) * step
	}
	return Money(v) - r.Minus
}

// divRound divides positive a by b, rounding half up.
func divRound(a, b int64) int64 { return (a + b/2) / b }
