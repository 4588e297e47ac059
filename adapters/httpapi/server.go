package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
	"go.opentelemetry.io/otel/trace"

	"stockd/adapters/telemetry"
)

// Options configures a Server. Backend and Logger are required.
type Options struct {
	Backend Backend
	Logger  *slog.Logger
	Limits  Limits
	// Events, if set, serves POST /v1/events.
	Events EventProducer
	// Exchange, if set, serves the 1C exchange protocol at /1c/exchange and
	// /bitrix/admin/1c_exchange.php (1C authenticates itself there with
	// Basic auth and a session cookie, not a Bearer key).
	Exchange fasthttp.RequestHandler
	// Feeds, if set, serves GET /feeds/{channel}.yml and /v1/channels;
	// if it implements ChannelAdmin too, the channel admin routes.
	Feeds FeedHub
	// Metrics, if set, serves GET /metrics (the Prometheus exposition),
	// without a key: scrapers send none.
	Metrics fasthttp.RequestHandler
	// Instruments, if set, records request latency and reserve outcomes.
	Instruments *telemetry.Instruments
	// Tracer, if set, records a server span per request (parent: the
	// caller's traceparent). Leave it nil when tracing is off: the only
	// cost left is passing POST /v1/events' traceparent on to Kafka.
	Tracer trace.Tracer
	// SampleRoot, with Tracer, decides whether a request without a
	// traceparent is traced before any span is started
	// (telemetry.Telemetry.SampleRoot); nil leaves it to the sampler.
	SampleRoot func() bool
	// APIKeys are the accepted keys; with none every protected route
	// answers 401.
	APIKeys []APIKey
	// Name is sent in the Server header.
	Name string
}

// Server is the fasthttp server with stockd's routes.
type Server struct {
	backend  Backend
	log      *slog.Logger
	limits   Limits
	keys     *keyring
	events   EventProducer
	exchange fasthttp.RequestHandler
	feeds    FeedHub
	metrics  fasthttp.RequestHandler
	inst     *telemetry.Instruments
	tracer   trace.Tracer // nil: tracing off
	sample   func() bool  // nil: every request starts a span
	http     *fasthttp.Server
	// deadlines bound each backend call by the write timeout.
	deadlines *deadlines
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
	keys, err := newKeyring(opts.APIKeys)
	if err != nil {
		return nil, err
	}
	s := &Server{backend: opts.Backend, log: opts.Logger, limits: opts.Limits, keys: keys, events: opts.Events, exchange: opts.Exchange, feeds: opts.Feeds,
		deadlines: newDeadlines(opts.Limits.WriteTimeout, deadlineGrain),
		metrics:   opts.Metrics, inst: opts.Instruments, tracer: opts.Tracer,
		sample: opts.SampleRoot}
	s.http = newFastHTTP(opts.Name, opts.Limits, s.observed, opts.Logger)
	return s, nil
}

// newFastHTTP sets every fasthttp option explicitly: its defaults are
// unbounded in places (no timeouts) and chatty in others.
func newFastHTTP(name string, l Limits, h fasthttp.RequestHandler, log *slog.Logger) *fasthttp.Server {
	return &fasthttp.Server{
		Handler:         h,
		ErrorHandler:    errorHandler,
		Name:            name,
		Concurrency:     l.MaxConcurrency,
		ReadBufferSize:  l.MaxHeaderBytes,
		WriteBufferSize: l.MaxResponseBytes,
		ReadTimeout:     l.ReadTimeout,
		WriteTimeout:    l.WriteTimeout,
		IdleTimeout:     l.IdleTimeout,
		MaxConnsPerIP:   0, // enforced by limitPerIP in Serve

		MaxRequestsPerConn:                 l.MaxRequestsPerConn,
		MaxKeepaliveDuration:               0,
		MaxIdleWorkerDuration:              10 * time.Second,
		TCPKeepalive:                       true,
		TCPKeepalivePeriod:                 tcpKeepalivePeriod, // also set by limitPerIP's listener
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

// Handler is the handler Serve's server runs for every request (router,
// keys, limits, metrics): for an embedding server, or to drive the whole
// request path without sockets.
func (s *Server) Handler() fasthttp.RequestHandler { return s.observed }

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	return s.http.Serve(limitPerIP(ln, s.limits.MaxConnsPerIP))
}

// Shutdown stops accepting, waits for in-flight requests within ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.http.ShutdownWithContext(ctx)
}

