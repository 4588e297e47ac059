package engine

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"

	"stockd/engine/journal/filejournal"
	"stockd/reservation"
)

// BenchmarkSnapshotter measures one snapshot of a ledger of 200,000 SKUs in
// two warehouses after 100,000 more records (holds and releases), three
// snapshots per run: "reload" loads the newest snapshot and replays the
// records after it each time, as the snapshotter did before it kept its
// ledger; "kept" replays only the new records onto the ledger it kept.
// ms/snapshot is wall time, cpu-ms/snapshot the process's CPU time;
// kept-ledger-MiB is the heap the snapshotter's own ledger holds between
// snapshots.
//
//	go test -run '^$' -bench BenchmarkSnapshotter -benchtime 1x ./engine/
func BenchmarkSnapshotter(b *testing.B) {
	const skus, perRound, rounds = 200_000, 100_000, 3
	cfg := DefaultConfig()
	cfg.Channels = []ChannelConfig{{Name: "site", Kind: ChannelSite, Warehouses: []string{"wh-1", "wh-2"}, Strategy: "priority", AllowSplit: true}}
	lcfg, err := cfg.ledgerConfig()
	if err != nil {
		b.Fatal(err)
	}
	for _, mode := range []string{"reload", "kept"} {
		b.Run(mode, func(b *testing.B) {
			var took, cpu, load time.Duration
			var n int
			var kept int64
			for b.Loop() {
				b.StopTimer()
				dir := b.TempDir()
				buildRecoveryJournal(b, dir, lcfg, skus, 0)
				ctx := context.Background()
				j, err := filejournal.Open(ctx, dir, filejournal.DefaultOptions())
				if err != nil {
					b.Fatal(err)
				}
				live, _, err := loadSnapshot(ctx, j, lcfg)
				if err != nil {
					b.Fatal(err)
				}
				s := &snapshotter{e: &Engine{cfg: cfg}}
				heap0 := heapInUse()
				if _, err := s.take(ctx, j, j.LastLSN()); err != nil { // builds the kept ledger
					b.Fatal(err)
				}
				kept = heapInUse() - heap0
				for r := range rounds {
					w := &batchWriter{j: j}
					appendHoldRecords(b, w, live, "s", time.Unix(1_700_000_000, 0).Add(2*time.Hour), skus, r*perRound, perRound)
					w.flush(b)
					if mode == "reload" {
						s.ledger = nil
					}
					b.StartTimer()
					c0 := processCPU()
					st, err := s.take(ctx, j, j.LastLSN())
					c1 := processCPU()
					b.StopTimer()
					if err != nil {
						b.Fatal(err)
					}
					if st.Replayed != perRound {
						b.Fatalf("replayed %d records, want %d", st.Replayed, perRound)
					}
					took, cpu, load, n = took+st.Took, cpu+c1-c0, load+st.Load, n+1
				}
				if err := j.Close(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			ms := func(d time.Duration) float64 { return float64(d) / float64(n) / 1e6 }
			b.ReportMetric(ms(took), "ms/snapshot")
			b.ReportMetric(ms(cpu), "cpu-ms/snapshot")
			b.ReportMetric(ms(load), "load-ms/snapshot")
			b.ReportMetric(float64(kept)/(1<<20), "kept-ledger-MiB")
		})
	}
}

// heapInUse is the live heap after a collection.
func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// appendHoldRecords applies count holds and releases (alternating, one
// unit of a SKU among skus each, hold ids prefix+n from first/2) to l at
// now and adds their records to w.
func appendHoldRecords(b *testing.B, w *batchWriter, l *reservation.Ledger, prefix string, now time.Time, skus, first, count int) {
	b.Helper()
	var fx reservation.Effects
	for i := first; i < first+count; i++ {
		fx.Reset()
		id := prefix + strconv.Itoa(i/2)
		if i%2 == 0 {
			req := reservation.ReserveRequest{ID: id, Channel: "site", Lines: []reservation.Line{{SKU: fmt.Sprintf("sku-%d", (i*7919)%skus), Qty: 1}}, TTL: time.Hour}
			if _, err := l.Reserve(req, now, &fx); err != nil {
				b.Fatal(err)
			}
		} else if err := l.Release(id, now, &fx); err != nil {
			b.Fatal(err)
		}
		w.add(b, &fx)
	}
}
