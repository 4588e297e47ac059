package commerceml

import (
	"errors"
	"testing"
)

func TestParseDecimal(t *testing.T) {
	cases := []struct {
		in, want string
		err      bool
	}{
		{"0", "0", false}, {"2042.66", "2042.66", false}, {"3159.00", "3159.00", false}, {"-1", "-1", false},
		{"1.0000", "1.0000", false}, {"1 234,50", "1234.50", false}, {"1\u00a0234,50", "1234.50", false},
		{"1\u202f234", "1234", false}, {"+5", "5", false}, {".5", "0.5", false}, {"5.", "5", false}, {" 7 ", "7", false},
		{"", "", true}, {"-", "", true}, {"1e3", "", true}, {"1,234.50", "", true}, {"1.2.3", "", true}, {"abc", "", true},
		{"٣", "", true}, {"1234567890123456789012345678901234567890", "1234567890123456789012345678901234567890", false},
		{"12345678901234567890123456789012345678901", "", true}, {"--1", "", true}, {"1-", "", true},
	}
	for _, c := range cases {
		got, err := ParseDecimal(c.in)
		if c.err {
			if !errors.Is(err, ErrInvalidNumber) {
				t.Errorf("ParseDecimal(%q): got %v, %v; want ErrInvalidNumber", c.in, got, err)
			}
			continue
		}
		if err != nil || got.String() != c.want {
			t.Errorf("ParseDecimal(%q): got %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestDecimalFloorAndPredicates(t *testing.T) {
	cases := []struct {
		in           string
		floor        int64
		integer, neg bool
		zero         bool
	}{
		{"2.7", 2, false, false, false}, {"-0.5", -1, false, true, false}, {"-2", -2, true, true, false},
		{"1.0000", 1, true, false, false}, {"0.000", 0, true, false, true}, {"-0", 0, true, false, true},
		{"9223372036854775807", 9223372036854775807, true, false, false},
	}
	for _, c := range cases {
		d := dec(t, c.in)
		floor, err := d.Floor()
		if err != nil || floor != c.floor || d.IsInteger() != c.integer || d.IsNegative() != c.neg || d.IsZero() != c.zero {
			t.Errorf("%s: floor %d (%v) integer %v neg %v zero %v", c.in, floor, err, d.IsInteger(), d.IsNegative(), d.IsZero())
		}
	}
	for _, big := range []string{"9223372036854775808", "-9223372036854775808.5", "99999999999999999999"} {
		if _, err := dec(t, big).Floor(); !errors.Is(err, ErrNumberRange) {
			t.Errorf("%s: got %v, want ErrNumberRange", big, err)
		}
	}
	if (Decimal{}).String() != "0" || !(Decimal{}).IsZero() {
		t.Error("zero value must be 0")
	}
}

func TestDecimalCmpAndSum(t *testing.T) {
	cmp := []struct {
		a, b string
		want int
	}{
		{"1", "1.000", 0}, {"0", "-0", 0}, {"-1", "1", -1}, {"10", "9.99", 1}, {"-10", "-9.99", -1}, {"007", "7", 0},
		{"0.1", "0.10001", -1},
	}
	for _, c := range cmp {
		if got := dec(t, c.a).Cmp(dec(t, c.b)); got != c.want {
			t.Errorf("Cmp(%s, %s): got %d, want %d", c.a, c.b, got, c.want)
		}
	}
	sums := []struct {
		in   []string
		want string
	}{
		{[]string{"1", "0", "376"}, "377"}, {[]string{"0.5", "0.25", "-1"}, "-0.25"}, {[]string{"1.0000", "2"}, "3.0000"},
		{[]string{"99999999999999999999", "1"}, "100000000000000000000"}, {[]string{"0.000000000000000000001", "1"}, "1.000000000000000000001"},
		{nil, "0"},
	}
	for _, c := range sums {
		var ds []Decimal
		for _, s := range c.in {
			ds = append(ds, dec(t, s))
		}
		if got := sumDecimals(ds); got.Cmp(dec(t, c.want)) != 0 {
			t.Errorf("sum %v: got %s, want %s", c.in, got, c.want)
		}
	}
}
