package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"stockd/engine"
	"stockd/engine/journal/filejournal"
)

// runCheckDisk measures the disk of a file journal: how long one group's
// write and fdatasync takes, as the journal makes every hold durable.
func runCheckDisk(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("checkdisk", flag.ContinueOnError)
	fs.SetOutput(stderr)
	def := filejournal.DefaultCheckConfig()
	dir := fs.String("dir", "", "directory to measure: the file journal's (journal.dir)")
	configPath := fs.String("config", "", "measure the journal directory of this config file (STOCKD_* env vars apply)")
	writes := fs.Int("writes", def.Writes, fmt.Sprintf("groups to write, one after another (at most %d)", filejournal.MaxCheckWrites))
	duration := fs.Duration("duration", def.Duration, fmt.Sprintf("stop sooner after this long (at most %v)", filejournal.MaxCheckDuration))
	groupBytes := fs.Int("group-bytes", def.GroupBytes, "record bytes per group (4096 is about two dozen holds)")
	busy := fs.Int("busy", 0, "keep this many cores busy with spinning goroutines meanwhile, to see the disk's tail under CPU load (at most the machine's CPUs; CPU per group is then not measured)")
	asJSON := fs.Bool("json", false, "print the result as one JSON object")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: stockd checkdisk --dir DIR | --config stockd.yaml [flags]

Writes groups to a temporary journal inside the directory, each made durable with
one pwrite and one fdatasync as the file journal makes every hold durable, and
prints their latency and CPU cost. It removes what it wrote and touches nothing
else there; beside a running stockd it competes with its flushes.

flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("checkdisk: unexpected argument %q", fs.Arg(0))
	}
	if *busy < 0 || *busy > runtime.NumCPU() {
		return fmt.Errorf("checkdisk: --busy %d: want 0..%d (this machine's CPUs)", *busy, runtime.NumCPU())
	}
	target, err := checkDiskDir(*dir, *configPath)
	if err != nil {
		return err
	}
	cfg := filejournal.CheckConfig{Writes: *writes, Duration: *duration, GroupBytes: *groupBytes}
	stopBusy := keepBusy(*busy)
	res, err := filejournal.CheckDisk(ctx, target, cfg)
	stopBusy()
	if err != nil {
		return fmt.Errorf("checkdisk: %w", err)
	}
	if *busy > 0 {
		res.CPUPerWrite = 0 // the process's CPU time is the spinners'
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	printCheckDisk(stdout, res, *busy)
	return nil
}

// keepBusy starts n goroutines that spin until the returned function is
// called, which waits for them to end. They get n more Ps of their own, so
// that the writer competes with them for the cores in the kernel, as with
// other processes, and never waits for a P behind them.
func keepBusy(n int) func() {
	if n == 0 {
		return func() {}
	}
	procs := runtime.GOMAXPROCS(0)
	runtime.GOMAXPROCS(procs + n)
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for !stop.Load() {
			}
		})
	}
	return func() {
		stop.Store(true)
		wg.Wait()
		runtime.GOMAXPROCS(procs)
	}
}

// checkDiskDir picks the directory: --dir, or the config's file journal.
func checkDiskDir(dir, configPath string) (string, error) {
	switch {
	case dir != "" && configPath != "":
		return "", errors.New("checkdisk: give --dir or --config, not both")
	case dir != "":
		return dir, nil
	case configPath == "":
		return "", errors.New("checkdisk: give --dir DIR (the journal's directory) or --config stockd.yaml")
	}
	cfg, err := loadConfig(configPath, os.LookupEnv)
	if err != nil {
		return "", err
	}
	if cfg.Journal.Kind != engine.JournalFile {
		return "", fmt.Errorf("checkdisk: %s has a %s journal: measure the database's disk with PostgreSQL's pg_test_fsync",
			configPath, cfg.Journal.Kind)
	}
	if _, err := os.Stat(cfg.Journal.Dir); errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("checkdisk: the journal directory %s does not exist yet (stockd serve creates it): create it or give --dir",
			cfg.Journal.Dir)
	}
	return cfg.Journal.Dir, nil
}

func printCheckDisk(w io.Writer, r filejournal.CheckResult, busy int) {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d)/float64(time.Millisecond)) }
	stopped := ""
	if r.Stopped != "writes" {
		stopped = " (stopped by its " + r.Stopped + ")"
	}
	if busy > 0 {
		stopped += fmt.Sprintf(", %d cores kept busy", busy)
	}
	fmt.Fprintf(w, "stockd checkdisk %s: %d groups of %d bytes, one pwrite + fdatasync each, in %v%s: %.0f groups/s\n",
		r.Dir, r.Writes, r.GroupBytes, r.Elapsed.Round(time.Millisecond), stopped, r.WritesPerSecond())
	fmt.Fprintf(w, "  latency  p50 %s  p90 %s  p99 %s  p99.9 %s  max %s\n", ms(r.P50), ms(r.P90), ms(r.P99), ms(r.P999), ms(r.Max))
	if busy > 0 {
		fmt.Fprintf(w, "  CPU per group not measured while cores are kept busy\n")
	} else {
		fmt.Fprintf(w, "  CPU per group %v (user + system)\n", r.CPUPerWrite.Round(time.Microsecond))
	}
	fmt.Fprintf(w, "A hold waits for the group in flight, then journal.gather_wait and its own group: about twice one\n"+
		"group's latency in all (%s at this p99), before its HTTP and handler time. Under load the\n"+
		"disk's tail grows: see deploy/README.md, \"The journal's disk\".\n", ms(2*r.P99))
}
