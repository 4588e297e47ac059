package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/valyala/fasthttp"
)

// Backend is what the HTTP layer needs from the engine.
type Backend interface {
	// Ready reports nil when the engine can take writes: the journal is
	// healthy and recovery has finished.
	Ready() error
}

// Options configures a Server. Backend and Logger are required.
type Options struct {
	Backend Backend
	Logger  *slog.Logger
	Limits  Limits
	// Name is sent in the Server header.
	Name string
}

// Server is the fasthttp server with stockd's routes.
type Server struct {
	backend Backend
	log     *slog.Logger
	limits  Limits
	http    *fasthttp.Server
}

// New builds a Server. It does not listen; call Serve.
func New(opts Options) (*Server, error) {
	if opts.Backend == nil || opts.Logger == nil {
		return nil, errors.New("httpapi: Backend and Logger are required")
	}
	if err := opts.Limits.Validate(); err != nil {
		return nil, err
	}
	if opts.Name == "" {
		opts.Name = "stockd"
	}
	s := &Server{backend: opts.Backend, log: opts.Logger, limits: opts.Limits}
	s.http = newFastHTTP(opts.Name, opts.Limits, s.route, opts.Logger)
	return s, nil
}

// newFastHTTP sets every fasthttp option explicitly: its defaults are
// unbounded in places (no timeouts) and chatty in others.
func newFastHTTP(name string, l Limits, h fasthttp.RequestHandler, log *slog.Logger) *fasthttp.Server {
	return &fasthttp.Server{
		Handler:                            h,
		ErrorHandler:                       errorHandler,
		Name:                               name,
		Concurrency:                        l.MaxConcurrency,
		ReadBufferSize:                     l.MaxHeaderBytes,
		WriteBufferSize:                    l.MaxResponseBytes,
		ReadTimeout:                        l.ReadTimeout,
		WriteTimeout:                       l.WriteTimeout,
		IdleTimeout:                        l.IdleTimeout,
		MaxConnsPerIP:                      l.MaxConnsPerIP,
		MaxRequestsPerConn:                 l.MaxRequestsPerConn,
		MaxKeepaliveDuration:               0,
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

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	return s.http.Serve(ln)
}

// Shutdown stops accepting, waits for in-flight requests within ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.http.ShutdownWithContext(ctx)
}

func (s *Server) route(ctx *fasthttp.RequestCtx) {
	path := string(ctx.Path())
	switch {
	case path == "/healthz":
		s.healthz(ctx)
	case path == "/readyz":
		s.readyz(ctx)
	default:
		writeError(ctx, fasthttp.StatusNotFound, "not_found",
			fmt.Sprintf("no route for %s %s", ctx.Method(), path), nil)
	}
}

func (s *Server) healthz(ctx *fasthttp.RequestCtx) {
	writeJSON(ctx, fasthttp.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(ctx *fasthttp.RequestCtx) {
	if err := s.backend.Ready(); err != nil {
		writeError(ctx, fasthttp.StatusServiceUnavailable, "not_ready", err.Error(), nil)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]string{"status": "ready"})
}

// fasthttpLogger routes fasthttp's own messages to slog.
type fasthttpLogger struct{ log *slog.Logger }

func (l fasthttpLogger) Printf(format string, args ...any) {
	l.log.Warn(fmt.Sprintf(format, args...), "component", "fasthttp")
}
