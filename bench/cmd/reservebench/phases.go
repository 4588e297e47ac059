package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"stockd/adapters/httpapi"
	"stockd/bench/baseline"
	"stockd/bench/loadgen"
	"stockd/engine"
	"stockd/reservation"
)

// phase is one row of the report: a target measured under one load.
type phase struct {
	name    string
	mode    loadgen.Mode
	result  loadgen.Result
	skipped string  // why it was not measured; "" when it was
	err     error   // why the measurement failed
	note    string  // what else the row needs said
	offered float64 // open loop: the arrival rate, holds per second
	// serverCPU is the CPU time the server's process used while the phase
	// was measured; 0 when unknown (a server in this process).
	serverCPU time.Duration
	// loadCPU is the CPU time the load generator (this process) used
	// meanwhile; 0 when the server runs in this process too.
	loadCPU time.Duration
	conns   int // closed loop: the connections of the best measurement
	round   int // closed loop: the round of the best measurement (from 1)
	// others are the closed-loop measurements that were not the best, as
	// the note lists them.
	others []string
}

// addNote appends to the row's note.
func (p *phase) addNote(s string) {
	if p.note != "" {
		p.note += "; "
	}
	p.note += s
}

// MaxFailureRatio is the share of requests that may fail (statuses other
// than 201, 200, 409, or no answer) before a row's figures are not used.
const MaxFailureRatio = 0.01

// problem says why the row's figures cannot be used, "" when they can.
func (p phase) problem() string {
	r := p.result
	switch {
	case p.skipped != "":
		return "skipped: " + p.skipped
	case p.err != nil:
		return "error: " + p.err.Error()
	case r.Holds() == 0:
		return "invalid: no hold granted" + statusSummary(r)
	case float64(r.Failures()) > MaxFailureRatio*float64(r.Started):
		return fmt.Sprintf("invalid: %d of %d holds failed%s", r.Failures(), r.Started, statusSummary(r))
	}
	return ""
}

