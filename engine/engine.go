package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"

	"stockd/adapters/httpapi"
	"stockd/adapters/onec/cmlevents"
	"stockd/adapters/onec/exchange"
	"stockd/adapters/telemetry"
	"stockd/engine/intake"
	"stockd/engine/journal"
	"stockd/feeds"
	"stockd/reservation"
)

// Deps are the process-wide things the engine is handed rather than making.
type Deps struct {
	Logger *slog.Logger
	// Now is the engine's clock; nil means time.Now. Hold expiry is decided
	// by this clock and journaled, so replay never reads it.
	Now func() time.Time
	// Journal, if set, is used instead of opening the configured backend
	// (tests inject a crashable in-memory journal). The engine closes it.
	Journal journal.Backend
	// ReopenJournal, with Journal, opens the same journal again after a
	// write failure (the file backend is reopened from its directory).
	ReopenJournal func(ctx context.Context) (journal.Backend, error)
	// Secrets resolves the marketplace credentials the feeds config names
	// (environment variables and files); cmd passes the process's.
	Secrets feeds.Secrets
	// MarketTransport, if set, carries marketplace requests (tests and the
	// demo reach in-process simulators through it).
	MarketTransport http.RoundTripper
	// Telemetry provides the tracer and meter; nil records nothing.
	Telemetry *telemetry.Telemetry
}

// Engine is one running stockd instance.
type Engine struct {
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	reopen   func(ctx context.Context) (journal.Backend, error)
	backend  journal.Backend // guarded by core.mu once Run starts
	core     *core
	ln       net.Listener
	api      *httpapi.Server
	ready    atomic.Bool
	wg       sync.WaitGroup // background loops
	ingest   *ingestCounters
	events   *eventProducer    // nil without Kafka
	exchange *exchange.Handler // nil without 1C exchange accounts
	// knownOffers is the exchange's store of 1C catalogs' offers; nil
	// without the exchange.
	knownOffers *cmlevents.FileStore
	feeds       *feedsRuntime   // nil without marketplace channels
	intake      *intake.Intake  // nil without marketplace order sources
	handoff     *handoffRuntime // orders to 1C: exchange order source, orders.out
	tel         *telemetry.Telemetry
	inst        *telemetry.Instruments
	telReg      metric.Registration
	obs         *observability // engine spans and alert counts (telemetry.go)
}

// Open recovers the ledger from the journal and binds the listener,
// bounded by cfg.StartupTimeout. It serves nothing until Run. Open
// refuses to start on a journal it cannot read, saying why.
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
	start := time.Now()
	e := &Engine{cfg: cfg, log: deps.Logger, now: deps.Now, reopen: deps.ReopenJournal, ingest: newIngestCounters(cfg.Kafka.SeqGapTimeout)}
	if e.reopen == nil {
		e.reopen = func(ctx context.Context) (journal.Backend, error) { return openBackend(ctx, cfg.Journal) }
	}
	if err := e.openTelemetry(deps.Telemetry); err != nil {
		return nil, err
	}
	if err := e.openLedger(ctx, deps.Journal); err != nil {
		return nil, err
	}
	if err := e.openFeeds(ctx, deps.Secrets, deps.MarketTransport); err != nil {
		e.closeLedger(ctx)
		return nil, err
	}
	if err := e.openOrders(); err != nil {
		e.feeds.close(ctx)
		e.closeLedger(ctx)
		return nil, err
	}
	if err := e.openHTTP(ctx); err != nil {
		e.closeOrders()
		e.feeds.close(ctx)
		e.closeLedger(ctx)
		return nil, err
	}
	e.ready.Store(true)
	e.log.Info("engine opened", "http", e.ln.Addr().String(), "journal", cfg.Journal.Kind,
		"took", time.Since(start).String())
	return e, nil
}

func (e *Engine) openLedger(ctx context.Context, b journal.Backend) error {
	lcfg, err := e.cfg.ledgerConfig()
	if err != nil {
		return err
	}
	if b == nil {
		if b, err = e.openBackendRetrying(ctx); err != nil {
			return err
		}
	}
	ledger, err := recoverLedger(ctx, b, lcfg, e.log)
	if err != nil {
		b.Close()
		return err
	}
	ccfg := journal.DefaultCommitterConfig()
	ccfg.OnGroup = e.recordGroup
	ccfg.GatherWait, ccfg.GatherTickets = e.cfg.Journal.GatherWait, e.cfg.Journal.GatherTickets
	commit, err := journal.NewCommitter(b, ccfg)
	if err != nil {
		b.Close()
		return err
	}
	e.backend = b
	e.core = &core{ledger: ledger, commit: commit, limits: ccfg, failures: make(chan struct{}, 1)}
	return nil
}

