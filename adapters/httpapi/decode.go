package httpapi

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"stockd/reservation"
)

// Request bounds checked by the decoder; the ledger checks its own limits
// (lines per hold, qty per line) again and names them in its errors.
const (
	MaxHoldIDBytes  = 128 // a hold id (the checkout's order id)
	MaxSKUBytes     = 80  // a 1C offer id, "guid#guid" is 73
	MaxChannelBytes = 64
	MaxTTLSeconds   = 7 * 24 * 3600
)

// ReserveBody is the body of POST /v1/reservations. Unknown fields are
// rejected, so a misspelt "ttl_seconds" is an error, not a default.
type ReserveBody struct {
	ID         string     `json:"id"`
	Channel    string     `json:"channel"`
	Lines      []LineBody `json:"lines"`
	TTLSeconds *int64     `json:"ttl_seconds,omitempty"`
}

// LineBody is one requested line.
type LineBody struct {
	SKU string `json:"sku"`
	Qty int64  `json:"qty"`
}

// ConfirmBody is the optional body of POST /v1/reservations/{id}/confirm.
type ConfirmBody struct {
	TTLSeconds *int64 `json:"ttl_seconds,omitempty"`
}

// BatchBody is the body of POST /v1/availability:batch.
type BatchBody struct {
	SKUs    []string `json:"skus"`
	Channel string   `json:"channel"`
}

// fieldError is a 422: the JSON was well formed but a value is not.
type fieldError struct {
	Field  string
	Reason string
}

func (e *fieldError) Error() string { return e.Field + ": " + e.Reason }

// syntaxError is a 400: the body is not the JSON object expected.
type syntaxError struct{ err error }

func (e *syntaxError) Error() string { return "malformed JSON: " + e.err.Error() }

// decodeStrict decodes exactly one JSON value with no unknown fields.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			if typeErr.Field == "" {
				return &fieldError{Field: "body", Reason: "must be a JSON object"}
			}
			return &fieldError{Field: typeErr.Field, Reason: "wrong type: want " + typeErr.Type.String()}
		}
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return &fieldError{Field: strings.Trim(name, `"`), Reason: "unknown field (fields are matched exactly)"}
		}
		return &syntaxError{err}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &syntaxError{errors.New("trailing data after the JSON value")}
	}
	return nil
}

// decodeExact is decodeStrict with the API's rules for keys, which
// encoding/json does not keep: a key of the body object must name a field
// exactly (encoding/json also takes "TTL_SECONDS"), and once (it keeps the
// last of two). keys are the object's field names.
func decodeExact(body []byte, v any, keys ...string) error {
	if err := decodeStrict(body, v); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil // null: decodeStrict took it as no fields
	}
	var seen uint64
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return &syntaxError{err}
		}
		key, _ := tok.(string)
		i := slices.Index(keys, key)
		switch {
		case i < 0:
			return &fieldError{Field: key, Reason: "unknown field (fields are matched exactly)"}
		case seen&(1<<i) != 0:
			return &fieldError{Field: key, Reason: "given more than once"}
		}
		seen |= 1 << i
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return &syntaxError{err}
		}
	}
	return nil
}

// DecodeReserve decodes and checks a reserve body. Field names are
// matched exactly and a field given twice is refused.
func DecodeReserve(body []byte, maxLines int) (ReserveBody, error) {
	rb, err := decodeReserveBody(body)
	if err != nil {
		return ReserveBody{}, err
	}
	return checkReserve(rb, maxLines)
}

