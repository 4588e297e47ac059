package reservation

import (
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// The benchmarks report ops/s by the wall clock and cpu-ns/op (process CPU
// time per op), which stays meaningful on a machine shared with other work.
// Each first runs as many ops as the replay window holds, so what is
// measured is the steady state: closed holds leaving the window and their
// memory being reused.

// benchIDs are hold ids made up front, as the HTTP decoder would hand them
// over; more of them than the replay window, so reuse creates new holds.
func benchIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "order-" + strconv.Itoa(i)
	}
	return ids
}

func benchSKUs(n int) []string {
	skus := make([]string, n)
	for i := range skus {
		skus[i] = "sku-" + strconv.Itoa(i)
	}
	return skus
}

// benchLedger: 1000 SKUs with plenty of stock in three warehouses, 100 kits
// of three of them, and the test channels.
func benchLedger(b *testing.B, window int) *Ledger {
	b.Helper()
	cfg := testConfig()
	cfg.Limits.MaxRetainedHolds = window
	l, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	var fx Effects
	apply := func(ev Event) {
		ev.V, ev.ID, ev.Source, ev.Seq, ev.At = 1, "e", "s", 1, t0
		if _, err := l.ApplyEvent(&ev, Source{}, &fx); err != nil {
			b.Fatal(err)
		}
		fx.Reset()
	}
	skus := benchSKUs(1000)
	for _, sku := range skus {
		for _, wh := range []string{"msk", "spb", "ekb"} {
			apply(Event{Type: EventStockSet, SKU: sku, Warehouse: wh, Qty: 1_000_000_000})
		}
	}
	for k := range 100 {
		apply(Event{Type: EventItemUpsert, SKU: "kit-" + strconv.Itoa(k), Kit: []KitComponent{
			{SKU: skus[3*k], Qty: 1}, {SKU: skus[3*k+1], Qty: 2}, {SKU: skus[3*k+2], Qty: 1}}})
	}
	return l
}

// holdRelease reserves lines under id and releases the hold.
func holdRelease(b *testing.B, l *Ledger, fx *Effects, id, channel string, lines []Line) {
	if _, err := l.Reserve(ReserveRequest{ID: id, Channel: channel, Lines: lines}, t0, fx); err != nil {
		b.Fatal(err)
	}
	if err := l.Release(id, t0, fx); err != nil {
		b.Fatal(err)
	}
	fx.Reset()
}

