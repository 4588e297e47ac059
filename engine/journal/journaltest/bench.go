package journaltest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"stockd/engine/journal"
)

// BenchRecordBytes is the size of each record the group-commit benchmark
// writes.
const BenchRecordBytes = 64

// BenchGroupCommit measures durable records per second through the
// committer with 1, 16 and 256 concurrent callers (each waits for its
// record to be durable before sending the next) against a baseline
// measured in the same run: baselineRecords records, one WriteBatch each
// (perRecord names that sub-benchmark: a file's pwrite + fdatasync, a
// database's committed round trip). open returns a new, empty backend
// closed by the benchmark's cleanup. Metrics: records/s, x-baseline
// (records/s over the baseline's), records/group and µs/write.
func BenchGroupCommit(b *testing.B, open func(testing.TB) journal.Backend, perRecord string, baselineRecords int) {
	baseline := perRecordRate(b, open(b), baselineRecords)
	b.Run(perRecord, func(b *testing.B) {
		j := open(b)
		b.ReportAllocs()
		b.ResetTimer()
		rate := perRecordRate(b, j, b.N)
		b.ReportMetric(rate, "records/s")
		b.ReportMetric(rate/baseline, "x-baseline")
	})
	for _, callers := range []int{1, 16, 256} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
			var groups, writeNanos atomic.Int64
			cfg := journal.DefaultCommitterConfig()
			cfg.OnGroup = func(g journal.GroupStats) {
				groups.Add(1)
				writeNanos.Add(int64(g.Duration))
			}
			c, err := journal.NewCommitter(open(b), cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close(context.Background())
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			commitFrom(b, c, callers)
			rate := float64(b.N) / time.Since(start).Seconds()
			b.ReportMetric(rate, "records/s")
			b.ReportMetric(rate/baseline, "x-baseline")
			if n := groups.Load(); n > 0 {
				b.ReportMetric(float64(b.N)/float64(n), "records/group")
				b.ReportMetric(float64(writeNanos.Load())/float64(n)/1e3, "µs/write")
			}
		})
	}
}

// perRecordRate writes n records to j, one WriteBatch each, and returns
// records/s.
func perRecordRate(b *testing.B, j journal.Backend, n int) float64 {
	b.Helper()
	rec := make([]byte, BenchRecordBytes)
	first := j.LastLSN() + 1
	start := time.Now()
	for i := range n {
		if err := j.WriteBatch(context.Background(), first+uint64(i), [][]byte{rec}); err != nil {
			b.Fatal(err)
		}
	}
	return float64(n) / time.Since(start).Seconds()
}

// commitFrom commits b.N records from n goroutines, each one at a time.
func commitFrom(b *testing.B, c *journal.Committer, n int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			rec := make([]byte, BenchRecordBytes)
			for next.Add(1) <= int64(b.N) {
				if err := c.Commit(context.Background(), rec); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
