package reservation

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// TestGuardedRacesForLastUnits: many goroutines fight through Guarded for
// the last units of a few hot SKUs and a kit made of them, while stock
// trickles in and holds expire. Nothing may ever be held beyond what is
// available, and the records, in the order the sink saw them, must replay
// to the same state.
func TestGuardedRacesForLastUnits(t *testing.T) {
	cfg := testConfig()
	cfg.SafetyStock = []SafetyStock{{Warehouse: "spb", Qty: 1}}
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var journal [][]byte
	hot := []string{"hot0", "hot1", "hot2"}
	// the sink runs under the Guarded's lock, after every command
	g := NewGuarded(l, func(fx *Effects) {
		for i := range fx.Records {
			journal = append(journal, MarshalRecord(&fx.Records[i]))
		}
		if err := overHeld(l, hot); err != nil {
			t.Error(err)
		}
	})
	seedStock(t, g, hot)

	const workers, rounds = 16, 300
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := raceWorker(t, g, w, rounds, append(hot, "kit"))
			mu.Lock()
			won += n
			mu.Unlock()
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 50 {
			ev := Event{V: 1, ID: fmt.Sprintf("adj-%d", i), Source: "ut", Seq: uint64(i + 10), At: t0,
				Type: EventStockAdjust, SKU: hot[i%len(hot)], Warehouse: "msk", Delta: 1}
			if _, err := g.ApplyEvent(&ev, Source{}); err != nil {
				t.Error(err)
			}
			g.Expire(t0.Add(time.Duration(i)*time.Minute), 10)
		}
	}()
	wg.Wait()
	if won == 0 {
		t.Fatal("no reserve succeeded: the test did not race")
	}
	g.Do(func(l *Ledger, _ *Effects) {
		checkNothingOverHeld(t, l, hot)
		if err := l.checkInvariants(); err != nil {
			t.Fatal(err)
		}
		if got := replayJournal(t, cfg, nil, journal).Snapshot(); !bytes.Equal(got, l.Snapshot()) {
			t.Fatal("records replay to another state")
		}
	})
}

func seedStock(t *testing.T, g *Guarded, hot []string) {
	t.Helper()
	events := []Event{{Type: EventItemUpsert, SKU: "kit", Kit: []KitComponent{{SKU: "hot0", Qty: 2}, {SKU: "hot1", Qty: 1}}}}
	for _, sku := range hot {
		events = append(events, Event{Type: EventStockSet, SKU: sku, Warehouse: "msk", Qty: 5},
			Event{Type: EventStockSet, SKU: sku, Warehouse: "spb", Qty: 4})
	}
	for i := range events {
		events[i].V, events[i].ID, events[i].Source, events[i].Seq, events[i].At = 1, fmt.Sprint("seed", i), "ut", uint64(i+1), t0
		if _, err := g.ApplyEvent(&events[i], Source{}); err != nil {
			t.Fatal(err)
		}
	}
}

// raceWorker reserves, and sometimes confirms or releases, its own holds.
func raceWorker(t *testing.T, g *Guarded, w, rounds int, skus []string) int {
	rng := rand.New(rand.NewPCG(uint64(w), 7))
	channels := []string{"site", "ozon", "wb"}
	won := 0
	var mine []string
	var h Hold
	for i := range rounds {
		id := fmt.Sprintf("w%d-%d", w, i)
		lines := []Line{{SKU: skus[rng.IntN(len(skus))], Qty: 1 + int64(rng.IntN(2))}}
		if rng.IntN(3) == 0 {
			lines = append(lines, Line{SKU: skus[rng.IntN(len(skus))], Qty: 1})
		}
		_, err := g.Reserve(ReserveRequest{ID: id, Channel: channels[rng.IntN(3)], Lines: lines, TTL: time.Duration(1+rng.IntN(20)) * time.Minute}, t0, &h)
		switch {
		case err == nil:
			won++
			mine = append(mine, id)
			if h.ID != id || len(h.Allocations) == 0 {
				t.Errorf("hold copy %+v", h)
			}
		case !errors.Is(err, ErrInsufficientStock):
			t.Errorf("reserve %s: %v", id, err)
		}
		if len(mine) > 0 && rng.IntN(3) == 0 {
			k := rng.IntN(len(mine))
			if rng.IntN(2) == 0 {
				_ = g.Confirm(mine[k], 0, t0)
			} else if err := g.Release(mine[k], t0); err != nil {
				t.Errorf("release: %v", err)
			}
			mine = append(mine[:k], mine[k+1:]...)
		}
	}
	return won
}

func checkNothingOverHeld(t *testing.T, l *Ledger, hot []string) {
	t.Helper()
	if err := overHeld(l, hot); err != nil {
		t.Fatal(err)
	}
}

func overHeld(l *Ledger, hot []string) error {
	for _, sku := range hot {
		for _, w := range l.Warehouses(sku, nil) {
			if w.Held > 0 && w.Held > w.Free-w.Safety {
				return fmt.Errorf("%s/%s: held %d > free %d − safety %d", sku, w.Warehouse, w.Held, w.Free, w.Safety)
			}
		}
		if l.IsShort(sku) {
			return fmt.Errorf("%s is short", sku)
		}
	}
	return nil
}
