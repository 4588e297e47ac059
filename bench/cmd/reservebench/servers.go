package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"strings"
	"time"

	"stockd/bench/baseline"
	"stockd/bench/loadgen"
)

// served is a target server listening on 127.0.0.1, in this process or in
// a child process of its own.
type served struct {
	Addr  string `json:"addr"`
	Token string `json:"token"` // the reserve-scope API key, "" when the target needs none
	Note  string `json:"note"`  // what the report row should say about the target
	stop  func() error
	cpu   func() time.Duration // the server process's CPU time so far; nil when unknown
}

// Bounds on a server child process.
const (
	// MaxChildStart is how long a child may take to say where it listens
	// (stockd seeds its SKUs through the journal first; the row-lock
	// baseline seeds its table).
	MaxChildStart = 2 * time.Minute
	// MaxChildStop is how long a child may take to stop after its stdin
	// closes before it is killed.
	MaxChildStop = 30 * time.Second
	// MaxChildHello bounds the line a child writes about itself.
	MaxChildHello = 64 << 10
)

// start starts target: in a child process (the default, as a checkout's
// server would be a process of its own), or in this process with
// -in-process.
func (b *bench) start(ctx context.Context, target string) (*served, error) {
	if b.o.inProcess {
		return b.startHere(ctx, target)
	}
	return b.startChild(ctx, target)
}

// startHere starts target in this process.
func (b *bench) startHere(ctx context.Context, target string) (*served, error) {
	switch target {
	case targetStockd:
		s, err := startStockd(ctx, b.log, b.limits, b.o.journal(), loadgen.SKUNames(b.o.skus))
		if err != nil {
			return nil, err
		}
		return &served{Addr: s.addr, Token: s.token, Note: "journal in " + s.dir, stop: s.stop}, nil
	case targetNoop:
		srv, err := baseline.NewNoop(b.limits, b.log)
		if err != nil {
			return nil, err
		}
		addr, stop, err := serveLoopback(ctx, srv)
		if err != nil {
			return nil, err
		}
		return &served{Addr: addr, stop: stop}, nil
	case targetRowLock:
		return b.startRowLock(ctx)
	}
	return nil, fmt.Errorf("unknown target %q", target)
}

// childHello is the one line a child writes on stdout once it serves.
type childHello struct {
	served
	Err string `json:"err,omitempty"`
}

// startChild runs this command again as `-serve target` and reads where
// the child listens. Closing the child's stdin stops it.
func (b *bench) startChild(ctx context.Context, target string) (*served, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find this command to start a %s child: %w", target, err)
	}
	args := []string{"-serve", target, "-skus", strconv.Itoa(b.o.skus)}
	args = append(args, "-gather-wait", b.o.gatherWait.String(), "-log-level", b.o.logLevel.String())
	args = append(args, "-snapshot-every", strconv.FormatUint(b.o.snapshotEvery, 10), "-snapshot-interval", b.o.snapshotInterval.String())
	if b.o.memProfile != "" {
		args = append(args, "-memprofile", b.o.memProfile+"."+target)
	}
	if b.o.journalDir != "" {
		args = append(args, "-journal-dir", b.o.journalDir)
	}
	if b.o.cpuProfile != "" {
		args = append(args, "-cpuprofile", b.o.cpuProfile+"."+target)
	}
	if b.o.execTrace != "" {
		args = append(args, "-trace", b.o.execTrace+"."+target)
	}
	cmd := exec.Command(exe, args...)
	// The database URL may carry a password: it goes by the environment,
	// never on a command line others can read.
	cmd.Env = append(os.Environ(), "STOCKD_TEST_DATABASE_URL="+b.o.databaseURL)
	cmd.Stderr = b.progress
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the %s child: %w", target, err)
	}
	exited := make(chan error, 1)
	stop := func() error {
		stdin.Close()
		go func() { exited <- cmd.Wait() }()
		select {
		case err := <-exited:
			if err != nil {
				return fmt.Errorf("%s child: %w", target, err)
			}
			return nil
		case <-time.After(MaxChildStop):
			cmd.Process.Kill()
			return fmt.Errorf("%s child did not stop within %v: killed", target, MaxChildStop)
		}
	}
	hello := make(chan childHello, 1)
	go func() {
		var h childHello
		line, err := bufio.NewReaderSize(io.LimitReader(stdout, MaxChildHello), 4096).ReadString('\n')
		if err == nil {
			err = json.Unmarshal([]byte(line), &h)
		}
		if err != nil && h.Err == "" {
			h.Err = "no answer from the child: " + err.Error()
		}
		hello <- h
		io.Copy(io.Discard, stdout)
	}()
	select {
	case h := <-hello:
		if h.Err != "" {
			return nil, errors.Join(fmt.Errorf("%s child: %s", target, h.Err), stop())
		}
		s := h.served
		s.stop = stop
		pid := cmd.Process.Pid
		s.cpu = func() time.Duration { return processCPUTime(pid) }
		return &s, nil
	case <-time.After(MaxChildStart):
		return nil, errors.Join(fmt.Errorf("%s child did not start within %v", target, MaxChildStart), stop())
	case <-ctx.Done():
		return nil, errors.Join(ctx.Err(), stop())
	}
}