// openBackendRetrying opens the journal; a database that is not up yet
// (starting, restarting) is retried until the startup timeout. A file
// journal error is never transient and is returned at once.
func (e *Engine) openBackendRetrying(ctx context.Context) (journal.Backend, error) {
	backoff := 100 * time.Millisecond
	for {
		b, err := openBackend(ctx, e.cfg.Journal)
		if err == nil || e.cfg.Journal.Kind != JournalPostgres {
			return b, err
		}
		e.log.Warn("journal database not reachable yet; retrying", "err", err, "retry_in", backoff.String())
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (gave up after the startup timeout)", err)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

func (e *Engine) openHTTP(ctx context.Context) error {
	opts := httpapi.Options{Backend: e, Logger: e.log, Limits: e.cfg.HTTP.Limits, APIKeys: e.cfg.HTTP.APIKeys,
		Metrics: e.tel.ServeMetrics, Instruments: e.inst}
	opts.Tracer, opts.SampleRoot = e.httpTracing()
	if len(e.cfg.Kafka.Brokers) > 0 {
		p, err := newEventProducer(e.cfg.Kafka, e.now)
		if err != nil {
			return err
		}
		p.tracer, p.inst = e.obs.tracer, e.inst
		e.events, opts.Events = p, p
	}
	if e.feeds != nil {
		opts.Feeds = e.feeds.hub
	}
	xh, err := e.openExchange()
	if err != nil {
		return err
	}
	if xh != nil {
		e.exchange, opts.Exchange = xh, xh.Handle
	}
	api, err := httpapi.New(opts)
	if err != nil {
		return err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", e.cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("engine: listen on %s: %w", e.cfg.HTTP.Listen, err)
	}
	e.api, e.ln = api, ln
	return nil
}

// HTTPAddr is the address the API listens on (useful with port 0).
func (e *Engine) HTTPAddr() string { return e.ln.Addr().String() }

// Ready implements httpapi.Backend.
func (e *Engine) Ready() error {
	if !e.ready.Load() {
		return errors.New("engine: not ready: starting or stopping")
	}
	if err := e.core.Failed(); err != nil {
		return fmt.Errorf("engine: not ready: journal failed: %w", err)
	}
	return nil
}

// Run serves until ctx is cancelled, then shuts down within
// cfg.ShutdownTimeout. It returns nil after a clean shutdown.
func (e *Engine) Run(ctx context.Context) error {
	loopCtx, stopLoops := context.WithCancel(ctx)
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		e.expireLoop(loopCtx)
	}()
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		e.superviseJournal(loopCtx)
	}()
	e.wg.Add(2)
	go func() {
		defer e.wg.Done()
		e.snapshotLoop(loopCtx)
	}()
	go func() {
		defer e.wg.Done()
		e.runExchange(loopCtx)
	}()
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		e.runOrders(loopCtx)
	}()
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		e.runAlerts(loopCtx)
	}()
	if len(e.cfg.Kafka.Brokers) > 0 {
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			e.superviseIngest(loopCtx)
		}()
	} else {
		e.log.Warn("no Kafka brokers configured: 1C events are not consumed")
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- e.api.Serve(e.ln) }()
	var runErr error
	select {
	case err := <-serveErr:
		runErr = fmt.Errorf("engine: http server stopped: %w", err)
		serveErr <- nil
	case <-ctx.Done():
	}
	stopLoops()
	return errors.Join(runErr, e.shutdown(serveErr))
}

// expireLoop releases holds past their expiry every ExpireInterval.
func (e *Engine) expireLoop(ctx context.Context) {
	t := time.NewTicker(e.cfg.Ledger.ExpireInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for {
			n, err := e.core.Expire(ctx, e.now())
			e.countOp(ctx, telemetry.OpExpire, n)
			if err != nil {
				if ctx.Err() == nil {
					e.log.Warn("expire holds", "err", err)
				}
				break
			}
			if n < maxExpirePerTick {
				break
			}
		}
	}
}

