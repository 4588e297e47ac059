package baseline

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
)

// BenchmarkRowLockHold measures durable holds per second with 256 callers
// (GOMAXPROCS × parallelism) on the row-lock baseline, each holding one
// unit of a SKU drawn round-robin from 10 000: the database-side figure to
// set beside the journal's group commit at the same concurrency.
func BenchmarkRowLockHold(b *testing.B) {
	const skus = 10_000
	stock := make(map[string]int64, skus)
	for i := range skus {
		stock[fmt.Sprintf("sku-%05d", i)] = 1 << 40
	}
	pool := rowLockPool(b, stock)
	b.SetParallelism(max(1, 256/runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	var next atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			sku := fmt.Sprintf("sku-%05d", next.Add(1)%skus)
			if _, err := RowLockHold(b.Context(), pool, sku, 1); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "holds/s")
}
