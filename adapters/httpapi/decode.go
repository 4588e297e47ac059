package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
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

// DecodeReserve decodes and checks a reserve body.
func DecodeReserve(body []byte, maxLines int) (ReserveBody, error) {
	var rb ReserveBody
	if err := decodeStrict(body, &rb); err != nil {
		return ReserveBody{}, err
	}
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
		return ReserveBody{}, &fieldError{"lines", fmt.Sprintf("%d lines, at most %d (MaxLinesPerHold)", len(rb.Lines), maxLines)}
	}
	for i, ln := range rb.Lines {
		if err := checkID(fmt.Sprintf("lines[%d].sku", i), ln.SKU, MaxSKUBytes); err != nil {
			return ReserveBody{}, err
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
	if err := decodeStrict(body, &cb); err != nil {
		return ConfirmBody{}, err
	}
	return cb, checkTTL(cb.TTLSeconds)
}

// DecodeBatch decodes and checks an availability batch body.
func DecodeBatch(body []byte, maxSKUs int) (BatchBody, error) {
	var bb BatchBody
	if err := decodeStrict(body, &bb); err != nil {
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
	switch {
	case v == "":
		return &fieldError{field, "is required"}
	case len(v) > maxBytes:
		return &fieldError{field, fmt.Sprintf("%d bytes, at most %d", len(v), maxBytes)}
	case !utf8.ValidString(v):
		return &fieldError{field, "is not valid UTF-8"}
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return &fieldError{field, "contains a control character"}
		}
	}
	return nil
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