// checkReserve checks a decoded reserve body's values.
func checkReserve(rb ReserveBody, maxLines int) (ReserveBody, error) {
	if err := checkID("id", rb.ID, MaxHoldIDBytes); err != nil {
		return ReserveBody{}, err
	}
	if err := checkID("channel", rb.Channel, MaxChannelBytes); err != nil {
		return ReserveBody{}, err
	}
	if len(rb.Lines) == 0 {
		return ReserveBody{}, &fieldError{"lines", "at least one line is required"}
	}
	if len(rb.Lines) > maxLines {
		// the ledger's limit, refused before it is asked: the same answer
		// (422 limit_exceeded) as from the ledger
		return ReserveBody{}, &reservation.LimitError{Name: "MaxLinesPerHold", Limit: int64(maxLines),
			Got: int64(len(rb.Lines)), Key: rb.ID}
	}
	for i, ln := range rb.Lines {
		if reason, ok := idProblem(ln.SKU, MaxSKUBytes); !ok {
			return ReserveBody{}, &fieldError{fmt.Sprintf("lines[%d].sku", i), reason}
		}
		if ln.Qty <= 0 {
			return ReserveBody{}, &fieldError{fmt.Sprintf("lines[%d].qty", i), "must be a positive whole number"}
		}
	}
	if err := checkTTL(rb.TTLSeconds); err != nil {
		return ReserveBody{}, err
	}
	return rb, nil
}

// DecodeConfirm decodes an optional confirm body (empty means no ttl).
func DecodeConfirm(body []byte) (ConfirmBody, error) {
	var cb ConfirmBody
	if len(bytes.TrimSpace(body)) == 0 {
		return cb, nil
	}
	if err := decodeExact(body, &cb, "ttl_seconds"); err != nil {
		return ConfirmBody{}, err
	}
	return cb, checkTTL(cb.TTLSeconds)
}

// DecodeBatch decodes and checks an availability batch body.
func DecodeBatch(body []byte, maxSKUs int) (BatchBody, error) {
	var bb BatchBody
	if err := decodeExact(body, &bb, "skus", "channel"); err != nil {
		return BatchBody{}, err
	}
	if bb.Channel != "" {
		if err := checkID("channel", bb.Channel, MaxChannelBytes); err != nil {
			return BatchBody{}, err
		}
	}
	if len(bb.SKUs) == 0 || len(bb.SKUs) > maxSKUs {
		return BatchBody{}, &fieldError{"skus", fmt.Sprintf("1 to %d SKUs (MaxBatchSKUs), got %d", maxSKUs, len(bb.SKUs))}
	}
	for i, sku := range bb.SKUs {
		if err := checkID(fmt.Sprintf("skus[%d]", i), sku, MaxSKUBytes); err != nil {
			return BatchBody{}, err
		}
	}
	return bb, nil
}

func checkID(field, v string, maxBytes int) error {
	if reason, ok := idProblem(v, maxBytes); !ok {
		return &fieldError{field, reason}
	}
	return nil
}

// idProblem says what is wrong with an id, SKU or channel, if anything.
func idProblem(v string, maxBytes int) (reason string, ok bool) {
	switch {
	case v == "":
		return "is required", false
	case len(v) > maxBytes:
		return fmt.Sprintf("%d bytes, at most %d", len(v), maxBytes), false
	}
	// skip the plain ASCII prefix eight bytes at a time
	i := 0
	for i+8 <= len(v) && !controlOrWide(binary.LittleEndian.Uint64([]byte(v[i:i+8]))) {
		i += 8
	}
	for i < len(v) && v[i] >= 0x20 && v[i] < 0x7f {
		i++
	}
	if i == len(v) {
		return "", true
	}
	if !utf8.ValidString(v) {
		return "is not valid UTF-8", false
	}
	for _, r := range v[i:] {
		if r < 0x20 || r == 0x7f {
			return "contains a control character", false
		}
	}
	return "", true
}

// controlOrWide reports whether any byte of w is below 0x20, 0x7f or not
// ASCII.
func controlOrWide(w uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	del := w ^ (ones * 0x7f)
	return ((w-ones*0x20)&^w|(del-ones)&^del|w)&highs != 0
}

func checkTTL(ttl *int64) error {
	if ttl != nil && (*ttl < 0 || *ttl > MaxTTLSeconds) {
		return &fieldError{"ttl_seconds", fmt.Sprintf("must be 0..%d", MaxTTLSeconds)}
	}
	return nil
}

// ttlOf converts an optional ttl_seconds.
func ttlOf(ttl *int64) time.Duration {
	if ttl == nil {
		return 0
	}
	return time.Duration(*ttl) * time.Second
}
