package reservation

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Sentinel errors. Rich errors below unwrap to one of these.
var (
	// ErrInsufficientStock: a hold asked for more than the channel can give.
	ErrInsufficientStock = errors.New("reservation: insufficient stock")
	// ErrIdempotencyConflict: a hold id already exists with another body.
	ErrIdempotencyConflict = errors.New("reservation: idempotency conflict")
	// ErrHoldNotFound: no hold has this id (or it left the replay window).
	ErrHoldNotFound = errors.New("reservation: hold not found")
	// ErrHoldNotActive: the hold was released or expired.
	ErrHoldNotActive = errors.New("reservation: hold not active")
	// ErrHoldHandedOff: the hold's stock now belongs to 1C.
	ErrHoldHandedOff = errors.New("reservation: hold handed off")
	// ErrUnknownChannel: the channel is not configured.
	ErrUnknownChannel = errors.New("reservation: unknown channel")
	// ErrInvalidRequest: a command is malformed (see RequestError).
	ErrInvalidRequest = errors.New("reservation: invalid request")
	// ErrLimitExceeded: a named limit was reached (see LimitError).
	ErrLimitExceeded = errors.New("reservation: limit exceeded")
	// ErrInvalidEvent: a 1C event is malformed or cannot be applied (see EventError).
	ErrInvalidEvent = errors.New("reservation: invalid event")
	// ErrInvalidRecord: a journal record is malformed (see RecordError).
	ErrInvalidRecord = errors.New("reservation: invalid record")
	// ErrRecordOutOfOrder: a replayed record's Seq is not the next one.
	ErrRecordOutOfOrder = errors.New("reservation: record out of order")
	// ErrReplayDiverged: replaying a record did not give the recorded outcome.
	ErrReplayDiverged = errors.New("reservation: replay diverged")
	// ErrInvalidSnapshot: a snapshot is malformed or inconsistent.
	ErrInvalidSnapshot = errors.New("reservation: invalid snapshot")
	// ErrInvalidConfig: the ledger configuration is inconsistent.
	ErrInvalidConfig = errors.New("reservation: invalid config")
)

// InsufficientError lists, per requested line, what was asked and what the
// channel had (a kit line reports the kit's availability).
type InsufficientError struct {
	Lines []LineShortage
}

// LineShortage is one line of an InsufficientError.
type LineShortage struct {
	SKU       string
	Requested int64
	Available int64
}

func (e *InsufficientError) Error() string {
	var b strings.Builder
	b.WriteString(ErrInsufficientStock.Error())
	for i, l := range e.Lines {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s requested %d available %d", l.SKU, l.Requested, l.Available)
	}
	return b.String()
}

// Unwrap returns ErrInsufficientStock.
func (e *InsufficientError) Unwrap() error { return ErrInsufficientStock }

// LimitError names the limit that was reached.
type LimitError struct {
	Name  string // e.g. "MaxLinesPerHold"
	Limit int64
	Got   int64
	Key   string // the SKU or hold the limit applies to, if any
}

func (e *LimitError) Error() string {
	if e.Key != "" {
		return fmt.Sprintf("%v: %s=%d reached (%d) for %q", ErrLimitExceeded, e.Name, e.Limit, e.Got, e.Key)
	}
	return fmt.Sprintf("%v: %s=%d reached (%d)", ErrLimitExceeded, e.Name, e.Limit, e.Got)
}

// Unwrap returns ErrLimitExceeded.
func (e *LimitError) Unwrap() error { return ErrLimitExceeded }

// RequestError says which field of a command is wrong.
type RequestError struct {
	Field  string
	Reason string
}

func (e *RequestError) Error() string {
	return fmt.Sprintf("%v: %s: %s", ErrInvalidRequest, e.Field, e.Reason)
}

// Unwrap returns ErrInvalidRequest.
func (e *RequestError) Unwrap() error { return ErrInvalidRequest }

// EventError says which field of a 1C event is wrong, for the DLQ header.
type EventError struct {
	Field  string
	Reason string
}

func (e *EventError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%v: %s", ErrInvalidEvent, e.Reason)
	}
	return fmt.Sprintf("%v: %s: %s", ErrInvalidEvent, e.Field, e.Reason)
}

// Unwrap returns ErrInvalidEvent.
func (e *EventError) Unwrap() error { return ErrInvalidEvent }

// RecordError says where a journal record or snapshot failed to decode.
type RecordError struct {
	Offset int    // byte offset in the input
	Field  string // what was being read
	Reason string
	base   error // ErrInvalidRecord or ErrInvalidSnapshot
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("%v: %s at byte %d: %s", e.base, e.Field, e.Offset, e.Reason)
}

// Unwrap returns ErrInvalidRecord or ErrInvalidSnapshot.
func (e *RecordError) Unwrap() error { return e.base }

func requestErr(field, reason string) error { return &RequestError{Field: field, Reason: reason} }

func eventErr(field, reason string) error { return &EventError{Field: field, Reason: reason} }

// maxQuotedInput bounds how much of an input's text an error quotes: a
// message made of a megabyte "type" must not make a megabyte reason (it
// travels in a DLQ header and in HTTP replies).
const maxQuotedInput = 64

// quoteInput quotes text from an input for an error message, at most
// maxQuotedInput bytes of it (cut at a character boundary), with its
// length when it was cut.
func quoteInput[T ~string | ~[]byte](text T) string {
	s := string(text)
	if len(s) <= maxQuotedInput {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("%s… (%d bytes)", strconv.Quote(CutText(s, maxQuotedInput)), len(s))
}

// CutText is the longest prefix of s of at most n bytes that ends on a
// character boundary (s itself when it is not longer).
func CutText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := max(n, 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

func limitErr(name string, limit, got int64, key string) error {
	return &LimitError{Name: name, Limit: limit, Got: got, Key: key}
}

// assert panics when an internal invariant does not hold: a bug, never an
// operating error.
func assert(ok bool, msg string) {
	if !ok {
		panic("reservation: invariant violated: " + msg)
	}
}
