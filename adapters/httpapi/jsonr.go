package httpapi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"unicode/utf8"
	"unsafe"

	"stockd/reservation/jsonscan"
)

// The reserve body is read by a single pass over its JSON text instead of
// encoding/json, with the same results and errors: what encoding/json
// would have stored in a ReserveBody, the first type error or unknown
// field in document order as a 422 naming the field (with the same field
// path and wording), any syntax error or data after the body as a 400.
// Two deliberate differences, for keys encoding/json matches loosely:
// keys are matched exactly (encoding/json also takes "ID" or "Qty"), and a
// key repeated in one object is refused (encoding/json keeps the last
// value, merging into earlier lines).

// maxJSONDepth is encoding/json's nesting limit, kept so that the same
// bodies are refused.
const maxJSONDepth = 10000

var errJSONEnd = errors.New("unexpected end of JSON input")

// strSpan is a string value: the bytes between its quotes in the input;
// plain when they need no decoding (no escapes, ASCII only).
type strSpan struct {
	start, end int32
	plain      bool
}

// jsonReader is the scanning state shared by the body readers.
type jsonReader struct {
	data   []byte
	depth  int
	syntax error // a syntax error: the body is refused with it
	first  error // the first type or field error, if the syntax is fine
}

func (r *jsonReader) fail(i int, format string, args ...any) int {
	if r.syntax == nil {
		if i >= len(r.data) {
			r.syntax = errJSONEnd
		} else {
			r.syntax = fmt.Errorf("invalid JSON at byte %d: "+format, append([]any{i}, args...)...)
		}
	}
	return len(r.data)
}

// note keeps the first type or field error.
func (r *jsonReader) note(err error) {
	if r.first == nil {
		r.first = err
	}
}

