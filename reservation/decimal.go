package reservation

import (
	"errors"
	"strconv"
	"strings"
)

// Decimal is an exact decimal number: Units / 10^Scale. "1234.50" is
// {123450, 2}; trailing zeros are kept, so String gives back the text 1C
// sent.
type Decimal struct {
	Units int64
	Scale uint8
}

// Price is one price of one price type.
type Price struct {
	Amount   Decimal
	Currency string // ISO 4217, e.g. "RUB"
}

var errDecimal = errors.New("must be a decimal like 1234.50")

// ParseDecimal reads [-]digits[.digits] with at most MaxPriceDigits
// significant digits and MaxPriceScale digits after the point.
func ParseDecimal(s string) (Decimal, error) {
	neg := strings.HasPrefix(s, "-")
	body := strings.TrimPrefix(s, "-")
	intPart, frac, hasPoint := strings.Cut(body, ".")
	if intPart == "" || (hasPoint && frac == "") || !allDigits(intPart) || !allDigits(frac) {
		return Decimal{}, errDecimal
	}
	if len(frac) > MaxPriceScale {
		return Decimal{}, errors.New("has more than 9 digits after the point")
	}
	digits := strings.TrimLeft(intPart, "0") + frac
	if len(strings.TrimLeft(digits, "0")) > MaxPriceDigits {
		return Decimal{}, errors.New("has more than 18 significant digits")
	}
	var units int64
	if all := strings.TrimLeft(intPart+frac, "0"); all != "" {
		var err error
		if units, err = strconv.ParseInt(all, 10, 64); err != nil {
			return Decimal{}, errDecimal
		}
	}
	if neg {
		units = -units
	}
	return Decimal{Units: units, Scale: uint8(len(frac))}, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// String formats the decimal with exactly Scale digits after the point.
func (d Decimal) String() string {
	u := d.Units
	sign := ""
	if u < 0 {
		sign, u = "-", -u
	}
	s := strconv.FormatInt(u, 10)
	if d.Scale == 0 {
		return sign + s
	}
	sc := int(d.Scale)
	if len(s) <= sc {
		s = strings.Repeat("0", sc-len(s)+1) + s
	}
	return sign + s[:len(s)-sc] + "." + s[len(s)-sc:]
}

func (d Decimal) valid() bool {
	if d.Scale > MaxPriceScale || d.Units < 0 {
		return false
	}
	return len(strconv.FormatInt(d.Units, 10)) <= MaxPriceDigits
}

func validCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}
