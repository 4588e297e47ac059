package reservation

import (
	"strconv"
	"testing"
)

// BenchmarkApplyAdjust: stock.adjust events with new ids applied one after
// another with the dedupe window full (every event evicts the oldest id),
// with and without Ledger.PrefetchEvent four events ahead, as the engine's
// ingest applies a batch.
func BenchmarkApplyAdjust(b *testing.B) {
	for _, pf := range []bool{false, true} {
		b.Run("prefetch="+strconv.FormatBool(pf), func(b *testing.B) {
			l := benchLedger(b, DefaultLimits().MaxRetainedHolds)
			const n = 1 << 20
			evs := make([]Event, n)
			skus := benchSKUs(1000)
			for i := range evs {
				evs[i] = Event{V: 1, ID: "adj-" + strconv.Itoa(i), Source: "s", Seq: uint64(i + 2), At: t0,
					Type: EventStockAdjust, SKU: skus[(i*7919)%len(skus)], Warehouse: "msk", Delta: 1}
			}
			var fx Effects
			off := int64(0)
			apply := func(i int) {
				ev := &evs[i%n]
				if pf {
					if j := i + 4; j < n {
						l.PrefetchEvent(&evs[j%n], 4)
					}
				}
				off++
				if _, err := l.ApplyEvent(ev, Source{Topic: "t", Partition: 0, Offset: off}, &fx); err != nil {
					b.Fatal(err)
				}
				if len(fx.Records) > 64 {
					fx.Reset()
				}
			}
			for i := range n { // fill the window
				evs[i].ID = "pre-" + strconv.Itoa(i)
				apply(i)
				evs[i].ID = "adj-" + strconv.Itoa(i)
			}
			b.ResetTimer()
			i := 0
			for b.Loop() {
				apply(i % n)
				i++
				if i%n == 0 {
					b.StopTimer()
					for k := range evs {
						evs[k].ID = "r" + strconv.Itoa(i) + "-" + strconv.Itoa(k)
					}
					b.StartTimer()
				}
			}
		})
	}
}
