package httpapi

import (
	"encoding/json"
	"errors"

	"github.com/valyala/fasthttp"
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
	writeJSON(ctx, status, errorBody{Error: code, Message: message, Details: details})
}

// errorHandler answers errors fasthttp meets before a handler runs:
// oversized bodies, header overflow, timeouts while reading.
func errorHandler(ctx *fasthttp.RequestCtx, err error) {
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		writeError(ctx, fasthttp.StatusRequestEntityTooLarge, "body_too_large",
			"the request body is larger than the server accepts (MaxBodyBytes)", nil)
	default:
		writeError(ctx, fasthttp.StatusBadRequest, "malformed_request", "the request could not be read: "+err.Error(), nil)
	}
}
