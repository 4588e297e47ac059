package onecsim

import (
	"testing"
	"time"

	"stockd/reservation"
)

func TestSimEventsDecodeAndTrackStock(t *testing.T) {
	s := New(Config{SKUs: 50, Warehouses: []string{"a", "b"}, Seed: 7})
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	stock := map[[2]string]int64{}
	var lastSeq uint64
	apply := func(msgs []Message) {
		for _, m := range msgs {
			ev, err := reservation.DecodeEvent(m.Value)
			if err != nil {
				t.Fatalf("generated event does not decode: %v: %s", err, m.Value)
			}
			if ev.SKU != m.Key || ev.Seq != lastSeq+1 {
				t.Fatalf("key %q seq %d after %d for %s", m.Key, ev.Seq, lastSeq, m.Value)
			}
			lastSeq = ev.Seq
			switch ev.Type {
			case reservation.EventStockSet:
				stock[[2]string{ev.SKU, ev.Warehouse}] = ev.Qty
			case reservation.EventStockAdjust:
				stock[[2]string{ev.SKU, ev.Warehouse}] += ev.Delta
			}
		}
	}
	snap := s.Snapshot(now)
	if got, want := len(snap), 50*3; got != want {
		t.Fatalf("snapshot has %d events, want %d", got, want)
	}
	apply(snap)
	apply(s.Next(now, 2000))
	for i := range 50 {
		for w, wh := range []string{"a", "b"} {
			got := stock[[2]string{SKU(i), wh}]
			if got != s.stock[i][w] || got < 0 {
				t.Fatalf("%s/%s: events say %d, simulator says %d", SKU(i), wh, got, s.stock[i][w])
			}
		}
	}
}
