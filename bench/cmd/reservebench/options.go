package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"stockd/bench/loadgen"
	"stockd/engine"
)

// The phases a run may measure, in the order they run.
const (
	targetStockd  = "stockd"
	targetNoop    = "noop"
	targetRowLock = "rowlock"
)

// options are the command's flags.
type options struct {
	cpuProfile  string
	memProfile  string
	execTrace   string
	duration    time.Duration
	warmup      time.Duration
	connections int   // the open loop's workers: the first of connList
	connList    []int // closed loops measured; each target's peak is its best
	rounds      int   // rounds of closed loops over all targets
	skus        int
	zipfS       float64
	lines       int
	seed        uint64
	maxOps      int64
	maxInFlight int
	databaseURL string
	journalDir  string
	gatherWait  time.Duration // stockd's journal.gather_wait
	// stockd's journal.snapshot_every_records and snapshot_interval
	snapshotEvery    uint64
	snapshotInterval time.Duration
	logLevel         slog.Level // of the servers' logs (stderr)
	openRate         float64    // stockd's open loop at this rate, no closed loop; 0: half the peak
	targets          []string
	quick            bool
	inProcess        bool     // servers in this process instead of child processes
	serve            string   // child mode: serve this target until stdin closes
	args             []string // as given, for the report's command line
}

// Run-wide settings that are not flags.
const (
	quickDuration  = 2 * time.Second
	quickWarmup    = 500 * time.Millisecond
	requestTimeout = 5 * time.Second
	dialTimeout    = 2 * time.Second
	seedOnHand     = 1_000_000_000 // units per SKU: never runs out, holds are released
	holdTTLSeconds = 300
	// MaxRounds bounds -rounds.
	MaxRounds = 10
)

func parseOptions(args []string, stderr io.Writer, getenv func(string) string) (options, error) {
	o := options{args: args}
	fs := flag.NewFlagSet("reservebench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured time of each phase")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured load before each phase")
	conns := fs.String("connections", "64,256",
		"keep-alive connections of the closed loops, comma-separated: each target's peak is its best (the open loop uses the first)")
	fs.IntVar(&o.rounds, "rounds", 2,
		"rounds of closed loops, each over every target and -connections count in turn: each target's peak is its best over all")
	fs.IntVar(&o.skus, "skus", 10_000, "SKUs the holds draw from")
	fs.Float64Var(&o.zipfS, "zipf-s", 1.1, "Zipf exponent of SKU popularity (> 1)")
	fs.IntVar(&o.lines, "lines", 1, "lines (distinct SKUs) per hold")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the SKU draws")
	fs.Int64Var(&o.maxOps, "max-ops", 50_000_000, "bound on holds sent in one phase")
	fs.IntVar(&o.maxInFlight, "max-in-flight", 4096, "open-loop holds admitted at once (later arrivals are dropped)")
	fs.StringVar(&o.databaseURL, "database-url", getenv("STOCKD_TEST_DATABASE_URL"),
		"PostgreSQL for the row-lock baseline (default $STOCKD_TEST_DATABASE_URL; empty skips it)")
	fs.DurationVar(&o.gatherWait, "gather-wait", engine.DefaultConfig().Journal.GatherWait,
		"stockd's journal.gather_wait: how long a group commit waits for company when callers are concurrent")
	fs.Uint64Var(&o.snapshotEvery, "snapshot-every", engine.DefaultConfig().Journal.SnapshotEveryRecords,
		"stockd's journal.snapshot_every_records: durable records since the last snapshot that make the next")
	fs.DurationVar(&o.snapshotInterval, "snapshot-interval", engine.DefaultConfig().Journal.SnapshotInterval,
		"stockd's journal.snapshot_interval: how often it checks whether a snapshot is due")
	fs.StringVar(&o.journalDir, "journal-dir", "",
		"where stockd's temporary journal goes (default the system temp dir); put it on the disk stockd would use")
	fs.Float64Var(&o.openRate, "open-rate", 0,
		"measure stockd only in the open loop at this many holds/s (no peak, no ratios); 0: at half of the measured peak")
	fs.TextVar(&o.logLevel, "log-level", slog.LevelWarn, "level of the servers' logs on stderr (debug, info, warn, error)")
	targets := fs.String("targets", "stockd,noop,rowlock", "phases to run, comma-separated")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write CPU profiles: with child processes each server's to FILE.TARGET and the load generator's to FILE.loadgen; -in-process, the whole run's to FILE")
	fs.StringVar(&o.execTrace, "trace", "", "write each server child's execution trace (go tool trace) to this file (suffixed with the target's name); keep -duration short, a trace grows by megabytes a second")
	fs.StringVar(&o.memProfile, "memprofile", "", "write each server's allocation profile, taken when it stops, to this file (suffixed with the target's name)")
	fs.BoolVar(&o.inProcess, "in-process", false,
		"run each server in this process, sharing its scheduler with the load generator (default: a child process per server)")
	fs.StringVar(&o.serve, "serve", "", "internal: run as the child process serving this target until stdin closes")
	fs.BoolVar(&o.quick, "quick", false, "a few-second smoke run: -duration 2s -warmup 500ms -rounds 1 unless given")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["duration"] {
			o.duration = quickDuration
		}
		if !set["warmup"] {
			o.warmup = quickWarmup
		}
		if !set["rounds"] {
			o.rounds = 1
		}
	}
	for _, c := range strings.Split(*conns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 || n > loadgen.MaxConnections {
			return o, fmt.Errorf("-connections: %q is not a count from 1 to %d", c, loadgen.MaxConnections)
		}
		o.connList = append(o.connList, n)
	}
	o.connections = o.connList[0]
	for _, t := range strings.Split(*targets, ",") {
		t = strings.TrimSpace(t)
		if t != targetStockd && t != targetNoop && t != targetRowLock {
			return o, fmt.Errorf("-targets: %q is not stockd, noop or rowlock", t)
		}
		if !slices.Contains(o.targets, t) {
			o.targets = append(o.targets, t)
		}
	}
	if o.serve != "" && o.serve != targetStockd && o.serve != targetNoop && o.serve != targetRowLock {
		return o, fmt.Errorf("-serve: %q is not stockd, noop or rowlock", o.serve)
	}
	if o.openRate < 0 {
		return o, errors.New("-open-rate must not be negative")
	}
	if o.rounds < 1 || o.rounds > MaxRounds {
		return o, fmt.Errorf("-rounds: %d is not a count from 1 to %d", o.rounds, MaxRounds)
	}
	if o.warmup < 0 {
		return o, errors.New("-warmup must not be negative")
	}
	if o.snapshotEvery == 0 || o.snapshotInterval <= 0 {
		return o, errors.New("-snapshot-every and -snapshot-interval must be positive")
	}
	if o.execTrace != "" && o.inProcess {
		return o, errors.New("-trace traces the server child processes: it cannot go with -in-process")
	}
	return o, nil
}

