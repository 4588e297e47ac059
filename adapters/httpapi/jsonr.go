package httpapi

import (
	"errors"
	"fmt"
	"strings"
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

// jsonReader is the scanning state shared by the body readers.
type jsonReader struct {
	jsonscan.Scanner       // its Err is a syntax error: the body is refused with it
	first            error // the first type or field error, if the syntax is fine
}

// note keeps the first type or field error.
func (r *jsonReader) note(err error) {
	if r.first == nil {
		r.first = err
	}
}

// wrongType skips a value of the wrong JSON type and notes it as
// encoding/json does.
func (r *jsonReader) wrongType(i int, field, want string) int {
	r.note(&fieldError{Field: field, Reason: "wrong type: want " + want})
	return r.Skip(i)
}

// unknownKey notes an unknown or repeated key with the field name
// encoding/json's message gave.
func (r *jsonReader) unknownKey(s jsonscan.Span, repeated bool) {
	name := strings.Trim(fmt.Sprintf("%q", r.Decoded(nil, s)), `"`)
	if repeated {
		r.note(&fieldError{Field: name, Reason: "given more than once"})
		return
	}
	r.note(&fieldError{Field: name, Reason: "unknown field (fields are matched exactly)"})
}

// int64At reads a JSON value into an int64 as encoding/json does: null
// leaves it unchanged (ok false), an integer in range is stored, anything
// else is a type error on field.
func (r *jsonReader) int64At(i int, field string) (end int, v int64, ok bool) {
	if r.Lit(i, "null") {
		return i + 4, 0, false
	}
	c := r.Data[i]
	if c != '-' && (c < '0' || c > '9') {
		return r.wrongType(i, field, "int64"), 0, false
	}
	end, integral := r.Number(i)
	if r.Err != nil {
		return end, 0, false
	}
	digits := r.Data[i:end]
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

// reserveReader reads a ReserveBody: where each string is, decoded at the
// end into one allocation.
type reserveReader struct {
	jsonReader
	seen     uint8 // top-level keys met
	id, ch   jsonscan.Span
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
	sku jsonscan.Span
	qty int64
}

// decodeReserveBody reads a reserve body as encoding/json would into a
// ReserveBody with unknown fields disallowed.
func decodeReserveBody(body []byte) (ReserveBody, error) {
	r := reserveReader{jsonReader: jsonReader{Scanner: jsonscan.Scanner{Data: body}}}
	i := r.WS(0)
	switch {
	case i >= len(body):
		return ReserveBody{}, &syntaxError{jsonscan.ErrEnd}
	case body[i] == '{':
		i = r.Object(i, r.member)
	case r.Lit(i, "null"):
		i += 4
	default:
		i = r.Skip(i)
		r.note(&fieldError{Field: "body", Reason: "must be a JSON object"})
	}
	if r.Err != nil {
		return ReserveBody{}, &syntaxError{r.Err}
	}
	if r.first != nil {
		return ReserveBody{}, r.first
	}
	if r.WS(i) != len(body) {
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

func (r *reserveReader) member(key jsonscan.Span, i int) int {
	var bit uint8
	switch {
	case r.Is(key, "id"):
		bit = seenID
	case r.Is(key, "channel"):
		bit = seenChannel
	case r.Is(key, "lines"):
		bit = seenLines
	case r.Is(key, "ttl_seconds"):
		bit = seenTTL
	default:
		r.unknownKey(key, false)
		return r.Skip(i)
	}
	if r.seen&bit != 0 {
		r.unknownKey(key, true)
		return r.Skip(i)
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
func (r *reserveReader) stringAt(i int, field string, dst *jsonscan.Span) int {
	switch {
	case r.Lit(i, "null"):
		return i + 4
	case r.Data[i] != '"':
		return r.wrongType(i, field, "string")
	}
	i, *dst = r.Str(i)
	r.strBytes += int(dst.End - dst.Start)
	return i
}

func (r *reserveReader) linesAt(i int) int {
	switch {
	case r.Lit(i, "null"):
		return i + 4
	case r.Data[i] != '[':
		return r.wrongType(i, "lines", "[]httpapi.LineBody")
	}
	r.hasLines = true
	return r.Array(i, r.line)
}

// line reads one element of "lines" (null reads as an empty line).
func (r *reserveReader) line(i int) int {
	n := r.addLine()
	switch {
	case r.Lit(i, "null"):
		return i + 4
	case r.Data[i] != '{':
		return r.wrongType(i, "lines", "httpapi.LineBody")
	}
	var seen uint8
	return r.Object(i, func(key jsonscan.Span, i int) int {
		var bit uint8
		switch {
		case r.Is(key, "sku"):
			bit = 1
		case r.Is(key, "qty"):
			bit = 2
		default:
			r.unknownKey(key, false)
			return r.Skip(i)
		}
		if seen&bit != 0 {
			r.unknownKey(key, true)
			return r.Skip(i)
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
	text := func(s jsonscan.Span) string {
		if s.Start == s.End {
			return ""
		}
		start := len(buf)
		buf = r.Decoded(buf, s)
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
