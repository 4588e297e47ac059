package pgjournal_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"stockd/engine/journal"
	"stockd/engine/journal/pgjournal"
)

const benchRecordBytes = 64

// BenchmarkGroupCommit measures durable records per second through the
// committer with 1, 16 and 256 concurrent callers against a baseline
// measured in the same run: one WriteBatch (one committed COPY) per
// record. Metrics: records/s and x-baseline.
func BenchmarkGroupCommit(b *testing.B) {
	baseline := measurePerRecordCommit(b, 500)
	b.Run("commit-per-record", func(b *testing.B) {
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
			var groups atomic.Int64
			cfg := journal.DefaultCommitterConfig()
			cfg.OnGroup = func(journal.GroupStats) { groups.Add(1) }
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
			}
		})
	}
}

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

func openBench(b *testing.B) *pgjournal.Journal {
	b.Helper()
	return open(b, newPool(b))
}

func measurePerRecordCommit(b *testing.B, n int) float64 {
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