func statusSummary(r loadgen.Result) string {
	var parts []string
	for status, n := range r.OtherStatuses {
		parts = append(parts, fmt.Sprintf("%d×%d", n, status))
	}
	if r.Hold.Errors+r.Release.Errors > 0 {
		parts = append(parts, fmt.Sprintf("%d×no answer (%s)", r.Hold.Errors+r.Release.Errors, r.FirstError))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// bench runs the phases.
type bench struct {
	o        options
	log      *slog.Logger
	limits   httpapi.Limits // the same fasthttp limits for every server
	nonce    string         // makes hold ids unique to this run
	progress io.Writer
}

// measure is one round of a target's peak search: for each -connections
// count it warms the target up and measures a closed loop; the row keeps
// the best over all rounds, and sweepNote lists the others.
func (b *bench) measure(ctx context.Context, s *served, p *phase, name string, round int) {
	for _, conns := range b.o.connList {
		if err := b.warmUp(ctx, s, name, conns); err != nil {
			p.err = err
			return
		}
		fmt.Fprintf(b.progress, "reservebench: %s: round %d of %d, closed loop, %d connections, %v\n",
			name, round, b.o.rounds, conns, b.o.duration)
		res, cpu, err := b.measureServer(s, func() (loadgen.Result, error) {
			return loadgen.Run(ctx, b.o.closedLoop(s.Addr, s.Token, fmt.Sprintf("%s-m%d-%d-%s", name, round, conns, b.nonce), b.o.duration, conns))
		})
		if err != nil {
			p.err = err
			return
		}
		if p.conns == 0 || res.HoldsPerSec() > p.result.HoldsPerSec() {
			if p.conns != 0 {
				p.others = append(p.others, b.sweepLabel(p.round, p.conns, p.result.HoldsPerSec()))
			}
			p.result, p.serverCPU, p.loadCPU, p.conns, p.round = res, cpu.server, cpu.load, conns, round
		} else {
			p.others = append(p.others, b.sweepLabel(round, conns, res.HoldsPerSec()))
		}
	}
}

// sweepLabel names one closed-loop measurement in a row's note.
func (b *bench) sweepLabel(round, conns int, holdsPerSec float64) string {
	if b.o.rounds > 1 {
		return fmt.Sprintf("round %d, %d conns: %.0f", round, conns, holdsPerSec)
	}
	return fmt.Sprintf("%d conns: %.0f", conns, holdsPerSec)
}

// sweepNote adds to a peak row which measurement was its best and what
// the others measured.
func (b *bench) sweepNote(p *phase) {
	if p.conns == 0 || len(p.others) == 0 {
		return
	}
	best := fmt.Sprintf("best at %d connections", p.conns)
	if b.o.rounds > 1 {
		best += fmt.Sprintf(" in round %d of %d", p.round, b.o.rounds)
	}
	p.addNote(fmt.Sprintf("%s (%s holds/s)", best, strings.Join(p.others, ", ")))
}

// warmUp runs unmeasured load.
func (b *bench) warmUp(ctx context.Context, s *served, name string, conns int) error {
	if b.o.warmup <= 0 {
		return nil
	}
	fmt.Fprintf(b.progress, "reservebench: %s: warming up for %v\n", name, b.o.warmup)
	cfg := b.o.closedLoop(s.Addr, s.Token, fmt.Sprintf("%s-w%d-%s", name, conns, b.nonce), b.o.warmup, conns)
	if _, err := loadgen.Run(ctx, cfg); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	return nil
}

// measureAt measures the target in an open loop at rate holds/s.
func (b *bench) measureAt(ctx context.Context, s *served, p *phase, name string, rate float64) {
	fmt.Fprintf(b.progress, "reservebench: %s: open loop at %.0f holds/s, %v\n", name, rate, b.o.duration)
	var cpu cpuUse
	p.result, cpu, p.err = b.measureServer(s, func() (loadgen.Result, error) {
		return loadgen.Run(ctx, b.o.openLoop(s.Addr, s.Token, name+"-o"+b.nonce, rate))
	})
	p.serverCPU, p.loadCPU = cpu.server, cpu.load
}

// cpuUse is the CPU time a measurement took in the server's process and
// in the load generator's (0 where unknown).
type cpuUse struct{ server, load time.Duration }

// measureServer runs load and reads the server's CPU time around it, and
// the load generator's when the server is a child process.
func (b *bench) measureServer(s *served, load func() (loadgen.Result, error)) (loadgen.Result, cpuUse, error) {
	var before cpuUse
	if s.cpu != nil {
		before = cpuUse{server: s.cpu(), load: processCPUTime(os.Getpid())}
	}
	res, err := load()
	var used cpuUse
	if s.cpu != nil {
		used = cpuUse{server: s.cpu() - before.server, load: processCPUTime(os.Getpid()) - before.load}
	}
	return res, used, err
}

// startStockd starts the stockd target for its peak row.
func (b *bench) startStockdTarget(ctx context.Context, peak, half *phase) *served {
	s, err := b.start(ctx, targetStockd)
	if err != nil {
		peak.err = err
		half.skipped = "stockd did not start"
		return nil
	}
	peak.note = s.Note
	if b.o.gatherWait > 0 {
		peak.addNote("gather_wait " + b.o.gatherWait.String())
	}
	if b.o.openRate > 0 {
		peak.skipped = "-open-rate given"
		half.name = "stockd at -open-rate"
	}
	return s
}

// runHalf measures stockd in the open loop at half its peak, or at
// -open-rate.
func (b *bench) runHalf(ctx context.Context, s *served, peak phase, half *phase) {
	switch {
	case b.o.openRate > 0:
		half.offered = b.o.openRate
		if err := b.warmUp(ctx, s, "stockd", b.o.connections); err != nil {
			half.err = err
			return
		}
	case peak.problem() != "":
		half.skipped = "no usable peak"
		return
	default:
		half.offered = peak.result.HoldsPerSec() / 2
	}
	b.measureAt(ctx, s, half, "stockd", half.offered)
	half.addNote(fmt.Sprintf("%.0f holds/s offered", half.offered))
}

// stockd is an engine running in this process.
type stockd struct {
	addr, token string
	dir         string
	cancel      context.CancelFunc
	done        chan error
}

// stockdJournal is how stockd's file journal is set up: under parent (""
// the system temp dir), with the journal options of the command line.
type stockdJournal struct {
	parent           string
	gatherWait       time.Duration
	snapshotEvery    uint64
	snapshotInterval time.Duration
}

func (o *options) journal() stockdJournal {
	return stockdJournal{parent: o.journalDir, gatherWait: o.gatherWait,
		snapshotEvery: o.snapshotEvery, snapshotInterval: o.snapshotInterval}
}

// startStockd opens an engine on a fresh file journal, serves it on
// 127.0.0.1 and stocks every SKU through the engine's own event path.
func startStockd(ctx context.Context, log *slog.Logger, limits httpapi.Limits, j stockdJournal, skus []string) (*stockd, error) {
	dir, err := os.MkdirTemp(j.parent, "reservebench-journal-")
	if err != nil {
		return nil, err
	}
	token := "rb_" + rand.Text()
	cfg := engine.DefaultConfig()
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.HTTP.Limits = limits
	cfg.HTTP.APIKeys = []httpapi.APIKey{{
		Name: "reservebench", SHA256: httpapi.HashToken(token), Scopes: []httpapi.Scope{httpapi.ScopeReserve},
	}}
	// The file journal fdatasyncs every group commit; it has no switch to
	// turn that off, so every acknowledged hold here is durable.
	cfg.Journal.Kind, cfg.Journal.Dir = engine.JournalFile, dir
	cfg.Journal.GatherWait = j.gatherWait
	cfg.Journal.SnapshotEveryRecords, cfg.Journal.SnapshotInterval = j.snapshotEvery, j.snapshotInterval
	cfg.Channels = []engine.ChannelConfig{{
		Name: "site", Kind: engine.ChannelSite, Warehouses: []string{baseline.RowLockWarehouse}, Strategy: "priority",
	}}
	eng, err := engine.Open(ctx, cfg, engine.Deps{Logger: log})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("open stockd: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s := &stockd{addr: eng.HTTPAddr(), token: token, dir: dir, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- eng.Run(runCtx) }()
	if err := seedStock(ctx, eng, skus); err != nil {
		return nil, errors.Join(err, s.stop())
	}
	return s, nil
}

func (s *stockd) stop() error {
	s.cancel()
	err := <-s.done
	return errors.Join(err, os.RemoveAll(s.dir))
}

// MaxSeedEvents is the stock.set events applied (and journaled) as one
// group: the engine admits a command only if its records could take
// 256 KiB each without passing the journal queue's 64 MiB, so at most 256.
const MaxSeedEvents = 200

// seedStock sets every SKU's free stock in the one warehouse to
// seedOnHand, as 1C's stock.set events would, durably.
func seedStock(ctx context.Context, eng *engine.Engine, skus []string) error {
	at := time.Now()
	batch := make([]engine.SourcedEvent, 0, MaxSeedEvents)
	for i, sku := range skus {
		batch = append(batch, engine.SourcedEvent{Event: reservation.Event{
			V: reservation.EventSchemaVersion, ID: "reservebench-seed-" + strconv.Itoa(i),
			Source: "reservebench", Seq: uint64(i + 1), At: at,
			Type: reservation.EventStockSet, SKU: sku, Warehouse: baseline.RowLockWarehouse, Qty: seedOnHand,
		}})
		if len(batch) < MaxSeedEvents && i < len(skus)-1 {
			continue
		}
		results, err := eng.ApplyEvents(ctx, batch)
		if err != nil {
			return fmt.Errorf("seed stock: %w", err)
		}
		for j, r := range results {
			if r.Err != nil {
				return fmt.Errorf("seed stock of %s: %w", batch[j].Event.SKU, r.Err)
			}
		}
		batch = batch[:0]
	}
	return nil
}

// runNoopAt measures the no-op server at rate holds/s when rate > 0: the
// same open loop as stockd's half-peak row, on a server that does nothing,
// so that the load generator's and the machine's share of that row's
// latency shows.
func (b *bench) runNoopAt(ctx context.Context, s *served, atRate *phase, rate float64) {
	if rate <= 0 {
		atRate.skipped = "no stockd rate to match"
		return
	}
	atRate.offered = rate
	b.measureAt(ctx, s, atRate, "noop", rate)
	atRate.addNote(fmt.Sprintf("%.0f holds/s offered", rate))
}

// serveLoopback serves srv on 127.0.0.1 until stop.
func serveLoopback(ctx context.Context, srv *baseline.Server) (addr string, stop func() error, err error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	stop = func() error {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return errors.Join(srv.Shutdown(shutdownCtx), <-done)
	}
	return ln.Addr().String(), stop, nil
}