// serveChild is the child's side: start the target, say where it listens
// on stdout, serve until stdin closes or ctx ends, stop.
func serveChild(ctx context.Context, b *bench, stdin io.Reader, stdout io.Writer) error {
	stopProfile, err := record(b.o.cpuProfile, pprof.StartCPUProfile, pprof.StopCPUProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	stopTrace, err := record(b.o.execTrace, trace.Start, trace.Stop)
	if err != nil {
		return errors.Join(err, stopProfile())
	}
	defer stopTrace()
	s, err := b.startHere(ctx, b.o.serve)
	var h childHello
	if err != nil {
		h.Err = err.Error()
	} else {
		h.served = *s
	}
	line, merr := json.Marshal(h)
	if merr != nil {
		return errors.Join(merr, stopServed(s))
	}
	if _, werr := fmt.Fprintf(stdout, "%s\n", line); werr != nil || err != nil {
		return errors.Join(err, werr, stopServed(s))
	}
	closed := make(chan struct{})
	go func() {
		io.Copy(io.Discard, stdin)
		close(closed)
	}()
	select {
	case <-closed:
	case <-ctx.Done():
	}
	if b.o.memProfile != "" {
		if err := writeAllocsProfile(b.o.memProfile); err != nil {
			return errors.Join(err, s.stop())
		}
	}
	return s.stop()
}

// writeAllocsProfile writes the allocations made so far (pprof "allocs").
func writeAllocsProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	return errors.Join(pprof.Lookup("allocs").WriteTo(f, 0), f.Close())
}

func stopServed(s *served) error {
	if s == nil {
		return nil
	}
	return s.stop()
}

// startRowLock opens the PostgreSQL row-lock baseline in a schema of its
// own, seeded, and serves it; stop drops the schema.
func (b *bench) startRowLock(ctx context.Context) (*served, error) {
	if b.o.databaseURL == "" {
		return nil, errNoDatabase
	}
	schema := "reservebench_" + strings.ToLower(rand.Text()[:10])
	pool, err := baseline.OpenRowLockPool(ctx, b.o.databaseURL, schema)
	if err != nil {
		return nil, err
	}
	var version, fsync, syncCommit string
	err = pool.QueryRow(ctx, `SELECT current_setting('server_version'), current_setting('fsync'),
		current_setting('synchronous_commit')`).Scan(&version, &fsync, &syncCommit)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("read settings: %w", err)
	}
	if err := baseline.CreateRowLockSchema(ctx, pool, schema); err != nil {
		pool.Close()
		return nil, err
	}
	drop := func() error {
		defer pool.Close()
		dropCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return baseline.DropRowLockSchema(dropCtx, pool, schema)
	}
	fmt.Fprintf(b.progress, "reservebench: rowlock: seeding %d SKUs in schema %s\n", b.o.skus, schema)
	if err := baseline.SeedRowLockStock(ctx, pool, loadgen.SKUNames(b.o.skus), seedOnHand); err != nil {
		return nil, errors.Join(err, drop())
	}
	srv, err := baseline.NewRowLock(baseline.NewRowLockStore(pool), b.limits, b.log)
	if err != nil {
		return nil, errors.Join(err, drop())
	}
	addr, stop, err := serveLoopback(ctx, srv)
	if err != nil {
		return nil, errors.Join(err, drop())
	}
	note := fmt.Sprintf("PostgreSQL %s, fsync=%s, synchronous_commit=%s", version, fsync, syncCommit)
	return &served{Addr: addr, Note: note, stop: func() error { return errors.Join(stop(), drop()) }}, nil
}

// errNoDatabase: the row-lock phase is skipped, not failed.
var errNoDatabase = errors.New("no database (-database-url or STOCKD_TEST_DATABASE_URL)")

// processCPUTime is the user+system CPU time of process pid from
// /proc/pid/stat (clock ticks of 1/100 s); 0 where that cannot be read.
func processCPUTime(pid int) time.Duration {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces: count fields after ')'.
	i := strings.LastIndexByte(string(raw), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(raw[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	const clockTicksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / clockTicksPerSecond
}

// record starts a recording (a CPU profile, an execution trace) into a new
// file at path, and returns what stops it and closes the file; with path
// "" it records nothing.
func record(path string, start func(io.Writer) error, stop func()) (func() error, error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := start(f); err != nil {
		return nil, errors.Join(err, f.Close())
	}
	return func() error {
		stop()
		return f.Close()
	}, nil
}
