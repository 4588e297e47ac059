package filejournal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"syscall"
	"time"
)

// Bounds of a disk check.
const (
	MaxCheckWrites     = 1_000_000
	MaxCheckDuration   = 10 * time.Minute
	MaxCheckGroupBytes = 4 << 20
	// MaxCheckBytes bounds what a check writes in all (writes × group
	// bytes), so that it never fills the disk it measures.
	MaxCheckBytes = 1 << 30
)

// CheckConfig says how much a disk check writes. Every field must be set;
// DefaultCheckConfig gives the values stockd checkdisk uses.
type CheckConfig struct {
	// Writes is the number of groups to write, 1..MaxCheckWrites.
	Writes int
	// Duration ends the check sooner, (0, MaxCheckDuration].
	Duration time.Duration
	// GroupBytes is one group's record bytes, 1..MaxCheckGroupBytes: about
	// 4 KiB is a group of two dozen holds.
	GroupBytes int
}

// DefaultCheckConfig returns 2,000 groups of 4 KiB within 30 seconds.
func DefaultCheckConfig() CheckConfig {
	return CheckConfig{Writes: 2000, Duration: 30 * time.Second, GroupBytes: 4 << 10}
}

func (c CheckConfig) validate() error {
	switch {
	case c.Writes < 1 || c.Writes > MaxCheckWrites:
		return fmt.Errorf("filejournal: check writes %d: want 1..%d", c.Writes, MaxCheckWrites)
	case c.Duration <= 0 || c.Duration > MaxCheckDuration:
		return fmt.Errorf("filejournal: check duration %v: want more than 0, at most %v", c.Duration, MaxCheckDuration)
	case c.GroupBytes < 1 || c.GroupBytes > MaxCheckGroupBytes:
		return fmt.Errorf("filejournal: check group bytes %d: want 1..%d", c.GroupBytes, MaxCheckGroupBytes)
	case int64(c.Writes)*int64(c.GroupBytes) > MaxCheckBytes:
		return fmt.Errorf("filejournal: check of %d groups of %d bytes writes more than %d bytes: fewer writes or smaller groups",
			c.Writes, c.GroupBytes, MaxCheckBytes)
	}
	return nil
}

// CheckResult is what a disk check measured: the time of each group's
// write and fdatasync, as the journal makes them durable.
type CheckResult struct {
	Dir        string        `json:"dir"`
	GroupBytes int           `json:"group_bytes"`
	Writes     int           `json:"writes"`
	Elapsed    time.Duration `json:"elapsed_ns"`
	// Stopped is why the check ended: "writes" (all made), "duration" or
	// "interrupted" (its context ended).
	Stopped string `json:"stopped"`
	// Latency quantiles of one group's durable write.
	P50  time.Duration `json:"p50_ns"`
	P90  time.Duration `json:"p90_ns"`
	P99  time.Duration `json:"p99_ns"`
	P999 time.Duration `json:"p999_ns"`
	Max  time.Duration `json:"max_ns"`
	// CPUPerWrite is this process's user and system CPU time per group: on
	// a virtual disk each flush also costs a core this long.
	CPUPerWrite time.Duration `json:"cpu_per_write_ns"`
}

// WritesPerSecond is the rate of durable groups one writer reached.
func (r CheckResult) WritesPerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Writes) / r.Elapsed.Seconds()
}

// CheckDisk measures how fast dir's disk makes a journal group durable: it
// opens a file journal in a new temporary directory inside dir (with the
// production options: preallocated segments, pwrite and fdatasync per
// group), writes cfg.Writes groups of one cfg.GroupBytes record each, one
// after another, until all are made, cfg.Duration has passed or ctx ends,
// and removes the temporary directory. It never touches anything else in
// dir, so it may run beside a live journal (whose flushes it then
// competes with). An interrupted check returns what it measured so far,
// with an error only if it measured nothing.
func CheckDisk(ctx context.Context, dir string, cfg CheckConfig) (CheckResult, error) {
	if err := cfg.validate(); err != nil {
		return CheckResult{}, err
	}
	if st, err := os.Stat(dir); err != nil {
		return CheckResult{}, fmt.Errorf("filejournal: check %s: %w", dir, err)
	} else if !st.IsDir() {
		return CheckResult{}, fmt.Errorf("filejournal: check %s: not a directory", dir)
	}
	tmp, err := os.MkdirTemp(dir, ".stockd-checkdisk-")
	if err != nil {
		return CheckResult{}, fmt.Errorf("filejournal: check %s: %w", dir, err)
	}
	res, err := checkIn(ctx, tmp, cfg)
	res.Dir = dir
	if rmErr := os.RemoveAll(tmp); rmErr != nil && err == nil {
		err = fmt.Errorf("filejournal: check: remove %s: %w", tmp, rmErr)
	}
	return res, err
}

func checkIn(ctx context.Context, tmp string, cfg CheckConfig) (CheckResult, error) {
	opts := DefaultOptions()
	opts.MaxRecordBytes = max(opts.MaxRecordBytes, cfg.GroupBytes)
	j, err := Open(ctx, tmp, opts)
	if err != nil {
		return CheckResult{}, err
	}
	res, err := measure(ctx, j, cfg)
	return res, errors.Join(err, j.Close())
}

// measure writes the check's groups to j and sums up their latencies.
func measure(ctx context.Context, j *Journal, cfg CheckConfig) (CheckResult, error) {
	rec := make([]byte, cfg.GroupBytes)
	for i := range rec {
		rec[i] = byte(i*131 + 7) // not zeros: a disk that compresses must still write them
	}
	recs := [][]byte{rec}
	lat := make([]time.Duration, 0, min(cfg.Writes, 1<<16))
	res := CheckResult{GroupBytes: cfg.GroupBytes, Stopped: "writes"}
	deadline := time.Now().Add(cfg.Duration)
	cpu0, start := selfCPU(), time.Now()
	for i := range cfg.Writes {
		if ctx.Err() != nil {
			res.Stopped = "interrupted"
			break
		}
		t := time.Now()
		if !t.Before(deadline) {
			res.Stopped = "duration"
			break
		}
		if err := j.WriteBatch(ctx, uint64(i+1), recs); err != nil {
			return CheckResult{}, err
		}
		lat = append(lat, time.Since(t))
	}
	res.Elapsed = time.Since(start)
	cpu := selfCPU() - cpu0
	res.Writes = len(lat)
	if res.Writes == 0 {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("filejournal: check interrupted before its first write: %w", err)
		}
		return res, fmt.Errorf("filejournal: check stopped by its %s before its first write", res.Stopped)
	}
	res.CPUPerWrite = cpu / time.Duration(res.Writes)
	slices.Sort(lat)
	at := func(q float64) time.Duration { return lat[min(len(lat)-1, int(q*float64(len(lat))))] }
	res.P50, res.P90, res.P99, res.P999, res.Max = at(0.50), at(0.90), at(0.99), at(0.999), lat[len(lat)-1]
	return res, nil
}

// selfCPU is this process's user and system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
