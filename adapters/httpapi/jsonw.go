package httpapi

import (
	"encoding/binary"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"stockd/reservation"
)

// The hot replies (holds and errors) are written by appending to a byte
// slice instead of through encoding/json, byte for byte as
// json.NewEncoder(w).Encode wrote them: the same field order and omitted
// fields, strings escaped the same way (HTML-safe, U+2028/U+2029 escaped,
// invalid UTF-8 as \ufffd), times in RFC 3339 with nanoseconds, a newline
// at the end. jsonw_test.go compares the two.

// replyBufBytes is the stack buffer a reply is built in before it is copied
// into the response; larger replies grow onto the heap.
const replyBufBytes = 1024

// appendHoldReply appends the JSON of holdReply(h) and a newline.
func appendHoldReply(dst []byte, h *reservation.Hold) []byte {
	for _, a := range h.Allocations {
		if a.Line < 0 || a.Line >= len(h.Lines) {
			panic("httpapi: allocation names a line the hold does not have")
		}
	}
	dst = append(dst, `{"id":`...)
	dst = appendJSONString(dst, h.ID)
	dst = append(dst, `,"channel":`...)
	dst = appendJSONString(dst, h.Channel)
	dst = append(dst, `,"state":`...)
	dst = appendJSONString(dst, h.State.String())
	if h.Forced {
		dst = append(dst, `,"forced":true`...)
	}
	dst = append(dst, `,"lines":[`...)
	for i, ln := range h.Lines {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"sku":`...)
		dst = appendJSONString(dst, ln.SKU)
		dst = append(dst, `,"qty":`...)
		dst = strconv.AppendInt(dst, ln.Qty, 10)
		dst = append(dst, `,"allocations":[`...)
		first := true
		for _, a := range h.Allocations {
			if a.Line != i {
				continue
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = append(dst, `{"sku":`...)
			dst = appendJSONString(dst, a.SKU)
			dst = append(dst, `,"warehouse":`...)
			dst = appendJSONString(dst, a.Warehouse)
			dst = append(dst, `,"qty":`...)
			dst = strconv.AppendInt(dst, a.Qty, 10)
			if a.HandedOff {
				dst = append(dst, `,"handed_off":true`...)
			}
			dst = append(dst, '}')
		}
		dst = append(dst, "]}"...)
	}
	dst = append(dst, `],"created_at":`...)
	dst = appendJSONTime(dst, h.CreatedAt.UTC())
	dst = append(dst, `,"expires_at":`...)
	if h.ExpiresAt.IsZero() {
		dst = append(dst, "null"...)
	} else {
		dst = appendJSONTime(dst, h.ExpiresAt.UTC())
	}
	if ttl := int64(h.TTL / time.Second); ttl != 0 {
		dst = append(dst, `,"ttl_seconds":`...)
		dst = strconv.AppendInt(dst, ttl, 10)
	}
	return append(dst, "}\n"...)
}

// appendJSONTime appends t as time.Time.MarshalJSON does for the years a
// Unix-nanosecond time can have.
func appendJSONTime(dst []byte, t time.Time) []byte {
	dst = append(dst, '"')
	dst = t.AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"')
}

// appendErrorBody appends the JSON of errorBody{code, message, details}
// and a newline. It reports false, leaving dst as it was, when a detail
// value is of a type it does not write (encoding/json then does).
func appendErrorBody(dst []byte, code, message string, details map[string]any) ([]byte, bool) {
	start := len(dst)
	dst = append(dst, `{"error":`...)
	dst = appendJSONString(dst, code)
	dst = append(dst, `,"message":`...)
	dst = appendJSONString(dst, message)
	if len(details) > 0 {
		var keyBuf [4]string
		keys := keyBuf[:0]
		for k := range details {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, `,"details":{`...)
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, k)
			dst = append(dst, ':')
			var ok bool
			if dst, ok = appendDetail(dst, details[k]); !ok {
				return dst[:start], false
			}
		}
		dst = append(dst, '}')
	}
	return append(dst, "}\n"...), true
}

// appendDetail writes the detail values the API uses.
func appendDetail(dst []byte, v any) ([]byte, bool) {
	switch v := v.(type) {
	case string:
		return appendJSONString(dst, v), true
	case int:
		return strconv.AppendInt(dst, int64(v), 10), true
	case int64:
		return strconv.AppendInt(dst, v, 10), true
	case []shortageReply:
		if v == nil {
			return append(dst, "null"...), true
		}
		dst = append(dst, '[')
		for i, s := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"sku":`...)
			dst = appendJSONString(dst, s.SKU)
			dst = append(dst, `,"requested":`...)
			dst = strconv.AppendInt(dst, s.Requested, 10)
			dst = append(dst, `,"available":`...)
			dst = strconv.AppendInt(dst, s.Available, 10)
			dst = append(dst, '}')
		}
		return append(dst, ']'), true
	}
	return dst, false
}

// escapedIn reports whether any byte of w is not written as itself
// (quote, backslash, <, >, &, control) or is not ASCII.
func escapedIn(w uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	has := func(c byte) uint64 { x := w ^ (ones * uint64(c)); return (x - ones) &^ x }
	return (has('"')|has('\\')|has('<')|has('>')|has('&')|(w-ones*0x20)&^w|w)&highs != 0
}

// appendJSONString appends s as a JSON string exactly as encoding/json
// does with HTML escaping on.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		// eight plain bytes at a time
		for i+8 <= len(s) && !escapedIn(binary.LittleEndian.Uint64([]byte(s[i:i+8]))) {
			i += 8
		}
		if i >= len(s) {
			break
		}
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
