package filejournal_test

import (
	"context"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"stockd/engine/journal"
	"stockd/engine/journal/filejournal"
	"stockd/engine/journal/journaltest"
)

// preallocModes are the journal options the benchmarks compare: segments
// preallocated (the default) and appended to.
func preallocModes() []struct {
	name string
	opts filejournal.Options
} {
	off := filejournal.DefaultOptions()
	off.PreallocateBytes = 0
	return []struct {
		name string
		opts filejournal.Options
	}{{"prealloc=off", off}, {"prealloc=on", filejournal.DefaultOptions()}}
}

func openBench(tb testing.TB, opts filejournal.Options) journal.Backend {
	j, err := filejournal.Open(context.Background(), tb.TempDir(), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = j.Close() })
	return j
}

// BenchmarkGroupCommit: durable records/s through the committer with 1,
// 16 and 256 callers, against one WriteBatch (pwrite + fdatasync) per
// record measured in the same run (journaltest.BenchGroupCommit), without
// and with preallocated segments.
func BenchmarkGroupCommit(b *testing.B) {
	for _, m := range preallocModes() {
		b.Run(m.name, func(b *testing.B) {
			journaltest.BenchGroupCommit(b, func(tb testing.TB) journal.Backend {
				return openBench(tb, m.opts)
			}, "fsync-per-record", 2000)
		})
	}
}

// BenchmarkWriteBatch: one 64-byte record per WriteBatch (a pwrite and an
// fdatasync each), without and with preallocation, on a new journal (the
// first write pays the preallocation). x-off is records/s over the rate
// without preallocation measured first in the same run; cpu-µs/record is
// the process's CPU time (user + system) per record.
func BenchmarkWriteBatch(b *testing.B) {
	modes := preallocModes()
	baseline, _ := writeRecords(b, openBench(b, modes[0].opts), 2000)
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			j := openBench(b, m.opts)
			b.ReportAllocs()
			b.ResetTimer()
			rate, cpu := writeRecords(b, j, b.N)
			b.ReportMetric(rate, "records/s")
			b.ReportMetric(rate/baseline, "x-off")
			b.ReportMetric(cpu.Seconds()*1e6/float64(b.N), "cpu-µs/record")
		})
	}
}

// writeRecords writes n records, one WriteBatch each, and returns records/s
// and the CPU time the process spent.
func writeRecords(b *testing.B, j journal.Backend, n int) (float64, time.Duration) {
	b.Helper()
	rec := make([]byte, journaltest.BenchRecordBytes)
	cpu0 := processCPU(b)
	start := time.Now()
	for i := range n {
		if err := j.WriteBatch(context.Background(), uint64(i)+1, [][]byte{rec}); err != nil {
			b.Fatal(err)
		}
	}
	return float64(n) / time.Since(start).Seconds(), processCPU(b) - cpu0
}

// processCPU is the user and system CPU time this process has used.
func processCPU(tb testing.TB) time.Duration {
	var u unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &u); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
