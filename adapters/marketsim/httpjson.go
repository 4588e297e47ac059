package marketsim

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"
)

// MaxRequestBytes bounds the request bodies a simulator reads.
const MaxRequestBytes = 8 << 20

// ErrBodyTooLarge means a request body over the limit it was read with.
var ErrBodyTooLarge = errors.New("marketsim: request body too large")

// ReadBody reads at most max bytes of r's body.
func ReadBody(r *http.Request, max int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > max {
		return nil, ErrBodyTooLarge
	}
	return body, nil
}

// WriteJSON answers status with v as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		panic("marketsim: unencodable reply: " + err.Error())
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// RetrySeconds renders a wait as whole seconds, rounded up, at least 1.
func RetrySeconds(wait time.Duration) string {
	wait = wait.Round(time.Millisecond) // float noise must not add a second
	s := int64((wait + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return strconv.FormatInt(s, 10)
}
