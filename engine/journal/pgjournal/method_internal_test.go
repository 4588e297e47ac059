package pgjournal

import (
	"context"
	"fmt"
	"testing"

	"stockd/adapters/postgres"
	"stockd/adapters/testsvc"
)

// BenchmarkWriteMethod compares the two single-round-trip ways to write a
// group: COPY (what WriteBatch uses) and INSERT … SELECT FROM unnest.
func BenchmarkWriteMethod(b *testing.B) {
	for _, method := range []string{"unnest", "copy"} {
		for _, group := range []int{1, 16, 256} {
			b.Run(fmt.Sprintf("%s/group=%d", method, group), func(b *testing.B) {
				ctx := context.Background()
				cfg := postgres.DefaultConfig(testsvc.SchemaURL(b))
				cfg.MaxConns = 2
				pool, err := postgres.NewPool(ctx, cfg)
				if err != nil {
					b.Fatal(err)
				}
				defer pool.Close()
				if err := postgres.Migrate(ctx, pool); err != nil {
					b.Fatal(err)
				}
				j, err := Open(ctx, pool, DefaultOptions())
				if err != nil {
					b.Fatal(err)
				}
				defer j.Close()
				j.useUnnest = method == "unnest"
				recs := make([][]byte, group)
				for i := range recs {
					recs[i] = make([]byte, 64)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := range b.N {
					if err := j.WriteBatch(ctx, uint64(i*group+1), recs); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*group)/b.Elapsed().Seconds(), "records/s")
			})
		}
	}
}