func (s *Server) route(ctx *fasthttp.RequestCtx, method, path string) {
	switch path {
	case "/healthz", "/readyz":
		if method != fasthttp.MethodGet && method != fasthttp.MethodHead {
			ctx.Response.Header.Set("Allow", "GET, HEAD")
			writeError(ctx, fasthttp.StatusMethodNotAllowed, "method_not_allowed", "use GET for this path", nil)
		} else if path == "/healthz" {
			s.healthz(ctx)
		} else {
			s.readyz(ctx)
		}
		return
	case "/metrics":
		if s.metrics == nil {
			s.notFound(ctx, method, path)
			return
		}
		s.metrics(ctx)
		return
	case "/1c/exchange", "/bitrix/admin/1c_exchange.php":
		if s.exchange == nil {
			s.notFound(ctx, method, path)
			return
		}
		s.exchange(ctx)
		return
	}
	switch {
	case strings.HasPrefix(path, "/feeds/"):
		s.serveFeed(ctx, method, path)
	case strings.HasPrefix(path, "/v1/channels/") && isChannelAction(ctx):
		s.routeChannelAction(ctx, method)
	case path == "/v1/channels" || strings.HasPrefix(path, "/v1/channels/"):
		s.routeChannels(ctx, method, path)
	case path == "/v1/reservations":
		if s.allow(ctx, method, fasthttp.MethodPost, ScopeReserve) {
			s.createHold(ctx)
		}
	case strings.HasPrefix(path, "/v1/reservations/"):
		s.routeHold(ctx, method, path)
	case path == "/v1/events":
		if s.allow(ctx, method, fasthttp.MethodPost, ScopeEvents) {
			s.postEvents(ctx)
		}
	case path == "/v1/ingest":
		if s.allow(ctx, method, fasthttp.MethodGet, ScopeRead) {
			s.ingestStatus(ctx)
		}
	case path == "/v1/availability:batch":
		if s.allow(ctx, method, fasthttp.MethodPost, ScopeRead) {
			s.availabilityBatch(ctx)
		}
	case strings.HasPrefix(path, "/v1/availability/"):
		sku, rest, ok := rawPathParam(ctx, path, "/v1/availability/")
		if !ok || rest != "" {
			s.notFound(ctx, method, path)
			return
		}
		if s.allow(ctx, method, fasthttp.MethodGet, ScopeRead) {
			s.availability(ctx, sku)
		}
	default:
		s.notFound(ctx, method, path)
	}
}

func (s *Server) routeHold(ctx *fasthttp.RequestCtx, method, path string) {
	id, action, ok := rawPathParam(ctx, path, "/v1/reservations/")
	if !ok {
		s.notFound(ctx, method, path)
		return
	}
	switch action {
	case "":
		if s.allow(ctx, method, fasthttp.MethodGet, ScopeRead) {
			s.getHold(ctx, id)
		}
	case "confirm":
		if s.allow(ctx, method, fasthttp.MethodPost, ScopeReserve) {
			s.confirmHold(ctx, id)
		}
	case "release":
		if s.allow(ctx, method, fasthttp.MethodPost, ScopeReserve) {
			s.releaseHold(ctx, id)
		}
	default:
		s.notFound(ctx, method, path)
	}
}

// allow checks the method, then the key and its scope, and answers 405,
// 401 or 403 itself when the request may not go on.
func (s *Server) allow(ctx *fasthttp.RequestCtx, method, want string, scope Scope) bool {
	if method != want {
		ctx.Response.Header.Set("Allow", want)
		writeError(ctx, fasthttp.StatusMethodNotAllowed, "method_not_allowed",
			fmt.Sprintf("use %s for this path", want), nil)
		return false
	}
	key, err := s.keys.authenticate(ctx.Request.Header.Peek("Authorization"))
	if err != nil {
		ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="stockd"`)
		writeError(ctx, fasthttp.StatusUnauthorized, "unauthorized",
			"send a valid API key as 'Authorization: Bearer <key>'", nil)
		return false
	}
	if !key.allows(scope) {
		writeError(ctx, fasthttp.StatusForbidden, "forbidden",
			fmt.Sprintf("the API key %q lacks the %q scope", key.name, scope), map[string]any{"scope": scope})
		return false
	}
	return true
}

func (s *Server) notFound(ctx *fasthttp.RequestCtx, method, path string) {
	writeError(ctx, fasthttp.StatusNotFound, "not_found", fmt.Sprintf("no route for %s %s", method, path), nil)
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
