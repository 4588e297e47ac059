package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"stockd/engine/journal/filejournal"
)

func TestCheckDiskCommand(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"checkdisk", "--dir", dir, "--writes", "25", "--group-bytes", "2048"}, &out, &errOut); err != nil {
		t.Fatalf("checkdisk: %v\n%s", err, errOut.String())
	}
	want := regexp.MustCompile(`(?s)^stockd checkdisk ` + regexp.QuoteMeta(dir) + `: 25 groups of 2048 bytes, one pwrite \+ fdatasync each, in \S+: \d+ groups/s\n` +
		`  latency  p50 \d+\.\d{3} ms  p90 \d+\.\d{3} ms  p99 \d+\.\d{3} ms  p99\.9 \d+\.\d{3} ms  max \d+\.\d{3} ms\n` +
		`  CPU per group \S+ \(user \+ system\)\n`)
	if !want.MatchString(out.String()) {
		t.Fatalf("output:\n%s", out.String())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("left %d entries in %s", len(ents), dir)
	}

	out.Reset()
	if err := run(context.Background(), []string{"checkdisk", "--dir", dir, "--writes", "5", "--json"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	var res filejournal.CheckResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || res.Writes != 5 || res.Dir != dir || res.P99 <= 0 || res.Stopped != "writes" ||
		res.CPUPerWrite <= 0 {
		t.Fatalf("--json: %+v, %v\n%s", res, err, out.String())
	}

	// With cores kept busy the check still measures the flushes, and its
	// spinners end with it.
	out.Reset()
	before, procs := runtime.NumGoroutine(), runtime.GOMAXPROCS(0)
	if err := run(context.Background(), []string{"checkdisk", "--dir", dir, "--writes", "5", "--busy", "1"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "5 groups of 4096 bytes") || !strings.Contains(out.String(), "1 cores kept busy") ||
		!strings.Contains(out.String(), "not measured while cores are kept busy") {
		t.Fatalf("--busy 1 output:\n%s", out.String())
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Fatalf("goroutines %d after the check, %d before: the spinners did not end", after, before)
	}
	if got := runtime.GOMAXPROCS(0); got != procs {
		t.Fatalf("GOMAXPROCS %d after the check, %d before", got, procs)
	}
	if err := run(context.Background(), []string{"checkdisk", "--dir", dir, "--busy", strconv.Itoa(runtime.NumCPU() + 1)}, &out, &errOut); err == nil ||
		!strings.Contains(err.Error(), "this machine's CPUs") {
		t.Fatalf("--busy over the CPUs: %v", err)
	}
}

// TestCheckDiskCommandFromConfig measures the config's journal directory
// and refuses what it cannot measure, writing nothing.
func TestCheckDiskCommandFromConfig(t *testing.T) {
	base := t.TempDir()
	journalDir := filepath.Join(base, "journal")
	write := func(name, body string) string {
		p := filepath.Join(base, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const channels = "channels:\n  - name: site\n    kind: site\n    warehouses: [wh-1]\n"
	fileCfg := write("file.yaml", channels+"journal:\n  kind: file\n  dir: "+journalDir+"\n")
	pgCfg := write("pg.yaml", channels+"journal:\n  kind: postgres\n  database_url: postgres://stockd@127.0.0.1:1/stockd\n")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--config", fileCfg}, "does not exist yet"},
		{[]string{"--config", pgCfg}, "pg_test_fsync"},
		{nil, "give --dir DIR"},
		{[]string{"--dir", base, "--config", fileCfg}, "not both"},
		{[]string{"--dir", base, "--writes", "0"}, "writes 0"},
		{[]string{"--dir", base, "--group-bytes", "-1"}, "group bytes"},
		{[]string{"--dir", filepath.Join(base, "missing")}, "no such file"},
		{[]string{"--dir", base, "extra"}, "unexpected argument"},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), append([]string{"checkdisk"}, tc.args...), &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("checkdisk %v: %v, want an error about %q", tc.args, err, tc.want)
		}
	}
	if ents, _ := os.ReadDir(base); len(ents) != 2 {
		t.Fatalf("refused checks left %d entries in %s, want the two configs", len(ents), base)
	}
	if err := os.Mkdir(journalDir, 0o755); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"checkdisk", "--config", fileCfg, "--writes", "3"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "stockd checkdisk "+journalDir+": 3 groups") {
		t.Fatalf("output:\n%s", out.String())
	}
}