func (e *Engine) shutdown(serveErr <-chan error) error {
	e.ready.Store(false)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), e.cfg.ShutdownTimeout)
	defer cancel()
	err := e.api.Shutdown(ctx)
	// fasthttp closes only the listeners its Serve has registered: a stop
	// right after the start can come before Serve did, and Serve would
	// then accept forever. Closing the listener here ends it either way
	// (fasthttp takes the closed listener's error as a clean end).
	if cerr := e.ln.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) && err == nil {
		err = fmt.Errorf("engine: close the HTTP listener: %w", cerr)
	}
	if serr := <-serveErr; serr != nil && err == nil {
		err = serr
	}
	e.wg.Wait()
	if e.exchange != nil {
		err = errors.Join(err, e.exchange.Close(ctx))
	}
	if e.knownOffers != nil {
		err = errors.Join(err, e.knownOffers.Flush())
	}
	err = errors.Join(err, e.closeOrders())
	err = errors.Join(err, e.feeds.close(ctx))
	e.closeTelemetry()
	if e.events != nil {
		err = errors.Join(err, e.events.Close())
	}
	err = errors.Join(err, e.closeLedger(ctx))
	e.log.Info("engine stopped", "took", time.Since(start).String(), "err", err)
	return err
}

// closeLedger flushes what is queued and closes the journal.
func (e *Engine) closeLedger(ctx context.Context) error {
	e.core.mu.Lock()
	defer e.core.mu.Unlock()
	err := e.core.commit.Close(ctx)
	if e.core.failed != nil {
		e.log.Warn("journal was failed at shutdown; unacknowledged changes are discarded", "err", e.core.failed)
		err = nil
	}
	return errors.Join(err, e.backend.Close())
}

// superviseJournal rebuilds the ledger from a reopened journal after a
// write failure: an fsync error is never retried on the same file
// descriptor, and changes the journal lost were never acknowledged.
func (e *Engine) superviseJournal(ctx context.Context) {
	const minBackoff, maxBackoff = 100 * time.Millisecond, 10 * time.Second
	backoff := minBackoff
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.core.failures:
		}
		for ctx.Err() == nil {
			err := e.recoverJournal(ctx)
			if err == nil {
				backoff = minBackoff
				break
			}
			e.log.Error("journal recovery failed; writes answer 503 until it succeeds", "err", err, "retry_in", backoff.String())
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, maxBackoff)
		}
	}
}

