package commerceml

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxDecimalDigits is the most digits a Decimal may have (integer and fraction together).
const MaxDecimalDigits = 40

// Decimal is an exact decimal number kept as written: an optional '-', digits, and
// optionally '.' and more digits ("2042.66", "3159.00", "1.0000", "-1"). It is never
// converted to floating point. The zero value is 0.
type Decimal struct {
	text string
}

// ParseDecimal parses a CommerceML number. Besides the XSD form ("1234.50") it accepts,
// defensively, a decimal comma and grouping spaces (ASCII, NBSP U+00A0, U+202F, U+2009):
// "1 234,50" and "1\u00a0234,50" both give 1234.50. A leading '+' is dropped, ".5" reads
// as 0.5 and "5." as 5. Anything else (exponents, two separators, letters, an empty
// string) is ErrInvalidNumber.
func ParseDecimal(s string) (Decimal, error) {
	d, _, err := parseDecimal(s)
	return d, err
}

// DecimalFromInt returns the Decimal of an integer.
func DecimalFromInt(n int64) Decimal {
	return Decimal{text: strconv.FormatInt(n, 10)}
}

// parseDecimal also reports whether the text had to be normalised (it was not in the
// XSD form), which the reader turns into a warning.
func parseDecimal(s string) (Decimal, bool, error) {
	if canonicalDecimal(s) {
		return Decimal{text: s}, false, nil
	}
	b := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\u00a0' || r == '\u202f' || r == '\u2009':
		case r == '+' && len(b) == 0:
		case r == ',':
			b = append(b, '.')
		case r < utf8.RuneSelf:
			b = append(b, byte(r))
		default:
			return Decimal{}, false, fmt.Errorf("%w: %q", ErrInvalidNumber, s)
		}
	}
	neg := len(b) > 0 && b[0] == '-'
	digits := b
	if neg {
		digits = b[1:]
	}
	if len(digits) > 0 && digits[0] == '.' {
		digits = append([]byte{'0'}, digits...)
	}
	if n := len(digits); n > 1 && digits[n-1] == '.' {
		digits = digits[:n-1]
	}
	out := string(digits)
	if neg {
		out = "-" + out
	}
	if !canonicalDecimal(out) {
		return Decimal{}, false, fmt.Errorf("%w: %q", ErrInvalidNumber, s)
	}
	return Decimal{text: out}, true, nil
}

// canonicalDecimal reports whether s is -?[0-9]+(\.[0-9]+)? with at most MaxDecimalDigits digits.
func canonicalDecimal(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	intStart := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	digits := i - intStart
	if digits == 0 {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		fracStart := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == fracStart {
			return false
		}
		digits += i - fracStart
	}
	return i == len(s) && digits <= MaxDecimalDigits
}

// String returns the number as written (after normalisation), "0" for the zero value.
func (d Decimal) String() string {
	if d.text == "" {
		return "0"
	}
	return d.text
}

// parts splits the number into sign, integer digits and fraction digits.
func (d Decimal) parts() (neg bool, intPart, frac string) {
	s := d.String()
	if s[0] == '-' {
		neg, s = true, s[1:]
	}
	intPart, frac, _ = strings.Cut(s, ".")
	return neg, intPart, frac
}

func allZero(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '0' {
			return false
		}
	}
	return true
}

// IsZero reports whether the number is zero ("0", "0.000", "-0").
func (d Decimal) IsZero() bool {
	_, i, f := d.parts()
	return allZero(i) && allZero(f)
}

// IsNegative reports whether the number is below zero.
func (d Decimal) IsNegative() bool {
	neg, _, _ := d.parts()
	return neg && !d.IsZero()
}

// IsInteger reports whether the number has no non-zero fraction digit ("1.0000" is one).
func (d Decimal) IsInteger() bool {
	_, _, f := d.parts()
	return allZero(f)
}

// Floor returns the greatest integer not above the number: 2.7 → 2, -0.5 → -1.
// ErrNumberRange when it does not fit an int64.
func (d Decimal) Floor() (int64, error) {
	neg, i, f := d.parts()
	n, err := strconv.ParseUint(i, 10, 64)
	if err != nil || n > math.MaxInt64 {
		return 0, fmt.Errorf("%w: %s", ErrNumberRange, d)
	}
	v := int64(n)
	if neg {
		v = -v
		if !allZero(f) {
			if v == math.MinInt64+1 {
				return 0, fmt.Errorf("%w: %s", ErrNumberRange, d)
			}
			v--
		}
	}
	return v, nil
}

// Cmp compares two numbers exactly: -1 if d < e, 0 if equal, +1 if d > e.
func (d Decimal) Cmp(e Decimal) int {
	dz, ez := d.IsZero(), e.IsZero()
	dn, en := d.IsNegative(), e.IsNegative()
	switch {
	case dz && ez:
		return 0
	case dn != en:
		if dn {
			return -1
		}
		return 1
	}
	c := cmpMagnitude(d, e)
	if dn {
		return -c
	}
	return c
}

func cmpMagnitude(d, e Decimal) int {
	_, di, df := d.parts()
	_, ei, ef := e.parts()
	di, ei = strings.TrimLeft(di, "0"), strings.TrimLeft(ei, "0")
	if len(di) != len(ei) {
		if len(di) < len(ei) {
			return -1
		}
		return 1
	}
	if c := strings.Compare(di, ei); c != 0 {
		return c
	}
	for len(df) < len(ef) {
		df += "0"
	}
	for len(ef) < len(df) {
		ef += "0"
	}
	return strings.Compare(df, ef)
}

// sumDecimals returns the exact sum. It uses int64 arithmetic when the numbers are small
// enough and big.Rat otherwise.
func sumDecimals(values []Decimal) Decimal {
	if s, ok := sumFixed(values); ok {
		return s
	}
	total := new(big.Rat)
	scale := 0
	for _, v := range values {
		r, ok := new(big.Rat).SetString(v.String())
		if !ok {
			panic("commerceml: Decimal invariant broken: " + v.String())
		}
		total.Add(total, r)
		if _, _, f := v.parts(); len(f) > scale {
			scale = len(f)
		}
	}
	return Decimal{text: total.FloatString(scale)}
}

func sumFixed(values []Decimal) (Decimal, bool) {
	scale := 0
	for _, v := range values {
		_, i, f := v.parts()
		if len(i)+len(f) > 18 {
			return Decimal{}, false
		}
		scale = max(scale, len(f))
	}
	var total int64
	for _, v := range values {
		neg, i, f := v.parts()
		for len(f) < scale {
			f += "0"
		}
		m, err := strconv.ParseInt(i+f, 10, 64)
		if err != nil || m > math.MaxInt64/4 {
			return Decimal{}, false
		}
		if neg {
			m = -m
		}
		total += m
		if total > math.MaxInt64/2 || total < math.MinInt64/2 {
			return Decimal{}, false
		}
	}
	neg := total < 0
	if neg {
		total = -total
	}
	s := strconv.FormatInt(total, 10)
	if scale > 0 {
		for len(s) <= scale {
			s = "0" + s
		}
		s = s[:len(s)-scale] + "." + s[len(s)-scale:]
	}
	if neg {
		s = "-" + s
	}
	return Decimal{text: s}, true
}
