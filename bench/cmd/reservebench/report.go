package main

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"stockd/engine/journal/filejournal"
)

// The targets the ratios are held against.
const (
	targetNoopRatio    = 0.60                 // stockd holds/s ≥ 60 % of the no-op server's
	targetRowLockRatio = 10.0                 // stockd holds/s ≥ 10× the row-lock baseline's
	targetHalfPeakP99  = 5 * time.Millisecond // p99 at half of stockd's peak
)

// report is everything a run measured.
type report struct {
	o                                    options
	started                              time.Time
	stockd, half, noop, noopHalf, rowLck phase
	// diskBefore and diskAfter: the journal disk alone, before and after
	// the phases (with stockd in -targets).
	diskBefore, diskAfter diskResult
}

// diskResult is one check of the journal's disk.
type diskResult struct {
	res filejournal.CheckResult
	err error
}

func (d diskResult) String() string {
	switch {
	case d.err != nil:
		return "not measured: " + d.err.Error()
	case d.res.Writes == 0:
		return "not measured"
	}
	ms := func(v time.Duration) string { return fmt.Sprintf("%.2f", float64(v)/float64(time.Millisecond)) }
	return fmt.Sprintf("p50 %s / p99 %s / max %s ms, %v of CPU per group", ms(d.res.P50), ms(d.res.P99), ms(d.res.Max),
		d.res.CPUPerWrite.Round(time.Microsecond))
}

// disk says how the journal's disk measured alone, "" without stockd.
func (r *report) disk() string {
	if r.diskBefore.res.Writes == 0 && r.diskBefore.err == nil {
		return ""
	}
	return fmt.Sprintf("; the journal's disk alone (stockd checkdisk, %d groups of %d bytes in %s): before the phases %v, after %v",
		diskCheck.Writes, diskCheck.GroupBytes, r.diskBefore.res.Dir, r.diskBefore, r.diskAfter)
}

func (r *report) phases() []phase {
	return []phase{r.stockd, r.half, r.noop, r.noopHalf, r.rowLck}
}

// err joins the phases that failed (skipped ones did not fail).
func (r *report) err() error {
	var errs []error
	for _, p := range r.phases() {
		if p.err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p.name, p.err))
		}
	}
	return errors.Join(errs...)
}

// ratio is one line of the verdict table.
type ratio struct {
	name, measured, target, verdict string
}

func (r *report) ratios() []ratio {
	throughput := func(name string, other phase, target float64, unit string) ratio {
		out := ratio{name: name, target: fmt.Sprintf("≥ %s", formatRatio(target, unit)), measured: "n/a", verdict: "n/a"}
		if r.stockd.problem() != "" || other.problem() != "" || other.result.HoldsPerSec() == 0 {
			return out
		}
		v := r.stockd.result.HoldsPerSec() / other.result.HoldsPerSec()
		out.measured, out.verdict = formatRatio(v, unit), passFail(v >= target)
		return out
	}
	p99 := ratio{name: "p99 at 50% of stockd's peak", target: "≤ " + formatLatency(targetHalfPeakP99),
		measured: "n/a", verdict: "n/a"}
	if r.half.problem() == "" && r.o.openRate == 0 {
		// Dropped arrivals were never timed: the p99 understates, and a
		// server that could not take the rate has failed the target.
		v, dropped := r.half.result.Quantile(99), r.half.result.Dropped
		p99.measured, p99.verdict = formatLatency(v), passFail(v <= targetHalfPeakP99 && dropped == 0)
		if dropped > 0 {
			p99.measured += fmt.Sprintf(" (%d arrivals dropped)", dropped)
		}
	}
	return []ratio{
		throughput("stockd / no-op holds/s", r.noop, targetNoopRatio, "%"),
		throughput("stockd / row-lock holds/s", r.rowLck, targetRowLockRatio, "×"),
		p99,
	}
}

func formatRatio(v float64, unit string) string {
	if unit == "%" {
		return fmt.Sprintf("%.0f %%", v*100)
	}
	return fmt.Sprintf("%.1f×", v)
}

func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