// superviseIngest runs the Kafka ingest and starts a new one after it
// stops on an error (a batch the journal could not take): the new reader
// resumes from committed offsets, which never pass the ledger's.
func (e *Engine) superviseIngest(ctx context.Context) {
	for ctx.Err() == nil {
		in, err := newIngest(e.cfg.Kafka, e.core, e.ingest, e.log, e.now)
		if err == nil {
			err = in.run(ctx)
		}
		if err == nil || ctx.Err() != nil {
			return
		}
		e.log.Error("1C ingest stopped; restarting", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// IngestStats returns the 1C ingest counters.
func (e *Engine) IngestStats() IngestStats { return e.ingest.stats() }

// SeqGaps returns the most recent gaps found in 1C sources' seq.
func (e *Engine) SeqGaps() []SeqGap { return e.ingest.recentGaps() }

// IngestStatus implements httpapi.IngestReporter.
func (e *Engine) IngestStatus() httpapi.IngestStatus {
	st := e.IngestStats()
	out := httpapi.IngestStatus{Applied: st.Applied, Stale: st.Stale, Duplicate: st.Duplicate, Noop: st.Noop,
		Rejected: st.Rejected, AlreadyApplied: st.AlreadyApplied, DLQ: st.DLQ, SeqGaps: st.SeqGaps,
		Fractional: st.Fractional, RecentGaps: []httpapi.GapStatus{}}
	for _, g := range e.SeqGaps() {
		out.RecentGaps = append(out.RecentGaps, httpapi.GapStatus{Source: g.Source, After: g.After, Missing: g.Missing, DetectedAt: g.DetectedAt})
	}
	return out
}

// recoverJournal swaps in a ledger rebuilt from the reopened journal.
func (e *Engine) recoverJournal(ctx context.Context) error {
	c := e.core
	c.mu.Lock()
	defer c.mu.Unlock()
	start := time.Now()
	cause := c.failed
	if cause == nil {
		cause = c.commit.Err()
	}
	if cause == nil {
		return nil
	}
	if c.failed == nil {
		c.failed = cause
	}
	closeErr := errors.Join(c.commit.Close(ctx), e.backend.Close())
	b, err := e.reopen(ctx)
	if err != nil {
		return fmt.Errorf("reopen journal: %w", err)
	}
	lcfg, err := e.cfg.ledgerConfig()
	if err != nil {
		b.Close()
		return err
	}
	ledger, err := recoverLedger(ctx, b, lcfg, e.log)
	if err != nil {
		b.Close()
		return err
	}
	commit, err := journal.NewCommitter(b, c.limits)
	if err != nil {
		b.Close()
		return err
	}
	e.backend, c.ledger, c.commit, c.failed = b, ledger, commit, nil
	c.gen++
	e.handoff.confirmUncertain() // confirms made durable before the failure were maybe not published
	e.log.Warn("journal recovered after a write failure", "cause", cause, "close_err", closeErr,
		"took", time.Since(start).String())
	return nil
}

// MaxLinesPerHold implements httpapi.Backend.
func (e *Engine) MaxLinesPerHold() int { return reservation.DefaultLimits().MaxLinesPerHold }

// Reserve implements httpapi.Backend.
func (e *Engine) Reserve(ctx context.Context, req reservation.ReserveRequest) (reservation.Hold, bool, error) {
	h, res, err := e.core.Reserve(ctx, req, e.now())
	if err == nil && !res.Replayed {
		e.countOp(ctx, telemetry.OpHold, 1)
	}
	return h, res.Replayed, err
}

// Confirm implements httpapi.Backend.
func (e *Engine) Confirm(ctx context.Context, id string, ttl time.Duration) (reservation.Hold, error) {
	h, err := e.core.Confirm(ctx, id, ttl, e.now())
	switch {
	case err == nil:
		e.countOp(ctx, telemetry.OpConfirm, 1)
		e.handoff.orderConfirmed(h)
	case errors.Is(err, errUnavailable), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		e.handoff.confirmUncertain() // it may be durable all the same
	}
	return h, err
}

// Release implements httpapi.Backend.
func (e *Engine) Release(ctx context.Context, id string) (reservation.Hold, error) {
	h, err := e.core.Release(ctx, id, e.now())
	if err == nil {
		e.countOp(ctx, telemetry.OpRelease, 1)
		e.handoff.orderReleased(h)
	}
	return h, err
}

// Hold implements httpapi.Backend. The reply waits until the state it
// shows is durable.
func (e *Engine) Hold(ctx context.Context, id string) (reservation.Hold, error) {
	var h reservation.Hold
	found := false
	e.core.Read(func(l *reservation.Ledger) { found = l.Hold(id, &h) })
	if !found {
		return h, fmt.Errorf("%w: %q", reservation.ErrHoldNotFound, id)
	}
	return h, e.core.Barrier(ctx)
}

// Availability implements httpapi.Backend.
func (e *Engine) Availability(sku, channel string) (httpapi.Availability, error) {
	av := httpapi.Availability{SKU: sku, Warehouses: []httpapi.WarehouseReply{}, Channels: []httpapi.ChannelAvailReply{}}
	var err error
	e.core.Read(func(l *reservation.Ledger) {
		channels := l.Channels()
		if channel != "" {
			channels = []string{channel}
		}
		for _, ch := range channels {
			n, cerr := l.Available(sku, ch)
			if cerr != nil {
				err = cerr
				return
			}
			av.Channels = append(av.Channels, httpapi.ChannelAvailReply{Channel: ch, Available: n})
		}
		for _, w := range l.Warehouses(sku, nil) {
			av.Known = true
			av.Warehouses = append(av.Warehouses, httpapi.WarehouseReply{
				Warehouse: w.Warehouse, Free: w.Free, Held: w.Held, Safety: w.Safety, Available: w.Available})
		}
		if item, ok := l.Item(sku); ok {
			av.Known = true
			for _, k := range item.Kit {
				av.Kit = append(av.Kit, httpapi.KitReply{SKU: k.SKU, Qty: k.Qty})
			}
		}
		av.Short = l.IsShort(sku)
	})
	return av, err
}

// ApplyEvents applies decoded 1C events in order, durably; see core.ApplyEvents.
func (e *Engine) ApplyEvents(ctx context.Context, events []SourcedEvent) ([]EventResult, error) {
	var size int64
	for i := range events {
		size += int64(len(events[i].Event.SKU)+len(events[i].Event.ID)+len(events[i].Event.Name)) + 256
	}
	return e.core.ApplyEvents(ctx, events, size, nil)
}
