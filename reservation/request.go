package reservation

import (
	"encoding/json"
	"fmt"
	"time"
)

type reserveJSON struct {
	ID         *string         `json:"id"`
	Channel    *string         `json:"channel"`
	Lines      *[]lineJSON     `json:"lines"`
	TTLSeconds json.RawMessage `json:"ttl_seconds"`
}

type lineJSON struct {
	SKU *string         `json:"sku"`
	Qty json.RawMessage `json:"qty"`
}

// DecodeReserveRequest decodes the body of POST /v1/reservations:
// {"id","channel","lines":[{"sku","qty"}],"ttl_seconds"}. Unknown fields
// are rejected; id, channel and at least one line are required; qty is an
// integer ≥ 1; ttl_seconds is optional (0 = the default). The ledger's
// configured limits are checked by Reserve. Errors unwrap to
// ErrInvalidRequest and name the field.
func DecodeReserveRequest(data []byte) (ReserveRequest, error) {
	var raw reserveJSON
	if err := decodeStrict(data, &raw); err != nil {
		return ReserveRequest{}, requestErr("body", err.Error())
	}
	req := ReserveRequest{ID: deref(raw.ID), Channel: deref(raw.Channel)}
	if req.ID == "" || len(req.ID) > MaxIDBytes {
		return ReserveRequest{}, requestErr("id", fmt.Sprintf("required, at most %d bytes", MaxIDBytes))
	}
	if req.Channel == "" || len(req.Channel) > MaxIDBytes {
		return ReserveRequest{}, requestErr("channel", fmt.Sprintf("required, at most %d bytes", MaxIDBytes))
	}
	lines := nonEmpty(raw.Lines)
	if len(lines) == 0 || len(lines) > MaxDecodedLines {
		return ReserveRequest{}, requestErr("lines", fmt.Sprintf("1..%d lines are required", MaxDecodedLines))
	}
	req.Lines = make([]Line, 0, len(lines))
	for i, ln := range lines {
		field := fmt.Sprintf("lines[%d]", i)
		if ln.SKU == nil || *ln.SKU == "" || len(*ln.SKU) > MaxSKUBytes {
			return ReserveRequest{}, requestErr(field+".sku", fmt.Sprintf("required, at most %d bytes", MaxSKUBytes))
		}
		if isAbsent(ln.Qty) {
			return ReserveRequest{}, requestErr(field+".qty", "required")
		}
		q, err := parseUint(ln.Qty, MaxDecodedQty)
		if err != nil || q < 1 {
			return ReserveRequest{}, requestErr(field+".qty", fmt.Sprintf("must be an integer 1..%d", MaxDecodedQty))
		}
		req.Lines = append(req.Lines, Line{SKU: *ln.SKU, Qty: int64(q)})
	}
	if !isAbsent(raw.TTLSeconds) {
		ttl, err := parseUint(raw.TTLSeconds, MaxTTLSeconds)
		if err != nil {
			return ReserveRequest{}, requestErr("ttl_seconds", err.Error())
		}
		req.TTL = time.Duration(ttl) * time.Second
	}
	return req, nil
}
