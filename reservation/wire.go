package reservation

import (
	"encoding/binary"
	"fmt"
)

// Binary helpers shared by records and snapshots: varints and
// length-prefixed strings, decoded with a sticky error that says which
// field failed and where.

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, 1)
	}
	return append(dst, 0)
}

func appendStrings(dst []byte, ss []string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(ss)))
	for _, s := range ss {
		dst = appendString(dst, s)
	}
	return dst
}

type reader struct {
	buf  []byte
	off  int
	err  error
	base error // ErrInvalidRecord or ErrInvalidSnapshot
}

func (r *reader) fail(field, reason string) {
	if r.err == nil {
		r.err = &RecordError{Offset: r.off, Field: field, Reason: reason, base: r.base}
	}
}

func (r *reader) failf(field, format string, args ...any) {
	r.fail(field, fmt.Sprintf(format, args...))
}

func (r *reader) uvarint(field string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.buf[r.off:])
	if n <= 0 {
		r.fail(field, "truncated or overlong varint")
		return 0
	}
	r.off += n
	return v
}

func (r *reader) varint(field string) int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.buf[r.off:])
	if n <= 0 {
		r.fail(field, "truncated or overlong varint")
		return 0
	}
	r.off += n
	return v
}

// uint reads a uvarint in [lo, hi].
func (r *reader) uint(field string, lo, hi uint64) uint64 {
	v := r.uvarint(field)
	if r.err == nil && (v < lo || v > hi) {
		r.failf(field, "%d out of range [%d, %d]", v, lo, hi)
		return 0
	}
	return v
}

// int reads a varint in [lo, hi].
func (r *reader) int(field string, lo, hi int64) int64 {
	v := r.varint(field)
	if r.err == nil && (v < lo || v > hi) {
		r.failf(field, "%d out of range [%d, %d]", v, lo, hi)
		return 0
	}
	return v
}

func (r *reader) byte(field string) byte {
	if r.err != nil {
		return 0
	}
	if r.off >= len(r.buf) {
		r.fail(field, "truncated")
		return 0
	}
	b := r.buf[r.off]
	r.off++
	return b
}

func (r *reader) bool(field string) bool {
	b := r.byte(field)
	if b > 1 {
		r.failf(field, "boolean byte %d", b)
	}
	return b == 1
}

// str reads a length-prefixed string of minLen..maxLen bytes.
func (r *reader) str(field string, minLen, maxLen int) string {
	n := int(r.uint(field, uint64(minLen), uint64(maxLen)))
	if r.err != nil {
		return ""
	}
	if len(r.buf)-r.off < n {
		r.fail(field, "truncated string")
		return ""
	}
	s := string(r.buf[r.off : r.off+n])
	r.off += n
	return s
}

// count reads a list length, bounded by maxN and by the bytes left (each
// element takes at least minBytes), so a corrupt count cannot make the
// decoder allocate much.
func (r *reader) count(field string, maxN, minBytes int) int {
	n := int(r.uint(field, 0, uint64(maxN)))
	if r.err == nil && n*minBytes > len(r.buf)-r.off {
		r.failf(field, "count %d larger than the bytes left", n)
		return 0
	}
	return n
}

func (r *reader) strings(field string, maxN, maxLen int) []string {
	n := r.count(field, maxN, 2)
	if n == 0 {
		return nil
	}
	out := make([]string, 0, n)
	for range n {
		out = append(out, r.str(field, 1, maxLen))
	}
	return out
}

func (r *reader) done(field string) {
	if r.err == nil && r.off != len(r.buf) {
		r.failf(field, "%d trailing bytes", len(r.buf)-r.off)
	}
}
