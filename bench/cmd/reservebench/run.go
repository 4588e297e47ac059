package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"stockd/bench/baseline"
	"stockd/bench/loadgen"
	"stockd/engine"
	"stockd/engine/journal/filejournal"
)

// run parses args, runs the phases -targets names and prints the report
// to stdout; progress and logs go to stderr. It returns an error when a
// phase failed (a skipped phase is not a failure), after printing.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	return runWith(ctx, args, nil, stdout, stderr, getenv)
}

// runWith is run with the stdin a -serve child watches.
func runWith(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	o, err := parseOptions(args, stderr, getenv)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	// The engine logs from its own goroutines while progress is written.
	stderr = &lockedWriter{w: stderr}
	b := &bench{
		o:        o,
		log:      slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: o.logLevel})),
		limits:   engine.DefaultConfig().HTTP.Limits,
		nonce:    strings.ToLower(rand.Text()[:6]),
		progress: stderr,
	}
	if o.serve != "" {
		if stdin == nil {
			return errors.New("-serve needs the stdin its parent closes to stop it")
		}
		return serveChild(ctx, b, stdin, stdout)
	}
	// With servers in child processes each profiles itself (the path gets
	// the target's name as a suffix) and the load generator goes to
	// FILE.loadgen; in process, one profile has both.
	path := o.cpuProfile
	if path != "" && !o.inProcess {
		path += ".loadgen"
	}
	stopProfile, err := record(path, pprof.StartCPUProfile, pprof.StopCPUProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	// Check the load before starting anything.
	if err := o.openLoop("127.0.0.1:1", "", "check", 1).Validate(); err != nil {
		return err
	}
	rep := b.runTargets(ctx)
	rep.print(stdout)
	if err := rep.err(); err != nil {
		return fmt.Errorf("some phases failed: %w", err)
	}
	return nil
}

// runTargets starts every server -targets names, measures their peaks in
// -rounds interleaved rounds (stockd, no-op, row-lock, again: a machine
// whose speed drifts during the run then weighs on every target alike),
// then the open loops at half of stockd's peak, and stops the servers.
func (b *bench) runTargets(ctx context.Context) *report {
	o := b.o
	rep := &report{o: o, started: time.Now(),
		stockd:   phase{name: "stockd (file journal, fdatasync)", mode: loadgen.ClosedLoop},
		half:     phase{name: "stockd at 50% of peak", mode: loadgen.OpenLoop},
		noop:     phase{name: "no-op fasthttp", mode: loadgen.ClosedLoop},
		noopHalf: phase{name: "no-op at stockd's 50% rate (control)", mode: loadgen.OpenLoop},
		rowLck:   phase{name: fmt.Sprintf("row-lock PostgreSQL (%d conns)", baseline.RowLockPoolConns), mode: loadgen.ClosedLoop},
	}
	type target struct {
		name string
		s    *served
		peak *phase
	}
	var targets []target
	if o.runs(targetStockd) {
		// Registered before the servers' stop, so it runs after it.
		rep.diskBefore = b.checkDisk(ctx)
		defer func() { rep.diskAfter = b.checkDisk(ctx) }()
	}
	defer func() {
		for _, t := range targets {
			if err := t.s.stop(); err != nil {
				t.peak.err = errors.Join(t.peak.err, fmt.Errorf("stop: %w", err))
			}
		}
	}()
	var stockdServer, noopServer *served
	if o.runs(targetStockd) {
		if stockdServer = b.startStockdTarget(ctx, &rep.stockd, &rep.half); stockdServer != nil {
			targets = append(targets, target{"stockd", stockdServer, &rep.stockd})
		}
	} else {
		rep.stockd.skipped, rep.half.skipped = notInTargets, notInTargets
	}
	if o.runs(targetNoop) {
		if s, err := b.start(ctx, targetNoop); err != nil {
			rep.noop.err, rep.noopHalf.skipped = err, "no-op server did not start"
		} else {
			noopServer = s
			targets = append(targets, target{"noop", s, &rep.noop})
		}
	} else {
		rep.noop.skipped, rep.noopHalf.skipped = notInTargets, notInTargets
	}
	switch {
	case !o.runs(targetRowLock):
		rep.rowLck.skipped = notInTargets
	case o.databaseURL == "":
		rep.rowLck.skipped = errNoDatabase.Error()
	default:
		if s, err := b.start(ctx, targetRowLock); err != nil {
			rep.rowLck.err = err
		} else {
			rep.rowLck.note = s.Note
			targets = append(targets, target{"rowlock", s, &rep.rowLck})
		}
	}
	for round := 1; round <= o.rounds; round++ {
		for _, t := range targets {
			if t.peak.skipped == "" && t.peak.err == nil {
				b.measure(ctx, t.s, t.peak, t.name, round)
			}
		}
	}
	for _, t := range targets {
		b.sweepNote(t.peak)
	}
	if stockdServer != nil {
		b.runHalf(ctx, stockdServer, rep.stockd, &rep.half)
	}
	if noopServer != nil && rep.noopHalf.skipped == "" {
		rate := rep.half.offered
		if o.openRate > 0 {
			rate = 0 // no ratios with -open-rate: nothing to match
		}
		b.runNoopAt(ctx, noopServer, &rep.noopHalf, rate)
	}
	return rep
}

// diskCheck is the journal disk's check, as stockd checkdisk makes it: a
// few hundred 4-KiB groups, alone on the machine before and after the
// phases, so that a run's figures carry the state of its disk.
var diskCheck = filejournal.CheckConfig{Writes: 500, Duration: 5 * time.Second, GroupBytes: 4 << 10}

// checkDisk measures the disk of stockd's journal directory. Its error is
// part of the report, not the run's: the phases still measure.
func (b *bench) checkDisk(ctx context.Context) diskResult {
	dir := b.o.journalDir
	if dir == "" {
		dir = os.TempDir()
	}
	res, err := filejournal.CheckDisk(ctx, dir, diskCheck)
	return diskResult{res, err}
}

// notInTargets is the skip reason of a row -targets leaves out.
const notInTargets = "not in -targets"

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
