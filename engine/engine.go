package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"stockd/adapters/httpapi"
)

// Deps are the process-wide things the engine is handed rather than making.
type Deps struct {
	Logger *slog.Logger
	// Now is the engine's clock; nil means time.Now. Hold expiry is decided
	// by this clock and journaled, so replay never reads it.
	Now func() time.Time
}

// Engine is one running stockd instance.
type Engine struct {
	cfg   Config
	log   *slog.Logger
	now   func() time.Time
	ln    net.Listener
	api   *httpapi.Server
	ready atomic.Bool
}

// Open recovers state and binds the listeners, bounded by
// cfg.StartupTimeout. It serves nothing until Run.
func Open(ctx context.Context, cfg Config, deps Deps) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Logger == nil {
		return nil, errors.New("engine: Deps.Logger is required")
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.StartupTimeout)
	defer cancel()
	e := &Engine{cfg: cfg, log: deps.Logger, now: deps.Now}
	start := time.Now()
	api, err := httpapi.New(httpapi.Options{Backend: e, Logger: e.log, Limits: cfg.HTTP.Limits})
	if err != nil {
		return nil, err
	}
	e.api = api
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.HTTP.Listen)
	if err != nil {
		return nil, fmt.Errorf("engine: listen on %s: %w", cfg.HTTP.Listen, err)
	}
	e.ln = ln
	e.ready.Store(true)
	e.log.Info("engine opened", "http", ln.Addr().String(), "journal", cfg.Journal.Kind,
		"took", time.Since(start).String())
	return e, nil
}

// HTTPAddr is the address the API listens on (useful with port 0).
func (e *Engine) HTTPAddr() string { return e.ln.Addr().String() }

// Ready implements httpapi.Backend.
func (e *Engine) Ready() error {
	if !e.ready.Load() {
		return errors.New("engine: not ready: starting, stopping or recovering")
	}
	return nil
}

// Run serves until ctx is cancelled, then shuts down within
// cfg.ShutdownTimeout. It returns nil after a clean shutdown.
func (e *Engine) Run(ctx context.Context) error {
	serveErr := make(chan error, 1)
	go func() { serveErr <- e.api.Serve(e.ln) }()
	select {
	case err := <-serveErr:
		e.ready.Store(false)
		return fmt.Errorf("engine: http server stopped: %w", err)
	case <-ctx.Done():
	}
	return e.shutdown(serveErr)
}

func (e *Engine) shutdown(serveErr <-chan error) error {
	e.ready.Store(false)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), e.cfg.ShutdownTimeout)
	defer cancel()
	err := e.api.Shutdown(ctx)
	if serr := <-serveErr; serr != nil && err == nil {
		err = serr
	}
	e.log.Info("engine stopped", "took", time.Since(start).String(), "err", err)
	return err
}
