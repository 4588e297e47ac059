package filejournal_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"stockd/engine/journal"
	"stockd/engine/journal/filejournal"
	"stockd/engine/journal/journaltest"
)

// preallocModes are the journal options the benchmarks compare: segments
// appended to, preallocated by the default chunk, and by a chunk 16 times
// larger (whose extensions cost the extending group more).
func preallocModes() []struct {
	name string
	opts filejournal.Options
} {
	off := filejournal.DefaultOptions()
	off.PreallocateBytes = 0
	large := filejournal.DefaultOptions()
	large.PreallocateBytes *= 16
	return []struct {
		name string
		opts filejournal.Options
	}{{"prealloc=off", off}, {"prealloc=on", filejournal.DefaultOptions()}, {"prealloc=16x", large}}
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

// BenchmarkWriteBatch: groups of writeBatchRecords 64-byte records, one
// WriteBatch each (a pwrite and an fdatasync), without and with
// preallocation, on a new journal. x-off is groups/s over the rate without
// preallocation measured first in the same run; cpu-µs/group is the
// process's CPU time (user + system) per group; p999-µs and max-µs are the
// tail of the WriteBatch times, where the groups that extend the segment
// show.
func BenchmarkWriteBatch(b *testing.B) {
	modes := preallocModes()
	baseline, _, _ := benchGroups(b, openBench(b, modes[0].opts), 2000)
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			j := openBench(b, m.opts)
			b.ReportAllocs()
			b.ResetTimer()
			rate, cpu, lat := benchGroups(b, j, b.N)
			b.ReportMetric(rate, "groups/s")
			b.ReportMetric(rate/baseline, "x-off")
			b.ReportMetric(cpu.Seconds()*1e6/float64(b.N), "cpu-µs/group")
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)*999/1000].Microseconds()), "p999-µs")
			b.ReportMetric(float64(lat[len(lat)-1].Microseconds()), "max-µs")
		})
	}
}

// writeBatchRecords is the size of BenchmarkWriteBatch's groups: about a
// group of the reserve API at moderate load.
const writeBatchRecords = 20

// benchGroups writes n groups, one WriteBatch each, and returns groups/s,
// the CPU time the process spent and each WriteBatch's time.
func benchGroups(b *testing.B, j journal.Backend, n int) (float64, time.Duration, []time.Duration) {
	b.Helper()
	recs := make([][]byte, writeBatchRecords)
	for i := range recs {
		recs[i] = make([]byte, journaltest.BenchRecordBytes)
	}
	lat := make([]time.Duration, 0, n)
	cpu0 := processCPU(b)
	start := time.Now()
	for i := range n {
		t := time.Now()
		if err := j.WriteBatch(context.Background(), uint64(i*writeBatchRecords)+1, recs); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t))
	}
	return float64(n) / time.Since(start).Seconds(), processCPU(b) - cpu0, lat
}

// processCPU is the user and system CPU time this process has used.
func processCPU(tb testing.TB) time.Duration {
	var u unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &u); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
