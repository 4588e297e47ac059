package filejournal_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"stockd/engine/journal/filejournal"
)

// dirEntries lists dir's names.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestCheckDiskMeasuresAndCleansUp(t *testing.T) {
	dir := t.TempDir()
	keep := filepath.Join(dir, "00000000000000000001.log") // a live journal's file stays as it is
	if err := os.WriteFile(keep, []byte("segment"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filejournal.DefaultCheckConfig()
	cfg.Writes, cfg.GroupBytes = 40, 1500
	res, err := filejournal.CheckDisk(context.Background(), dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Writes != 40 || res.Stopped != "writes" || res.GroupBytes != 1500 || res.Dir != dir {
		t.Fatalf("result %+v, want 40 writes of 1500 bytes in %s, stopped by writes", res, dir)
	}
	q := []time.Duration{res.P50, res.P90, res.P99, res.P999, res.Max}
	for i := range q {
		if q[i] <= 0 || (i > 0 && q[i] < q[i-1]) {
			t.Fatalf("quantiles %v: want positive and non-decreasing", q)
		}
	}
	// Forty durable groups, one after another, cannot take less than the
	// sum of their latencies' smallest share.
	if res.Elapsed < 40*res.P50/2 || res.CPUPerWrite <= 0 || res.WritesPerSecond() <= 0 {
		t.Fatalf("elapsed %v, CPU per write %v, %.0f writes/s: inconsistent with p50 %v", res.Elapsed, res.CPUPerWrite,
			res.WritesPerSecond(), res.P50)
	}
	if got := dirEntries(t, dir); len(got) != 1 || got[0] != filepath.Base(keep) {
		t.Fatalf("after the check %s holds %v, want only the journal's own file", dir, got)
	}
	if b, err := os.ReadFile(keep); err != nil || string(b) != "segment" {
		t.Fatalf("the journal's file changed: %q, %v", b, err)
	}
}

func TestCheckDiskStopsAtItsDuration(t *testing.T) {
	dir := t.TempDir()
	cfg := filejournal.CheckConfig{Writes: filejournal.MaxCheckWrites / 10, Duration: 150 * time.Millisecond, GroupBytes: 512}
	start := time.Now()
	res, err := filejournal.CheckDisk(context.Background(), dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stopped != "duration" || res.Writes == 0 || res.Writes >= cfg.Writes {
		t.Fatalf("result %+v: want stopped by its duration after some writes", res)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("a 150-ms check took %v", took)
	}
	if got := dirEntries(t, dir); len(got) != 0 {
		t.Fatalf("left %v behind", got)
	}
}

func TestCheckDiskInterrupted(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := filejournal.CheckDisk(ctx, dir, filejournal.DefaultCheckConfig())
	if err == nil || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("check with an ended context: %v, want interrupted before its first write", err)
	}
	if got := dirEntries(t, dir); len(got) != 0 {
		t.Fatalf("left %v behind", got)
	}
}

func TestCheckDiskRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "plain")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ok := filejournal.DefaultCheckConfig()
	for _, tc := range []struct {
		name string
		dir  string
		cfg  func(*filejournal.CheckConfig)
		want string
	}{
		{"no writes", dir, func(c *filejournal.CheckConfig) { c.Writes = 0 }, "writes 0"},
		{"too many writes", dir, func(c *filejournal.CheckConfig) { c.Writes = filejournal.MaxCheckWrites + 1 }, "writes"},
		{"no duration", dir, func(c *filejournal.CheckConfig) { c.Duration = 0 }, "duration"},
		{"too long", dir, func(c *filejournal.CheckConfig) { c.Duration = filejournal.MaxCheckDuration + time.Second }, "duration"},
		{"empty groups", dir, func(c *filejournal.CheckConfig) { c.GroupBytes = 0 }, "group bytes"},
		{"huge groups", dir, func(c *filejournal.CheckConfig) { c.GroupBytes = filejournal.MaxCheckGroupBytes + 1 }, "group bytes"},
		{"too many bytes", dir, func(c *filejournal.CheckConfig) { c.Writes, c.GroupBytes = 1000, filejournal.MaxCheckGroupBytes }, "more than"},
		{"missing directory", filepath.Join(dir, "nope"), func(*filejournal.CheckConfig) {}, "no such file"},
		{"a file", file, func(*filejournal.CheckConfig) {}, "not a directory"},
	} {
		cfg := ok
		tc.cfg(&cfg)
		if _, err := filejournal.CheckDisk(context.Background(), tc.dir, cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error about %q", tc.name, err, tc.want)
		}
	}
	if got := dirEntries(t, dir); len(got) != 1 {
		t.Fatalf("refused checks left %v", got)
	}
}