// formatLatency prints 3 significant digits in milliseconds.
func formatLatency(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms < 1:
		return fmt.Sprintf("%.3f ms", ms)
	case ms < 10:
		return fmt.Sprintf("%.2f ms", ms)
	case ms < 100:
		return fmt.Sprintf("%.1f ms", ms)
	default:
		return fmt.Sprintf("%.0f ms", ms)
	}
}

// cells are a measured row's figures, or its problem.
func cells(p phase) []string {
	if pr := p.problem(); pr != "" && (p.skipped != "" || p.err != nil) {
		return []string{p.name, p.mode.String(), pr}
	}
	r := p.result
	row := []string{
		p.name, p.mode.String(),
		fmt.Sprintf("%.0f", r.HoldsPerSec()),
		formatLatency(r.Quantile(50)), formatLatency(r.Quantile(99)), formatLatency(r.Quantile(99.9)),
		formatLatency(r.Max()),
		fmt.Sprint(r.Hold.Insufficient), fmt.Sprint(r.Failures()), fmt.Sprint(r.Dropped),
		cpuPerHold(p.serverCPU, p), cpuPerHold(p.loadCPU, p),
	}
	note := p.note
	if pr := p.problem(); pr != "" {
		note = strings.TrimSpace(pr + "; " + note)
	}
	return append(row, note)
}

var columns = []string{"target", "mode", "holds/s", "p50", "p99", "p99.9", "max", "409", "failures", "dropped",
	"server CPU/hold", "load generator CPU/hold", "note"}

// cpuPerHold is a process's CPU time used during p per hold (the hold and
// its release), "" when unknown.
func cpuPerHold(used time.Duration, p phase) string {
	if used <= 0 || p.result.Holds() == 0 {
		return ""
	}
	return fmt.Sprintf("%.0f µs", float64(used.Microseconds())/float64(p.result.Holds()))
}

func (r *report) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "\n%s\n\n", r.setting())
	fmt.Fprintln(tw, strings.Join(columns, "\t"))
	for _, p := range r.phases() {
		fmt.Fprintln(tw, strings.Join(cells(p), "\t"))
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "ratio\tmeasured\ttarget\tverdict")
	for _, q := range r.ratios() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", q.name, q.measured, q.target, q.verdict)
	}
	tw.Flush()
	r.printMarkdown(w)
}

// setting says what was measured, on what.
func (r *report) setting() string {
	o := r.o
	return fmt.Sprintf("reservebench %s: %s/%s, %d CPUs (GOMAXPROCS %d), %s; %s connections, %d SKUs (Zipf s=%g), "+
		"%d line(s) per hold, each hold released after; %v per phase after %v warm-up; "+
		"peaks the best of %d interleaved round(s) over the targets; %s%s",
		r.started.Format("2006-01-02 15:04"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0),
		runtime.Version(), joinInts(o.connList), o.skus, o.zipfS, o.lines, o.duration, o.warmup, o.rounds, o.placement(), r.disk())
}

func (r *report) printMarkdown(w io.Writer) {
	fmt.Fprintf(w, "\n----- markdown for BENCHMARKS.md -----\n\n")
	fmt.Fprintf(w, "### Reserve API, %s\n\n", r.started.Format("2006-01-02"))
	fmt.Fprintf(w, "```\n%s\n```\n\n", r.o.commandLine())
	fmt.Fprintf(w, "%s.\n\n", r.setting())
	fmt.Fprintf(w, "| %s |\n", strings.Join(columns, " | "))
	fmt.Fprintf(w, "|---|---|%s---|\n", strings.Repeat("--:|", len(columns)-3))
	for _, p := range r.phases() {
		c := cells(p)
		if len(c) == 3 { // a row that was not measured
			c = append(append(c[:2:2], make([]string, len(columns)-3)...), c[2])
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(c, " | "))
	}
	fmt.Fprintln(w, "\n| ratio | measured | target | verdict |")
	fmt.Fprintln(w, "|---|--:|--:|---|")
	for _, q := range r.ratios() {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", q.name, q.measured, q.target, q.verdict)
	}
	fmt.Fprintf(w, "\n----- end of markdown -----\n")
}

func joinInts(v []int) string {
	parts := make([]string, len(v))
	for i, n := range v {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ",")
}
