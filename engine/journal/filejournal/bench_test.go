package filejournal_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"stockd/engine/journal"
	"stockd/engine/journal/filejournal"
)

const benchRecordBytes = 64

// BenchmarkGroupCommit measures durable records per second through the
// committer with 1, 16 and 256 concurrent callers (each waits for its
// record to be durable before sending the next), against a baseline
// measured in the same run: one WriteBatch (pwrite + fdatasync) per record.
// Metrics: records/s, and x-baseline (records/s over the baseline's).
func BenchmarkGroupCommit(b *testing.B) {
	baseline := measurePerRecordSync(b, 2000)
	b.Run("fsync-per-record", func(b *testing.B) {
		j := openBench(b)
		rec := make([]byte, benchRecordBytes)
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		for i := range b.N {
			if err := j.WriteBatch(context.Background(), uint64(i+1), [][]byte{rec}); err != nil {
				b.Fatal(err)
			}
		}
		rate := float64(b.N) / time.Since(start).Seconds()
		b.ReportMetric(rate, "records/s")
		b.ReportMetric(rate/baseline, "x-baseline")
	})
	for _, callers := range []int{1, 16, 256} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
			j := openBench(b)
			var groups, writeNanos atomic.Int64
			cfg := journal.DefaultCommitterConfig()
			cfg.OnGroup = func(g journal.GroupStats) {
				groups.Add(1)
				writeNanos.Add(int64(g.Duration))
			}
			c, err := journal.NewCommitter(j, cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close(context.Background())
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			runCallers(b, c, callers)
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

// runCallers commits b.N records from n goroutines, each one at a time.
func runCallers(b *testing.B, c *journal.Committer, n int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			rec := make([]byte, benchRecordBytes)
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

func openBench(b *testing.B) *filejournal.Journal {
	b.Helper()
	j, err := filejournal.Open(context.Background(), b.TempDir(), filejournal.DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = j.Close() })
	return j
}

// measurePerRecordSync returns records/s for n records written one per
// WriteBatch.
func measurePerRecordSync(b *testing.B, n int) float64 {
	b.Helper()
	j := openBench(b)
	rec := make([]byte, benchRecordBytes)
	start := time.Now()
	for i := range n {
		if err := j.WriteBatch(context.Background(), uint64(i+1), [][]byte{rec}); err != nil {
			b.Fatal(err)
		}
	}
	return float64(n) / time.Since(start).Seconds()
}
