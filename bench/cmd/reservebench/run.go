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

	"stockd/bench/loadgen"
	"stockd/engine"
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
	// the target's name as a suffix); in process, one profile has both.
	if o.cpuProfile != "" && o.inProcess {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	// Check the load before starting anything.
	if err := o.openLoop("127.0.0.1:1", "", "check", 1).Validate(); err != nil {
		return err
	}
	rep := &report{o: o, started: time.Now()}
	notRun := func(name string, mode loadgen.Mode) phase {
		return phase{name: name, mode: mode, skipped: "not in -targets"}
	}
	if o.runs(targetStockd) {
		rep.stockd, rep.half = b.runStockd(ctx)
	} else {
		rep.stockd = notRun("stockd (file journal, fdatasync)", loadgen.ClosedLoop)
		rep.half = notRun("stockd at 50% of peak", loadgen.OpenLoop)
	}
	if o.runs(targetNoop) {
		rep.noop, rep.noopHalf = b.runNoop(ctx, rep.half.offered)
	} else {
		rep.noop = notRun("no-op fasthttp", loadgen.ClosedLoop)
		rep.noopHalf = notRun("no-op at stockd's 50% rate (control)", loadgen.OpenLoop)
	}
	if o.runs(targetRowLock) {
		rep.rowLck = b.runRowLock(ctx)
	} else {
		rep.rowLck = notRun("row-lock PostgreSQL", loadgen.ClosedLoop)
	}
	rep.print(stdout)
	if err := rep.err(); err != nil {
		return fmt.Errorf("some phases failed: %w", err)
	}
	return nil
}

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