func (r *jsonReader) ws(i int) int {
	for i < len(r.data) {
		switch r.data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func (r *jsonReader) lit(i int, word string) bool {
	return len(r.data)-i >= len(word) && string(r.data[i:i+len(word)]) == word
}

// wrongType skips a value of the wrong JSON type and notes it as
// encoding/json does.
func (r *jsonReader) wrongType(i int, field, want string) int {
	r.note(&fieldError{Field: field, Reason: "wrong type: want " + want})
	return r.skip(i)
}

// unknownKey notes an unknown or repeated key with the field name
// encoding/json's message gave.
func (r *jsonReader) unknownKey(s strSpan, repeated bool) {
	name := strings.Trim(fmt.Sprintf("%q", r.decoded(nil, s)), `"`)
	if repeated {
		r.note(&fieldError{Field: name, Reason: "given more than once"})
		return
	}
	r.note(&fieldError{Field: name, Reason: "unknown field (fields are matched exactly)"})
}

// object calls member for each `"key": value` of the object at data[i] ==
// '{' (member reads the value and returns the index after it) and returns
// the index after the object.
func (r *jsonReader) object(i int, member func(key strSpan, i int) int) int {
	r.depth++
	if r.depth > maxJSONDepth {
		return r.fail(i, "exceeded max depth")
	}
	i = r.ws(i + 1)
	if i < len(r.data) && r.data[i] == '}' {
		r.depth--
		return i + 1
	}
	for r.syntax == nil {
		if i >= len(r.data) || r.data[i] != '"' {
			return r.fail(i, "want a key")
		}
		var key strSpan
		i, key = r.str(i)
		i = r.ws(i)
		if i >= len(r.data) || r.data[i] != ':' {
			return r.fail(i, "want : after a key")
		}
		i = r.ws(i + 1)
		if i >= len(r.data) {
			return r.fail(i, "")
		}
		i = r.ws(member(key, i))
		switch {
		case i >= len(r.data):
			return r.fail(i, "")
		case r.data[i] == ',':
			i = r.ws(i + 1)
		case r.data[i] == '}':
			r.depth--
			return i + 1
		default:
			return r.fail(i, "want , or } after a value")
		}
	}
	return len(r.data)
}

// array calls elem at each value of the array at data[i] == '['.
func (r *jsonReader) array(i int, elem func(int) int) int {
	r.depth++
	if r.depth > maxJSONDepth {
		return r.fail(i, "exceeded max depth")
	}
	i = r.ws(i + 1)
	if i < len(r.data) && r.data[i] == ']' {
		r.depth--
		return i + 1
	}
	for r.syntax == nil {
		if i >= len(r.data) {
			return r.fail(i, "")
		}
		i = r.ws(elem(i))
		switch {
		case i >= len(r.data):
			return r.fail(i, "")
		case r.data[i] == ',':
			i = r.ws(i + 1)
		case r.data[i] == ']':
			r.depth--
			return i + 1
		default:
			return r.fail(i, "want , or ] after a value")
		}
	}
	return len(r.data)
}

// skip checks the syntax of any value at data[i] and returns the index
// after it.
func (r *jsonReader) skip(i int) int {
	if i >= len(r.data) {
		return r.fail(i, "")
	}
	switch c := r.data[i]; {
	case c == '"':
		i, _ = r.str(i)
		return i
	case c == '-' || c >= '0' && c <= '9':
		i, _ = r.number(i)
		return i
	case c == '{':
		return r.object(i, func(_ strSpan, i int) int { return r.skip(i) })
	case c == '[':
		return r.array(i, r.skip)
	case r.lit(i, "true"):
		return i + 4
	case r.lit(i, "false"):
		return i + 5
	case r.lit(i, "null"):
		return i + 4
	}
	return r.fail(i, "unexpected %q", r.data[i])
}

// number checks -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? at data[i];
// integral reports that it has neither fraction nor exponent.
func (r *jsonReader) number(i int) (end int, integral bool) {
	d := r.data
	if d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		return r.fail(i, "bad number"), false
	}
	integral = true
	if i < len(d) && d[i] == '.' {
		integral = false
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return r.fail(i, "bad number"), false
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		integral = false
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return r.fail(i, "bad number"), false
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	return i, integral
}

// int64At reads a JSON value into an int64 as encoding/json does: null
// leaves it unchanged (ok false), an integer in range is stored, anything
// else is a type error on field.
func (r *jsonReader) int64At(i int, field string) (end int, v int64, ok bool) {
	if r.lit(i, "null") {
		return i + 4, 0, false
	}
	c := r.data[i]
	if c != '-' && (c < '0' || c > '9') {
		return r.wrongType(i, field, "int64"), 0, false
	}
	end, integral := r.number(i)
	if r.syntax != nil {
		return end, 0, false
	}
	digits := r.data[i:end]
	neg := digits[0] == '-'
	if neg {
		digits = digits[1:]
	}
	var u uint64
	for _, d := range digits {
		if !integral || u > (1<<63)/10 {
			integral = false
			break
		}
		u = u*10 + uint64(d-'0')
	}
	if !integral || u > 1<<63 || (!neg && u == 1<<63) {
		r.note(&fieldError{Field: field, Reason: "wrong type: want int64"})
		return end, 0, false
	}
	if neg {
		return end, -int64(u), true
	}
	return end, int64(u), true
}

// str checks the string at data[i] == '"' and returns the index after its
// closing quote and its span (empty when the string is malformed).
func (r *jsonReader) str(i int) (int, strSpan) {
	d := r.data
	i++
	span := strSpan{start: int32(i), plain: true}
	for i < len(d) {
		// eight bytes at a time up to the first that is not plain
		for i+8 <= len(d) {
			if m := jsonscan.SpecialMask(binary.LittleEndian.Uint64(d[i:])); m != 0 {
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
			span.end = int32(i)
			return i + 1, span
		case c < 0x20:
			return r.fail(i, "control character in a string"), strSpan{}
		case c == '\\':
			span.plain = false
			if i+1 >= len(d) {
				return r.fail(len(d), ""), strSpan{}
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if _, ok := jsonscan.Hex4(d[i+2:]); !ok {
					return r.fail(i, "bad \\u escape"), strSpan{}
				}
				i += 6
			default:
				return r.fail(i, "bad escape"), strSpan{}
			}
		case c >= utf8.RuneSelf:
			span.plain = false
			i++
		default:
			i++
		}
	}
	return r.fail(i, ""), strSpan{}
}

// is reports whether the string is exactly name.
func (r *jsonReader) is(s strSpan, name string) bool {
	if s.plain {
		return string(r.data[s.start:s.end]) == name
	}
	return string(r.decoded(nil, s)) == name
}

// decoded appends the string's value to dst.
func (r *jsonReader) decoded(dst []byte, s strSpan) []byte {
	raw := r.data[s.start:s.end]
	if s.plain {
		return append(dst, raw...)
	}
	return jsonscan.AppendUnquoted(dst, raw)
}

// reserveReader reads a ReserveBody: where each string is, decoded at the
// end into one allocation.
type reserveReader struct {
	jsonReader
	seen     uint8 // top-level keys met
	id, ch   strSpan
	hasTTL   bool
	ttl      int64
	hasLines bool // "lines" had an array
	nLines   int
	inline   [8]lineSpan // the first lines; the rest in more
	more     []lineSpan
	strBytes int
}

// addLine appends an empty line and returns its index.
func (r *reserveReader) addLine() int {
	if r.nLines >= len(r.inline) {
		r.more = append(r.more, lineSpan{})
	}
	r.nLines++
	return r.nLines - 1
}

func (r *reserveReader) lineAt(i int) *lineSpan {
	if i < len(r.inline) {
		return &r.inline[i]
	}
	return &r.more[i-len(r.inline)]
}

type lineSpan struct {
	sku strSpan
	qty int64
}

// decodeReserveBody reads a reserve body as encoding/json would into a
// ReserveBody with unknown fields disallowed.
func decodeReserveBody(body []byte) (ReserveBody, error) {
	r := reserveReader{jsonReader: jsonReader{data: body}}
	i := r.ws(0)
	switch {
	case i >= len(body):
		return ReserveBody{}, &syntaxError{errJSONEnd}
	case body[i] == '{':
		i = r.object(i, r.member)
	case r.lit(i, "null"):
		i += 4
	default:
		i = r.skip(i)
		r.note(&fieldError{Field: "body", Reason: "must be a JSON object"})
	}
	if r.syntax != nil {
		return ReserveBody{}, &syntaxError{r.syntax}
	}
	if r.first != nil {
		return ReserveBody{}, r.first
	}
	if r.ws(i) != len(body) {
		return ReserveBody{}, &syntaxError{errors.New("trailing data after the JSON value")}
	}
	return r.body(), nil
}

const (
	seenID = 1 << iota
	seenChannel
	seenLines
	seenTTL
)

func (r *reserveReader) member(key strSpan, i int) int {
	var bit uint8
	switch {
	case r.is(key, "id"):
		bit = seenID
	case r.is(key, "channel"):
		bit = seenChannel
	case r.is(key, "lines"):
		bit = seenLines
	case r.is(key, "ttl_seconds"):
		bit = seenTTL
	default:
		r.unknownKey(key, false)
		return r.skip(i)
	}
	if r.seen&bit != 0 {
		r.unknownKey(key, true)
		return r.skip(i)
	}
	r.seen |= bit
	switch bit {
	case seenID:
		return r.stringAt(i, "id", &r.id)
	case seenChannel:
		return r.stringAt(i, "channel", &r.ch)
	case seenTTL:
		var end int
		end, r.ttl, r.hasTTL = r.int64At(i, "ttl_seconds")
		return end
	}
	return r.linesAt(i)
}

// stringAt reads a string field (null leaves it empty).
func (r *reserveReader) stringAt(i int, field string, dst *strSpan) int {
	switch {
	case r.lit(i, "null"):
		return i + 4
	case r.data[i] != '"':
		return r.wrongType(i, field, "string")
	}
	i, *dst = r.str(i)
	r.strBytes += int(dst.end - dst.start)
	return i
}

func (r *reserveReader) linesAt(i int) int {
	switch {
	case r.lit(i, "null"):
		return i + 4
	case r.data[i] != '[':
		return r.wrongType(i, "lines", "[]httpapi.LineBody")
	}
	r.hasLines = true
	return r.array(i, r.line)
}

// line reads one element of "lines" (null reads as an empty line).
func (r *reserveReader) line(i int) int {
	n := r.addLine()
	switch {
	case r.lit(i, "null"):
		return i + 4
	case r.data[i] != '{':
		return r.wrongType(i, "lines", "httpapi.LineBody")
	}
	var seen uint8
	return r.object(i, func(key strSpan, i int) int {
		var bit uint8
		switch {
		case r.is(key, "sku"):
			bit = 1
		case r.is(key, "qty"):
			bit = 2
		default:
			r.unknownKey(key, false)
			return r.skip(i)
		}
		if seen&bit != 0 {
			r.unknownKey(key, true)
			return r.skip(i)
		}
		seen |= bit
		if bit == 1 {
			return r.stringAt(i, "lines.sku", &r.lineAt(n).sku)
		}
		end, q, ok := r.int64At(i, "lines.qty")
		if ok {
			r.lineAt(n).qty = q
		}
		return end
	})
}

// body decodes the strings into one allocation and builds the ReserveBody.
func (r *reserveReader) body() ReserveBody {
	buf := make([]byte, 0, r.strBytes)
	text := func(s strSpan) string {
		if s.start == s.end {
			return ""
		}
		start := len(buf)
		buf = r.decoded(buf, s)
		return unsafe.String(&buf[start], len(buf)-start)
	}
	rb := ReserveBody{ID: text(r.id), Channel: text(r.ch)}
	if r.hasLines {
		rb.Lines = make([]LineBody, r.nLines)
		for i := range rb.Lines {
			ln := r.lineAt(i)
			rb.Lines[i] = LineBody{SKU: text(ln.sku), Qty: ln.qty}
		}
	}
	if r.hasTTL {
		ttl := r.ttl
		rb.TTLSeconds = &ttl
	}
	return rb
}
