package httpapi

import (
	"context"
	"errors"

	"github.com/valyala/fasthttp"

	"stockd/engine/journal"
	"stockd/reservation"
)

// writeBackendError maps engine and ledger errors to the API's statuses
// and stable codes.
func (s *Server) writeBackendError(ctx *fasthttp.RequestCtx, err error) {
	var insufficient *reservation.InsufficientError
	var limit *reservation.LimitError
	switch {
	case errors.As(err, &insufficient):
		writeError(ctx, fasthttp.StatusConflict, "insufficient_stock",
			"not enough stock for every line; nothing was held", map[string]any{"lines": shortageLines(insufficient)})
	case errors.Is(err, reservation.ErrIdempotencyConflict):
		writeError(ctx, fasthttp.StatusUnprocessableEntity, "idempotency_conflict",
			"a hold with this id exists with another body; use a new id for a new hold", nil)
	case errors.Is(err, reservation.ErrHoldNotFound):
		writeError(ctx, fasthttp.StatusNotFound, "hold_not_found", "no hold has this id", nil)
	case errors.Is(err, reservation.ErrHoldNotActive):
		writeError(ctx, fasthttp.StatusConflict, "hold_not_active",
			"the hold was released or expired; create a new hold", nil)
	case errors.Is(err, reservation.ErrHoldHandedOff):
		writeError(ctx, fasthttp.StatusConflict, "hold_handed_off", "1C already carries this order", nil)
	case errors.Is(err, reservation.ErrUnknownChannel):
		writeError(ctx, fasthttp.StatusUnprocessableEntity, "unknown_channel", err.Error(), nil)
	case errors.As(err, &limit):
		writeError(ctx, fasthttp.StatusUnprocessableEntity, "limit_exceeded", err.Error(),
			map[string]any{"limit": limit.Name, "max": limit.Limit})
	case errors.Is(err, reservation.ErrInvalidRequest):
		writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_request", err.Error(), nil)
	case errors.Is(err, journal.ErrQueueFull):
		ctx.Response.Header.Set("Retry-After", "1")
		writeError(ctx, fasthttp.StatusTooManyRequests, "busy", "too many changes queued; retry shortly", nil)
	case errors.Is(err, journal.ErrUnavailable), errors.Is(err, journal.ErrClosed):
		ctx.Response.Header.Set("Retry-After", "5")
		writeError(ctx, fasthttp.StatusServiceUnavailable, "journal_unavailable",
			"changes cannot be made durable right now; nothing was changed, retry with the same id", nil)
	case errors.Is(err, context.DeadlineExceeded):
		writeError(ctx, fasthttp.StatusServiceUnavailable, "timeout",
			"the change was not confirmed durable in time; retry with the same id to learn its outcome", nil)
	default:
		s.log.Error("unexpected backend error", "err", err, "path", string(ctx.Path()))
		writeError(ctx, fasthttp.StatusInternalServerError, "internal", "unexpected error; see the server log", nil)
	}
}

type shortageReply struct {
	SKU       string `json:"sku"`
	Requested int64  `json:"requested"`
	Available int64  `json:"available"`
}

func shortageLines(e *reservation.InsufficientError) []shortageReply {
	out := make([]shortageReply, len(e.Lines))
	for i, l := range e.Lines {
		out[i] = shortageReply{SKU: l.SKU, Requested: l.Requested, Available: l.Available}
	}
	return out
}
