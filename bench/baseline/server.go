package baseline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/valyala/fasthttp"

	"stockd/adapters/httpapi"
)

// Server is a baseline fasthttp server answering the reserve routes.
type Server struct {
	http *fasthttp.Server
}

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	return s.http.Serve(ln)
}

// MaxDrainWait bounds how long Shutdown waits for clients to close their
// keep-alive connections before closing them itself.
const MaxDrainWait = time.Second

// Shutdown stops accepting and waits for requests in flight within ctx.
//
// It first gives clients up to MaxDrainWait to close their connections:
// with MaxConnsPerIP set, fasthttp v1.74.0 closes an idle connection from
// Shutdown while its own goroutine may still be reading it (perIPConn.Close
// clears the embedded conn without the reader's synchronisation), which
// the race detector reports.
func (s *Server) Shutdown(ctx context.Context) error {
	drain, cancel := context.WithTimeout(ctx, MaxDrainWait)
	defer cancel()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for s.http.GetOpenConnectionsCount() > 0 {
		select {
		case <-drain.Done():
			return s.http.ShutdownWithContext(ctx)
		case <-tick.C:
		}
	}
	return s.http.ShutdownWithContext(ctx)
}

func newServer(name string, limits httpapi.Limits, log *slog.Logger, h fasthttp.RequestHandler) (*Server, error) {
	if log == nil {
		return nil, errors.New("baseline: a logger is required")
	}
	if err := limits.Validate(); err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	return &Server{http: newFastHTTP(name, limits, log, h)}, nil
}

// newFastHTTP sets every fasthttp option, from the same Limits stockd's
// own server takes, so a baseline differs from stockd only in its handler.
func newFastHTTP(name string, l httpapi.Limits, log *slog.Logger, h fasthttp.RequestHandler) *fasthttp.Server {
	return &fasthttp.Server{
		Handler:                            h,
		ErrorHandler:                       nil, // fasthttp's 400/413 answers are enough here
		HeaderReceived:                     nil,
		ContinueHandler:                    nil,
		ConnState:                          nil,
		TLSConfig:                          nil,
		FormValueFunc:                      nil,
		Name:                               name,
		Concurrency:                        l.MaxConcurrency,
		ReadBufferSize:                     l.MaxHeaderBytes,
		WriteBufferSize:                    l.MaxResponseBytes,
		ReadTimeout:                        l.ReadTimeout,
		WriteTimeout:                       l.WriteTimeout,
		IdleTimeout:                        l.IdleTimeout,
		MaxConnsPerIP:                      l.MaxConnsPerIP,
		MaxRequestsPerConn:                 l.MaxRequestsPerConn,
		MaxIdleWorkerDuration:              10 * time.Second,
		TCPKeepalive:                       true,
		TCPKeepalivePeriod:                 30 * time.Second,
		MaxRequestBodySize:                 l.MaxBodyBytes,
		SleepWhenConcurrencyLimitsExceeded: 0,
		DisableKeepalive:                   false,
		ReduceMemoryUsage:                  false,
		GetOnly:                            false,
		DisablePreParseMultipartForm:       true,
		LogAllErrors:                       false,
		SecureErrorLogMessage:              true,
		DisableHeaderNamesNormalizing:      false,
		NoDefaultServerHeader:              false,
		NoDefaultDate:                      false,
		NoDefaultContentType:               true,
		KeepHijackedConns:                  false,
		CloseOnShutdown:                    true,
		StreamRequestBody:                  false,
		Logger:                             fasthttpLogger{log},
	}
}

// route is a request to one of the reserve routes, or to none.
type route int

const (
	routeNone route = iota
	routeHold
	routeRelease
	routeHealth
)

// MaxHoldIDBytes bounds a hold id taken from a path or a body.
const MaxHoldIDBytes = 128

// parseRoute maps method and path to a route and, for a release, the hold
// id. The id is a sub-slice of path: valid only during the request.
func parseRoute(method, path []byte) (route, []byte) {
	p := string(path) // no allocation: compared, not kept
	switch {
	case p == "/healthz" && string(method) == fasthttp.MethodGet:
		return routeHealth, nil
	case string(method) != fasthttp.MethodPost:
		return routeNone, nil
	case p == "/v1/reservations":
		return routeHold, nil
	}
	const prefix, suffix = "/v1/reservations/", "/release"
	if len(path) > len(prefix)+len(suffix) && p[:len(prefix)] == prefix && p[len(p)-len(suffix):] == suffix {
		id := path[len(prefix) : len(path)-len(suffix)]
		if len(id) <= MaxHoldIDBytes && !containsSlash(id) {
			return routeRelease, id
		}
	}
	return routeNone, nil
}

func containsSlash(b []byte) bool {
	for _, c := range b {
		if c == '/' {
			return true
		}
	}
	return false
}

func writeBody(ctx *fasthttp.RequestCtx, status int, body []byte) {
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.SetBody(body)
}

// fasthttpLogger routes fasthttp's own messages to slog.
type fasthttpLogger struct{ log *slog.Logger }

func (l fasthttpLogger) Printf(format string, args ...any) {
	l.log.Warn(fmt.Sprintf(format, args...), "component", "fasthttp")
}
