package cmlevents

import (
	"strconv"
	"strings"
	"time"
)

// ParseGeneratedAt reads a ДатаФормирования. 1C writes local wall time without a zone
// ("2025-01-01T10:00:00"), sometimes with one-digit fields ("2014-06-01T0:36:33") or a
// date only ("2008-03-28"); those are read in loc. RFC 3339 with a zone is read as is.
func ParseGeneratedAt(s string, loc *time.Location) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	date, clock, hasClock := strings.Cut(s, "T")
	if !hasClock {
		date, clock, hasClock = strings.Cut(s, " ")
	}
	ymd := strings.Split(date, "-")
	if len(ymd) != 3 || len(ymd[0]) != 4 {
		return time.Time{}, false
	}
	var f [6]int
	for i, part := range ymd {
		n, ok := field(part, 4)
		if !ok {
			return time.Time{}, false
		}
		f[i] = n
	}
	var nsec int
	if hasClock {
		hms := strings.Split(clock, ":")
		if len(hms) < 2 || len(hms) > 3 {
			return time.Time{}, false
		}
		if len(hms) == 3 {
			sec, frac, hasFrac := strings.Cut(hms[2], ".")
			hms[2] = sec
			if hasFrac {
				ns, ok := fraction(frac)
				if !ok {
					return time.Time{}, false
				}
				nsec = ns
			}
		}
		for i, part := range hms {
			n, ok := field(part, 2)
			if !ok {
				return time.Time{}, false
			}
			f[3+i] = n
		}
	}
	t := time.Date(f[0], time.Month(f[1]), f[2], f[3], f[4], f[5], nsec, loc)
	if t.Year() != f[0] || int(t.Month()) != f[1] || t.Day() != f[2] || t.Hour() != f[3] || t.Minute() != f[4] || t.Second() != f[5] {
		return time.Time{}, false // out of range: 2025-02-30, 25:00
	}
	return t, true
}

// field reads 1..maxDigits decimal digits.
func field(s string, maxDigits int) (int, bool) {
	if s == "" || len(s) > maxDigits {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0 && s[0] != '+' && s[0] != '-'
}

// fraction reads up to 9 digits of a second's fraction as nanoseconds.
func fraction(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n, ok := field(s, 9)
	if !ok {
		return 0, false
	}
	for i := len(s); i < 9; i++ {
		n *= 10
	}
	return n, true
}
