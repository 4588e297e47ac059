package marketsim

import (
	"net/http"
	"net/http/httptest"
)

// HandlerTransport is an http.RoundTripper that serves requests with a
// handler in process, with no network: it lets a client and a simulator run
// inside testing/synctest, where time is virtual.
type HandlerTransport struct {
	Handler http.Handler
}

// RoundTrip serves req.
func (t HandlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	if req.Body == nil {
		// A server always hands its handler a body; a client request
		// without one (a GET) has none.
		r := req.Clone(req.Context())
		r.Body = http.NoBody
		req = r
	}
	rec := httptest.NewRecorder()
	t.Handler.ServeHTTP(rec, req)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}
