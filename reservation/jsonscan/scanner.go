package jsonscan

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"unicode/utf8"
)

// MaxDepth is encoding/json's nesting limit, kept so that the same texts
// are refused.
const MaxDepth = 10000

// ErrEnd is the error of a text that ends inside a value.
var ErrEnd = errors.New("unexpected end of JSON input")

// Span is a string value: the bytes between its quotes in the input;
// Plain when they need no decoding (no escapes, ASCII only).
type Span struct {
	Start, End int32
	Plain      bool
}

// Scanner checks the syntax of one JSON text in place, as encoding/json
// does, for a decoder that reads values where they stand. The first syntax
// error is kept in Err; from then on the methods that return an index
// return len(Data), so a decoder's loops end. Decoders embed it and add
// the reading of their own keys and values.
type Scanner struct {
	Data  []byte
	Depth int   // objects and arrays open
	Err   error // the first syntax error
}

// Fail records a syntax error at Data[i] (the end of the input when i is
// past it) unless one is recorded already, and returns len(Data).
func (s *Scanner) Fail(i int, format string, args ...any) int {
	if s.Err == nil {
		if i >= len(s.Data) {
			s.Err = ErrEnd
		} else {
			s.Err = fmt.Errorf("invalid JSON at byte %d: "+format, append([]any{i}, args...)...)
		}
	}
	return len(s.Data)
}

// WS returns the index of the first byte at or after i that is not JSON
// white space.
func (s *Scanner) WS(i int) int {
	for i < len(s.Data) {
		switch s.Data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// Lit reports whether word stands at Data[i].
func (s *Scanner) Lit(i int, word string) bool {
	return len(s.Data)-i >= len(word) && string(s.Data[i:i+len(word)]) == word
}

// Object calls member for each `"key": value` of the object at Data[i] ==
// '{' (member reads the value at the index it is given and returns the
// index after it) and returns the index after the object.
func (s *Scanner) Object(i int, member func(key Span, i int) int) int {
	s.Depth++
	if s.Depth > MaxDepth {
		return s.Fail(i, "exceeded max depth")
	}
	i = s.WS(i + 1)
	if i < len(s.Data) && s.Data[i] == '}' {
		s.Depth--
		return i + 1
	}
	for s.Err == nil {
		if i >= len(s.Data) || s.Data[i] != '"' {
			return s.Fail(i, "want a key")
		}
		var key Span
		i, key = s.Str(i)
		i = s.WS(i)
		if i >= len(s.Data) || s.Data[i] != ':' {
			return s.Fail(i, "want : after a key")
		}
		i = s.WS(i + 1)
		if i >= len(s.Data) {
			return s.Fail(i, "")
		}
		var more bool
		if i, more = s.Next(s.WS(member(key, i)), '}'); !more {
			return i
		}
	}
	return len(s.Data)
}

// Next reads what follows a member or an element at Data[i]: a comma (it
// returns the index of the next one, more true) or close, the end of the
// object or array (it returns the index after it, more false, and closes
// one level). Anything else is a syntax error (len(Data), more false).
func (s *Scanner) Next(i int, close byte) (next int, more bool) {
	switch {
	case i >= len(s.Data):
		return s.Fail(i, ""), false
	case s.Data[i] == ',':
		return s.WS(i + 1), true
	case s.Data[i] == close:
		s.Depth--
		return i + 1, false
	}
	return s.Fail(i, "want , or %c after a value", close), false
}

// Array calls elem at each value of the array at Data[i] == '[' (elem
// returns the index after the value) and returns the index after the
// array.
func (s *Scanner) Array(i int, elem func(int) int) int {
	s.Depth++
	if s.Depth > MaxDepth {
		return s.Fail(i, "exceeded max depth")
	}
	i = s.WS(i + 1)
	if i < len(s.Data) && s.Data[i] == ']' {
		s.Depth--
		return i + 1
	}
	for s.Err == nil {
		if i >= len(s.Data) {
			return s.Fail(i, "")
		}
		var more bool
		if i, more = s.Next(s.WS(elem(i)), ']'); !more {
			return i
		}
	}
	return len(s.Data)
}

// Skip checks the syntax of any value at Data[i] and returns the index
// after it.
func (s *Scanner) Skip(i int) int {
	if i >= len(s.Data) {
		return s.Fail(i, "")
	}
	switch c := s.Data[i]; {
	case c == '"':
		i, _ = s.Str(i)
		return i
	case c == '-' || c >= '0' && c <= '9':
		i, _ = s.Number(i)
		return i
	case c == '{':
		return s.Object(i, func(_ Span, i int) int { return s.Skip(i) })
	case c == '[':
		return s.Array(i, s.Skip)
	case s.Lit(i, "true"):
		return i + 4
	case s.Lit(i, "false"):
		return i + 5
	case s.Lit(i, "null"):
		return i + 4
	}
	return s.Fail(i, "unexpected %q", s.Data[i])
}

// Number checks -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? at Data[i]
// and returns the index after it; integral reports that it has neither
// fraction nor exponent.
func (s *Scanner) Number(i int) (end int, integral bool) {
	d := s.Data
	if d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		i = digits(d, i)
	default:
		return s.Fail(i, "bad number"), false
	}
	integral = true
	if i < len(d) && d[i] == '.' {
		integral = false
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return s.Fail(i, "bad number"), false
		}
		i = digits(d, i)
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		integral = false
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return s.Fail(i, "bad number"), false
		}
		i = digits(d, i)
	}
	return i, integral
}

func digits(d []byte, i int) int {
	for i < len(d) && d[i] >= '0' && d[i] <= '9' {
		i++
	}
	return i
}

// Str checks the string at Data[i] == '"' and returns the index after its
// closing quote and its span (empty when the string is malformed).
func (s *Scanner) Str(i int) (int, Span) {
	d := s.Data
	i++
	span := Span{Start: int32(i), Plain: true}
	for i < len(d) {
		// eight bytes at a time up to the first that is not plain
		for i+8 <= len(d) {
			if m := SpecialMask(binary.LittleEndian.Uint64(d[i:])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= len(d) {
			break
		}
		switch c := d[i]; {
		case c == '"':
			span.End = int32(i)
			return i + 1, span
		case c < 0x20:
			return s.Fail(i, "control character in a string"), Span{}
		case c == '\\':
			span.Plain = false
			if i+1 >= len(d) {
				return s.Fail(len(d), ""), Span{}
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if _, ok := Hex4(d[i+2:]); !ok {
					return s.Fail(i, "bad \\u escape"), Span{}
				}
				i += 6
			default:
				return s.Fail(i, "bad escape"), Span{}
			}
		case c >= utf8.RuneSelf:
			span.Plain = false
			i++
		default:
			i++
		}
	}
	return s.Fail(i, ""), Span{}
}

// Bytes is the span's raw bytes in the input (its value when Plain).
func (s *Scanner) Bytes(sp Span) []byte { return s.Data[sp.Start:sp.End] }

// Decoded appends the string's value to dst.
func (s *Scanner) Decoded(dst []byte, sp Span) []byte {
	raw := s.Data[sp.Start:sp.End]
	if sp.Plain {
		return append(dst, raw...)
	}
	return AppendUnquoted(dst, raw)
}

// Is reports whether the string is exactly name.
func (s *Scanner) Is(sp Span, name string) bool {
	if sp.Plain {
		return string(s.Data[sp.Start:sp.End]) == name
	}
	return string(s.Decoded(nil, sp)) == name
}
