package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/valyala/fasthttp"

	"stockd/reservation"
)

// MaxEventsPerRequest bounds the events of one POST /v1/events.
const MaxEventsPerRequest = 10000

// ErrEventsUnavailable means events cannot be produced (no Kafka configured
// or the broker refused); the client retries later.
var ErrEventsUnavailable = errors.New("httpapi: events cannot be produced now")

// EventProducer is the part of the backend behind POST /v1/events.
type EventProducer interface {
	// ProduceEvents writes the events (raw JSON as validated, decoded form
	// beside it) to onec.events and returns once every in-sync replica has
	// them (acks=all).
	ProduceEvents(ctx context.Context, raw [][]byte, events []reservation.Event) error
}

// EventChecker, when the EventProducer implements it, checks each decoded
// event further before any is produced (the engine refuses an event dated
// too far after its clock); an error refuses the event as a decoding
// error does.
type EventChecker interface {
	CheckEvent(ev *reservation.Event) error
}

// eventError is one refused event of a request.
type eventError struct {
	Index   int    `json:"index"`
	ID      string `json:"id,omitempty"`
	Message string `json:"message"`
}

// EventsReply is the 202 reply.
type EventsReply struct {
	Accepted int `json:"accepted"`
}

// splitEvents reads a JSON array or NDJSON (one event per line; blank
// lines ignored) into raw events.
func splitEvents(body []byte) ([][]byte, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, &fieldError{"body", "no events"}
	}
	var raws [][]byte
	if trimmed[0] == '[' {
		var arr []json.RawMessage
		if err := json.Unmarshal(trimmed, &arr); err != nil {
			return nil, &syntaxError{err}
		}
		for _, r := range arr {
			raws = append(raws, r)
		}
	} else {
		for line := range bytes.SplitSeq(trimmed, []byte("\n")) {
			if line = bytes.TrimSpace(line); len(line) > 0 {
				raws = append(raws, line)
			}
		}
	}
	if len(raws) == 0 {
		return nil, &fieldError{"body", "no events"}
	}
	if len(raws) > MaxEventsPerRequest {
		return nil, &fieldError{"body", fmt.Sprintf("%d events, at most %d (MaxEventsPerRequest)", len(raws), MaxEventsPerRequest)}
	}
	return raws, nil
}

// postEvents validates every event; if any is invalid nothing is produced
// and the reply lists each refused event, so 1C can fix and resend the
// whole batch.
func (s *Server) postEvents(ctx *fasthttp.RequestCtx) {
	if s.events == nil {
		writeError(ctx, fasthttp.StatusServiceUnavailable, "events_unavailable", "this server does not take events", nil)
		return
	}
	raws, err := splitEvents(ctx.PostBody())
	if err != nil {
		s.writeDecodeError(ctx, err)
		return
	}
	events := make([]reservation.Event, len(raws))
	var refused []eventError
	checker, _ := s.events.(EventChecker)
	for i, raw := range raws {
		ev, err := reservation.DecodeEvent(raw)
		if err == nil && checker != nil {
			err = checker.CheckEvent(&ev)
		}
		if err != nil {
			refused = append(refused, eventError{Index: i, ID: peekID(raw), Message: err.Error()})
			continue
		}
		events[i] = ev
		raws[i] = bytes.Clone(raw) // the body is reused by fasthttp after the handler
	}
	if len(refused) > 0 {
		writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_events",
			fmt.Sprintf("%d of %d events are invalid; nothing was accepted", len(refused), len(raws)),
			map[string]any{"events": refused})
		return
	}
	rctx, cancel := s.requestContext(ctx)
	defer cancel()
	if err := s.events.ProduceEvents(rctx, raws, events); err != nil {
		s.log.Warn("produce events", "err", err, "events", len(raws))
		ctx.Response.Header.Set("Retry-After", "5")
		writeError(ctx, fasthttp.StatusServiceUnavailable, "kafka_unavailable",
			"the events could not be written to Kafka; nothing is acknowledged, resend them", nil)
		return
	}
	writeJSON(ctx, fasthttp.StatusAccepted, EventsReply{Accepted: len(raws)})
}

// peekID returns the "id" of a raw event if it has one, for error replies.
func peekID(raw []byte) string {
	var v struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &v) != nil || len(v.ID) > MaxHoldIDBytes {
		return ""
	}
	return v.ID
}
