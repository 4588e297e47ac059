package httpapi

import (
	"encoding/json"
	"errors"
	"net"

	"github.com/valyala/fasthttp"

	"stockd/reservation"
)

// errorBody is the one error shape of the API.
type errorBody struct {
	Error   string         `json:"error"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
}

func writeJSON(ctx *fasthttp.RequestCtx, status int, v any) {
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	if err := json.NewEncoder(ctx).Encode(v); err != nil {
		// Encoding our own reply types cannot fail; reaching here is a bug.
		panic("httpapi: encode reply: " + err.Error())
	}
}

func writeError(ctx *fasthttp.RequestCtx, status int, code, message string, details map[string]any) {
	var buf [replyBufBytes]byte
	body, ok := appendErrorBody(buf[:0], code, message, details)
	if !ok {
		writeJSON(ctx, status, errorBody{Error: code, Message: message, Details: details})
		return
	}
	writeBody(ctx, status, body)
}

// writeHoldReply answers with a hold (see appendHoldReply).
func writeHoldReply(ctx *fasthttp.RequestCtx, status int, h *reservation.Hold) {
	var buf [replyBufBytes]byte
	writeBody(ctx, status, appendHoldReply(buf[:0], h))
}

// writeBody answers with a JSON body, appended to the response as
// writeJSON's encoder did.
func writeBody(ctx *fasthttp.RequestCtx, status int, body []byte) {
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.Response.AppendBody(body)
}

// errorHandler answers errors fasthttp meets before a handler runs:
// oversized bodies, header overflow, timeouts while reading.
func errorHandler(ctx *fasthttp.RequestCtx, err error) {
	var small *fasthttp.ErrSmallBuffer
	var netErr net.Error
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		writeError(ctx, fasthttp.StatusRequestEntityTooLarge, "body_too_large",
			"the request body is larger than the server accepts (MaxBodyBytes)", nil)
	case errors.As(err, &small):
		writeError(ctx, fasthttp.StatusRequestHeaderFieldsTooLarge, "headers_too_large",
			"the request line and headers are larger than the server accepts (MaxHeaderBytes)", nil)
	case errors.As(err, &netErr) && netErr.Timeout():
		writeError(ctx, fasthttp.StatusRequestTimeout, "request_timeout",
			"the request was not received within the read timeout", nil)
	default:
		writeError(ctx, fasthttp.StatusBadRequest, "malformed_request", "the request could not be read", nil)
	}
}
