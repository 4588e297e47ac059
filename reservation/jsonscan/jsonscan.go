// Package jsonscan holds the byte-level JSON helpers shared by stockd's
// hand-written decoders (reservation.DecodeEvent and the HTTP API's
// request decoder): finding the next byte that is not plain string text
// eight bytes at a time, and unquoting a checked string exactly as
// encoding/json does.
package jsonscan

import (
	"unicode/utf16"
	"unicode/utf8"
)

// SpecialMask flags (with its high bit) the first byte of w, read little
// endian, that is a quote, a backslash, a control character or not ASCII,
// and maybe later bytes; it is zero when all eight bytes are plain.
func SpecialMask(w uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	quote, backslash := w^(ones*'"'), w^(ones*'\\')
	return ((quote-ones)&^quote | (backslash-ones)&^backslash | (w-ones*0x20)&^w | w) & highs
}

// AppendUnquoted appends the value of a checked string's contents as
// encoding/json reads it: escapes resolved, a surrogate pair joined, a lone
// surrogate and each byte of invalid UTF-8 read as U+FFFD.
func AppendUnquoted(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(s[i:])
			dst = utf8.AppendRune(dst, r)
			i += size
		case c != '\\':
			dst = append(dst, c)
			i++
		default:
			var n int
			dst, n = appendEscape(dst, s[i:])
			i += n
		}
	}
	return dst
}

// appendEscape appends the value of the (checked) escape at s[0] and
// returns the bytes it took.
func appendEscape(dst, s []byte) ([]byte, int) {
	switch s[1] {
	case 'b':
		return append(dst, '\b'), 2
	case 'f':
		return append(dst, '\f'), 2
	case 'n':
		return append(dst, '\n'), 2
	case 'r':
		return append(dst, '\r'), 2
	case 't':
		return append(dst, '\t'), 2
	case 'u':
		r, _ := Hex4(s[2:])
		if utf16.IsSurrogate(r) {
			if len(s) >= 12 && s[6] == '\\' && s[7] == 'u' {
				if r2, ok := Hex4(s[8:]); ok {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						return utf8.AppendRune(dst, dec), 12
					}
				}
			}
			r = utf8.RuneError
		}
		return utf8.AppendRune(dst, r), 6
	}
	return append(dst, s[1]), 2 // " \ /
}

func Hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
