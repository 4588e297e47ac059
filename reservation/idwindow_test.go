package reservation

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// TestIDWindowMatchesModel drives the dedupe window and a plain model (a
// slice, oldest first) with the same ids, as the ledger does: add only
// what has does not know.
func TestIDWindowMatchesModel(t *testing.T) {
	for _, size := range []int{1, 2, 7, 100, 3000, 9000} {
		t.Run("size="+strconv.Itoa(size), func(t *testing.T) {
			seed := uint64(size)
			rng := rand.New(rand.NewPCG(seed, 42))
			var w idWindow
			w.init(size)
			var model []string
			universe := 3 * size
			for step := range max(20_000, 4*size) { // several passes over every chunk
				n := rng.IntN(universe)
				id := "adj-" + strconv.Itoa(n) + strings.Repeat("x", n%(MaxIDBytes-12)) // lengths 5..128
				w.prefetch("adj-"+strconv.Itoa(rng.IntN(universe)), 1+rng.IntN(8))      // a hint: changes nothing
				h, got := w.lookup(id)
				want := slices.Contains(model, id)
				if got != want {
					t.Fatalf("seed %d step %d: has(%q) = %v, model says %v", seed, step, id, got, want)
				}
				if got {
					continue
				}
				w.insert(id, h)
				model = append(model, id)
				if len(model) > size {
					model = model[1:]
				}
			}
			var order []string
			w.each(func(id string) { order = append(order, strings.Clone(id)) })
			if !slices.Equal(order, model) {
				t.Fatalf("seed %d: each = %v…, model %v…", seed, order[:min(5, len(order))], model[:min(5, len(model))])
			}
			used := 0
			for _, e := range w.table.slots {
				if e != 0 {
					used++
				}
			}
			if used != len(model) {
				t.Fatalf("seed %d: %d slots used for %d ids", seed, used, len(model))
			}
		})
	}
}

// TestIDWindowTableSizedOnce: the table is sized for the whole window at
// init, a power of two at least twice the ids, and a full window never
// makes it grow.
func TestIDWindowTableSizedOnce(t *testing.T) {
	for _, size := range []int{0, 1, 511, 512, 513, 1000, 4096, 70_000} {
		var w idWindow
		w.init(size)
		slots := len(w.table.slots)
		if slots&(slots-1) != 0 || slots < 2*size || slots < minIndexSlots || (slots > minIndexSlots && slots >= 4*size) {
			t.Fatalf("size %d: %d slots, want the least power of two ≥ max(%d, 2×size)", size, slots, minIndexSlots)
		}
		if size == 0 {
			continue
		}
		for i := range 2*size + 10 {
			w.add("adj-" + strconv.Itoa(i))
		}
		if len(w.table.slots) != slots || w.table.n != size {
			t.Fatalf("size %d: table went from %d to %d slots with %d ids", size, slots, len(w.table.slots), w.table.n)
		}
	}
}

func BenchmarkIDWindow(b *testing.B) {
	const size = 1_000_000
	ids := make([]string, 1<<21)
	for i := range ids {
		ids[i] = "adj-" + strconv.Itoa(i)
	}
	var w idWindow
	w.init(size)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		id := ids[i&(len(ids)-1)]
		if h, dup := w.lookup(id); !dup {
			w.insert(id, h)
		}
		i++
	}
}

// BenchmarkIDWindowFill: ns per id while a new window of a million ids
// fills (a fresh ledger's first million stock.adjust events), where the
// ring grows.
func BenchmarkIDWindowFill(b *testing.B) {
	const size = 1_000_000
	ids := make([]string, size)
	for i := range ids {
		ids[i] = "adj-" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	for b.Loop() {
		var w idWindow
		w.init(size)
		for _, id := range ids {
			if h, dup := w.lookup(id); !dup {
				w.insert(id, h)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/id")
}

// BenchmarkIDWindowMemory: the heap a full window of a million ids keeps,
// with each id cut from a 96-byte buffer as DecodeEvent's ids are (one
// allocation holds all of an event's strings), and how long a full garbage
// collection takes with it alive.
//
//	go test -run '^$' -bench IDWindowMemory -benchtime 1x ./reservation/
func BenchmarkIDWindowMemory(b *testing.B) {
	const size = 1_000_000
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		var w idWindow
		w.init(size)
		for i := range size {
			buf := make([]byte, 0, 96)
			buf = append(buf, "adj-"...)
			buf = strconv.AppendInt(buf, int64(i), 10)
			id := unsafe.String(&buf[0], len(buf))
			buf = append(buf, "benchwh-msk2026-11-22T10:00:00Zstock.adjustsku-1"...) // the event's other strings
			if h, dup := w.lookup(id); !dup {
				w.insert(id, h)
			}
		}
		runtime.GC()
		start := time.Now()
		runtime.GC()
		gc := time.Since(start)
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/size, "heap-B/id")
		b.ReportMetric(float64(gc.Microseconds())/1000, "gc-ms")
		runtime.KeepAlive(&w)
	}
}
