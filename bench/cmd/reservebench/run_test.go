package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

func noEnv(string) string { return "" }

func TestRunPrintsTableAndMarkdownWithoutDatabase(t *testing.T) {
	var out, progress bytes.Buffer
	args := []string{"-quick", "-duration=300ms", "-warmup=0s", "-connections=4", "-skus=100", "-targets=noop,rowlock"}
	if err := run(t.Context(), args, &out, &progress, noEnv); err != nil {
		t.Fatalf("run: %v\n%s", err, progress.String())
	}
	got := out.String()
	for _, want := range []string{
		"no-op fasthttp", "skipped: no database", "stockd / no-op holds/s",
		"----- markdown for BENCHMARKS.md -----",
		"go run ./bench/cmd/reservebench -quick -duration=300ms -warmup=0s -connections=4 -skus=100 -targets=noop,rowlock",
		"| no-op fasthttp | closed |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "| no-op fasthttp | closed |  |") {
		t.Errorf("the no-op row has no figures:\n%s", got)
	}
	if strings.Contains(got, "journal's disk") {
		t.Errorf("a run without stockd checked the journal's disk:\n%s", got)
	}
}

func TestRunRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-zipf-s=1"},
		{"-targets=stockd,elsewhere"},
		{"-lines=3", "-skus=2"},
		{"extra"},
		{"-connections=0"},
		{"-connections=64,many"},
		{"-serve=elsewhere"},
		{"-rounds=0"},
		{"-rounds=11"},
		{"-snapshot-every=0"},
		{"-snapshot-interval=0s"},
		{"-trace=/nonexistent/trace", "-in-process"},
	} {
		var out, progress bytes.Buffer
		if err := run(t.Context(), args, &out, &progress, noEnv); err == nil {
			t.Errorf("run(%q) = nil, want an error", args)
		}
		if out.Len() != 0 {
			t.Errorf("run(%q) printed a report for bad flags", args)
		}
	}
}

func TestCommandLineHidesDatabaseURL(t *testing.T) {
	o, err := parseOptions([]string{"-database-url", "postgres://u:secret@127.0.0.1/db", "-duration=1s",
		"--database-url=postgres://u:secret@x/db"}, &bytes.Buffer{}, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	got := o.commandLine()
	want := `go run ./bench/cmd/reservebench -database-url "$STOCKD_TEST_DATABASE_URL" -duration=1s --database-url="$STOCKD_TEST_DATABASE_URL"`
	if got != want {
		t.Errorf("command line = %s\nwant           %s", got, want)
	}
}

func TestRunMeasuresStockd(t *testing.T) {
	var out, progress bytes.Buffer
	args := []string{"-quick", "-duration=300ms", "-warmup=100ms", "-connections=4,8", "-rounds=2", "-skus=450", "-targets=stockd,noop",
		"-snapshot-every=500", "-snapshot-interval=50ms", "-log-level=info"}
	if err := run(t.Context(), args, &out, &progress, noEnv); err != nil {
		t.Fatalf("run: %v\n%s", err, progress.String())
	}
	got := out.String()
	for _, bad := range []string{"error:", "invalid:", "skipped: stockd", "skipped: no usable peak"} {
		if strings.Contains(got, bad) {
			t.Errorf("output has %q:\n%s", bad, got)
		}
	}
	// The journal's disk, checked alone before and after the phases, in
	// the setting line of the table and of the markdown.
	disk := regexp.MustCompile(`; the journal's disk alone \(stockd checkdisk, 500 groups of 4096 bytes in \S+\): ` +
		`before the phases p50 \d+\.\d\d / p99 \d+\.\d\d / max \d+\.\d\d ms, \S+ of CPU per group, ` +
		`after p50 \d+\.\d\d / p99 \d+\.\d\d / max \d+\.\d\d ms, \S+ of CPU per group`)
	if n := len(disk.FindAllString(got, -1)); n != 2 {
		t.Errorf("the journal disk's check appears %d times, want 2 (table and markdown):\n%s", n, got)
	}
	stockdRow := lineWith(got, "| stockd (file journal, fdatasync) | closed |")
	if !strings.Contains(stockdRow, "best at ") || strings.Count(stockdRow, " µs |") != 2 {
		t.Errorf("no connection sweep, server CPU or load generator CPU in the stockd row:\n%s", stockdRow)
	}
	// The snapshot options reach the child: it snapshots every 500 records.
	if !strings.Contains(progress.String(), "snapshot saved") {
		t.Errorf("stockd took no snapshot with -snapshot-every=500:\n%s", progress.String())
	}
	// Two rounds over two targets and two connection counts: each peak
	// row names its best and lists the three other measurements.
	for _, row := range []string{"| stockd (file journal, fdatasync) | closed |", "| no-op fasthttp | closed |"} {
		line := lineWith(got, row)
		if !strings.Contains(line, " of 2 (") || strings.Count(line, "round ") != 4 {
			t.Errorf("peak row does not list its rounds:\n%s", line)
		}
	}
	if strings.Contains(got, "| no-op at stockd's 50% rate (control) | open |  |") {
		t.Errorf("no control row at stockd's rate:\n%s", got)
	}
	if !strings.Contains(got, "| stockd at 50% of peak | open | ") || strings.Contains(got, "| p99 at 50% of stockd's peak | n/a") {
		t.Errorf("no half-peak measurement:\n%s", got)
	}
}

// lineWith is the first line of s that contains sub, "" when none does.
func lineWith(s, sub string) string {
	for line := range strings.Lines(s) {
		if strings.Contains(line, sub) {
			return line
		}
	}
	return ""
}

// TestMain lets this test binary be the server child process that run
// starts (os.Executable is the test binary here): with -serve first it
// serves like the command would.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "-serve" {
		if err := runWith(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv); err != nil {
			fmt.Fprintln(os.Stderr, "reservebench child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