// BenchmarkHoldRelease: one single-line hold and its release per op, one
// goroutine, records and channel changes included. window=1024 keeps the
// hold index in cache and shows the ledger's own work; the default window
// (MaxRetainedHolds) adds the cache misses of a realistic index.
func BenchmarkHoldRelease(b *testing.B) {
	for _, window := range []int{1 << 10, DefaultLimits().MaxRetainedHolds} {
		b.Run("window="+strconv.Itoa(window), func(b *testing.B) {
			l := benchLedger(b, window)
			ids, skus := benchIDs(1<<20), benchSKUs(1000)[300:] // not kit components
			var fx Effects
			lines := make([]Line, 1)
			op := func(i int) {
				lines[0] = Line{SKU: skus[i%len(skus)], Qty: 1}
				holdRelease(b, l, &fx, ids[i&(len(ids)-1)], "site", lines)
			}
			for i := range window {
				op(i)
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu := startCPU()
			for i := window; b.Loop(); i++ {
				op(i)
			}
			cpu.report(b, "pairs/s")
		})
	}
}

// BenchmarkBasketKits: 5-line baskets (two kits of three components, two
// plain SKUs and a SKU that is also a component of one of the kits) on a
// most_stock channel, default window. Each op is one hold and, in phases of
// basketPhase holds, its release: baskets/s and ns/op count the pair;
// holds/s and hold-ns/op time the holds alone (phases are long enough for
// the two clock reads per phase to vanish), as a checkout's hold is what
// the caller waits for and the release happens later, on confirm, expiry or
// hand-off.
func BenchmarkBasketKits(b *testing.B) {
	const basketPhase = 1024
	window := DefaultLimits().MaxRetainedHolds
	l := benchLedger(b, window)
	ids := benchIDs(1 << 20)
	baskets := make([][]Line, 64)
	for i := range baskets {
		baskets[i] = []Line{
			{SKU: "kit-" + strconv.Itoa(i), Qty: 1}, {SKU: "kit-" + strconv.Itoa(i+30), Qty: 2},
			{SKU: "sku-" + strconv.Itoa(500+i), Qty: 1}, {SKU: "sku-" + strconv.Itoa(600+i), Qty: 3},
			{SKU: "sku-" + strconv.Itoa(3*i), Qty: 1},
		}
	}
	var fx Effects
	id := func(i int) string { return ids[i&(len(ids)-1)] }
	hold := func(i int) {
		if _, err := l.Reserve(ReserveRequest{ID: id(i), Channel: "ozon", Lines: baskets[i%len(baskets)]}, t0, &fx); err != nil {
			b.Fatal(err)
		}
		fx.Reset()
	}
	release := func(from, to int) {
		for i := from; i < to; i++ {
			if err := l.Release(id(i), t0, &fx); err != nil {
				b.Fatal(err)
			}
			fx.Reset()
		}
	}
	for i := range window {
		hold(i)
		release(i, i+1)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU()
	var holding time.Duration
	start, phaseStart := window, time.Now()
	i := window
	for ; b.Loop(); i++ {
		hold(i)
		if i+1-start == basketPhase {
			holding += time.Since(phaseStart)
			release(start, i+1)
			start, phaseStart = i+1, time.Now()
		}
	}
	holding += time.Since(phaseStart)
	release(start, i)
	cpu.report(b, "baskets/s")
	if holding > 0 {
		b.ReportMetric(float64(b.N)/holding.Seconds(), "holds/s")
		b.ReportMetric(float64(holding.Nanoseconds())/float64(b.N), "hold-ns/op")
	}
}

// BenchmarkGuardedParallel: hold+release pairs from every P through the one
// mutex of Guarded.
func BenchmarkGuardedParallel(b *testing.B) {
	l := benchLedger(b, DefaultLimits().MaxRetainedHolds)
	g := NewGuarded(l, nil)
	ids, skus := benchIDs(1<<20), benchSKUs(1000)
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU()
	b.RunParallel(func(pb *testing.PB) {
		lines := make([]Line, 1)
		for pb.Next() {
			n := next.Add(1)
			id := ids[n&(1<<20-1)]
			lines[0] = Line{SKU: skus[n%1000], Qty: 1}
			if _, err := g.Reserve(ReserveRequest{ID: id, Channel: "site", Lines: lines}, t0, nil); err != nil {
				b.Fatal(err)
			}
			if err := g.Release(id, t0); err != nil {
				b.Fatal(err)
			}
		}
	})
	cpu.report(b, "pairs/s")
}

// BenchmarkHeapPerCell loads 1,000,000 SKUs (GUID#GUID, 73 bytes) × 4
// warehouses through stock.set events and reports the live heap.
func BenchmarkHeapPerCell(b *testing.B) {
	const skus, warehouses = 1_000_000, 4
	whs := []string{"w0", "w1", "w2", "w3"}
	for b.Loop() {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		cfg := Config{Channels: []ChannelConfig{{Name: "site", Warehouses: whs, Strategy: StrategyPriority, AllowSplit: true}}}
		l, err := New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		var fx Effects
		ev := Event{V: 1, ID: "e", Source: "s", Seq: 1, At: t0, Type: EventStockSet}
		for i := range skus {
			ev.SKU = fmt.Sprintf("%08x-0000-4000-8000-%012x#%08x-0000-4000-8000-%012x", i, i, i, i)
			for _, wh := range whs {
				ev.Warehouse, ev.Qty = wh, int64(i%100)
				if _, err := l.ApplyEvent(&ev, Source{}, &fx); err != nil {
					b.Fatal(err)
				}
				fx.Reset()
			}
		}
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		heap := float64(after.HeapAlloc - before.HeapAlloc)
		b.ReportMetric(heap/(1<<20), "heap-MiB")
		b.ReportMetric(heap/(skus*warehouses), "B/cell")
		runtime.KeepAlive(l)
	}
}

// cpuClock measures a benchmark loop: ops/s by the wall clock and CPU time
// per op.
type cpuClock struct{ start time.Duration }

func startCPU() cpuClock { return cpuClock{start: processCPU()} }

func (c cpuClock) report(b *testing.B, unit string) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit)
	if used := processCPU() - c.start; used > 0 {
		b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}
