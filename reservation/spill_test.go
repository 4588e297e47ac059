package reservation

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestArenaRuns drives an arena with random starts, adds and puts, runs
// small and larger than a chunk, against a model of what each run holds:
// every run keeps its entries through others' growth and reuse, lies
// inside the arena and overlaps no other.
func TestArenaRuns(t *testing.T) {
	var a arena[holdLine]
	rnd := rand.New(rand.NewPCG(1, 2))
	type owned struct {
		r    run
		want []holdLine
	}
	var runs []owned
	next := uint32(0)
	entries := func(n int) []holdLine {
		vs := make([]holdLine, n)
		for i := range vs {
			next++
			vs[i] = holdLine{sku: next, qty: int64(next)}
		}
		return vs
	}
	size := func() int {
		if rnd.IntN(50) == 0 {
			return 1 + rnd.IntN(3*arenaChunkSize) // a run of chunks of its own
		}
		return 1 + rnd.IntN(6)
	}
	for step := range 20_000 {
		switch op := rnd.IntN(10); {
		case op < 4 || len(runs) == 0:
			vs := entries(size())
			runs = append(runs, owned{a.start(vs), vs})
		case op < 8:
			o := &runs[rnd.IntN(len(runs))]
			vs := entries(size())
			o.r = a.add(o.r, vs...)
			o.want = append(o.want, vs...)
		default:
			i := rnd.IntN(len(runs))
			a.put(runs[i].r)
			runs = slices.Delete(runs, i, i+1)
		}
		if step%500 != 0 {
			continue
		}
		spans := make([][2]uint64, 0, len(runs))
		for _, o := range runs {
			if !a.holds(o.r) || !slices.Equal(a.view(o.r), o.want) {
				t.Fatalf("step %d: run %+v does not hold its %d entries", step, o.r, len(o.want))
			}
			spans = append(spans, [2]uint64{uint64(o.r.off), uint64(o.r.off) + 1<<o.r.class})
		}
		slices.SortFunc(spans, func(x, y [2]uint64) int { return int(x[0]) - int(y[0]) })
		for i := 1; i < len(spans); i++ {
			if spans[i-1][1] > spans[i][0] {
				t.Fatalf("step %d: runs %v and %v overlap", step, spans[i-1], spans[i])
			}
		}
		if a.live != len(runs) {
			t.Fatalf("step %d: %d runs live, want %d", step, a.live, len(runs))
		}
	}
}

// TestArenaReusesRuns: runs given back are handed out again, so a steady
// load stops growing the arena.
func TestArenaReusesRuns(t *testing.T) {
	var a arena[holdAlloc]
	vs := make([]holdAlloc, 5)
	for range 3 * arenaChunkSize {
		a.put(a.start(vs))
	}
	if len(a.chunks) != 1 {
		t.Errorf("a run started and given back %d times took %d chunks", 3*arenaChunkSize, len(a.chunks))
	}
}