func (o options) runs(target string) bool { return slices.Contains(o.targets, target) }

func (o options) workload() loadgen.Workload {
	return loadgen.Workload{
		SKUs:         o.skus,
		ZipfS:        o.zipfS,
		LinesPerHold: o.lines,
		QtyPerLine:   1,
		Channel:      "site",
		TTLSeconds:   holdTTLSeconds,
		Seed:         o.seed,
	}
}

// closedLoop is the load of a peak phase.
func (o options) closedLoop(target, token, prefix string, d time.Duration, conns int) loadgen.Config {
	return loadgen.Config{
		Target:         target,
		APIToken:       token,
		Mode:           loadgen.ClosedLoop,
		Connections:    conns,
		Duration:       d,
		MaxOps:         o.maxOps,
		RequestTimeout: requestTimeout,
		DialTimeout:    dialTimeout,
		HoldIDPrefix:   prefix,
		Workload:       o.workload(),
	}
}

// openLoop is the load of the latency phase.
func (o options) openLoop(target, token, prefix string, rate float64) loadgen.Config {
	cfg := o.closedLoop(target, token, prefix, o.duration, o.connections)
	cfg.Mode = loadgen.OpenLoop
	cfg.RateOpsPerSec = rate
	cfg.MaxInFlight = o.maxInFlight
	return cfg
}

// commandLine is how to repeat this run, with a database URL (which may
// carry a password) shown as the variable it usually comes from.
func (o options) commandLine() string {
	parts := []string{"go", "run", "./bench/cmd/reservebench"}
	skipNext := false
	for _, a := range o.args {
		switch {
		case skipNext:
			skipNext = false
			continue
		case a == "-database-url" || a == "--database-url":
			parts = append(parts, a, `"$STOCKD_TEST_DATABASE_URL"`)
			skipNext = true
			continue
		case strings.HasPrefix(a, "-database-url=") || strings.HasPrefix(a, "--database-url="):
			name, _, _ := strings.Cut(a, "=")
			parts = append(parts, name+`="$STOCKD_TEST_DATABASE_URL"`)
			continue
		}
		parts = append(parts, shellQuote(a))
	}
	return strings.Join(parts, " ")
}

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=.,:/") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// placement says where the servers ran.
func (o options) placement() string {
	if o.inProcess {
		return "servers in the load generator's process, sharing its 2-P scheduler"
	}
	return "each server in a child process of its own; load generator and servers share the machine's CPUs"
}
