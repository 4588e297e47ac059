package feeds

import (
	"errors"
	"fmt"
	"math"

	"stockd/reservation"
)

// ErrPrice means a ledger price cannot be turned into Money.
var ErrPrice = errors.New("feeds: unusable price")

// MoneyFromDecimal converts a ledger decimal to kopecks. Digits past the
// second decimal are rounded half up ("12.345" → 1235 kopecks, "12.344" →
// 1234); negative amounts and amounts past MaxMoney are refused.
func MoneyFromDecimal(d reservation.Decimal) (Money, error) {
	if d.Units < 0 {
		return 0, fmt.Errorf("%w: %s is negative", ErrPrice, d)
	}
	units := d.Units
	switch {
	case d.Scale <= 2:
		mul := pow10(2 - int(d.Scale))
		if units > int64(MaxMoney)/mul {
			return 0, fmt.Errorf("%w: %s is too large", ErrPrice, d)
		}
		return Money(units * mul), nil
	case d.Scale > 18:
		return 0, fmt.Errorf("%w: %s has scale %d", ErrPrice, d, d.Scale)
	}
	div := pow10(int(d.Scale) - 2)
	q, r := units/div, units%div
	if r*2 >= div {
		q++
	}
	if q > int64(MaxMoney) {
		return 0, fmt.Errorf("%w: %s is too large", ErrPrice, d)
	}
	return Money(q), nil
}

// MoneyFromPrice converts a ledger price in the channel's currency.
func MoneyFromPrice(p reservation.Price, currency string) (Money, error) {
	if p.Currency != currency {
		return 0, fmt.Errorf("%w: currency %s, the channel sells in %s", ErrPrice, p.Currency, currency)
	}
	return MoneyFromDecimal(p.Amount)
}

// MaxMoney is the largest amount a channel price may have: 10^13 roubles,
// far above any price and far below int64 overflow in the policy maths.
const MaxMoney Money = math.MaxInt64 / 200000

// String renders kopecks as roubles with two decimals.
func (m Money) String() string {
	sign := ""
	v := int64(m)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}
