package reservation

import (
	"math"
	"slices"
)

// A hold whose lines or allocations outgrow its inline buffers spills them
// into two arenas of the hold index, one of lines and one of allocations,
// each a single slice of pointer-free entries. Where a spilled hold's runs
// are (spillRef) sits beside it in its slab chunk, so neither the slab of holds nor the
// arenas give the garbage collector anything to scan, however many
// multi-line baskets the replay window keeps.
//
// An arena hands out runs of 1<<class entries and keeps the runs given
// back in a free list per class, so a warm ledger reuses them and
// allocates nothing. A run that fills moves to the next class up. Views of
// an arena (lines, allocs) are valid until the next spill or add grows it.

// spillRef is where a spilled hold's lines and allocations are.
type spillRef struct {
	lines, allocs run
}

// run is n entries used of a run of 1<<class entries at off.
type run struct {
	off, n uint32
	class  uint8
}

// minRunClass is the class of a hold's first runs: room for twice its
// inline buffers (1 line, 2 allocations) and more.
const minRunClass = 2

// maxRunClass bounds a run to 1<<maxRunClass entries, more than any hold
// within the ledger's limits needs.
const maxRunClass = 31

// arena is the runs of one kind of entry.
type arena[T any] struct {
	buf  []T
	free [maxRunClass + 1][]uint32 // offsets of runs given back, by class
	live int                       // runs handed out and not given back
}

// get hands out a run of 1<<class entries, a free one if there is.
func (a *arena[T]) get(class uint8) uint32 {
	a.live++
	if f := a.free[class]; len(f) > 0 {
		a.free[class] = f[:len(f)-1]
		return f[len(f)-1]
	}
	off, size := len(a.buf), 1<<class
	assert(off+size <= math.MaxUint32, "spill arena passes 4G entries")
	a.buf = slices.Grow(a.buf, size)[:off+size]
	return uint32(off)
}

// put gives r back.
func (a *arena[T]) put(r run) {
	a.live--
	a.free[r.class] = append(a.free[r.class], r.off)
}

// view is r's entries; it aliases the arena.
func (a *arena[T]) view(r run) []T {
	return a.buf[r.off : r.off+r.n : r.off+r.n]
}

// start is a new run of the smallest class holding vs.
func (a *arena[T]) start(vs []T) run {
	class := uint8(minRunClass)
	for len(vs) > 1<<class {
		class++
	}
	r := run{off: a.get(class), class: class}
	return a.add(r, vs...)
}

// add appends vs to r, moving r to a larger class when it would overflow.
// vs must not alias the arena.
func (a *arena[T]) add(r run, vs ...T) run {
	need := uint64(r.n) + uint64(len(vs))
	if need > 1<<r.class {
		class := r.class
		for need > 1<<class {
			class++
		}
		assert(class <= maxRunClass, "a hold's spilled run passes 1<<31 entries")
		off := a.get(class)
		copy(a.buf[off:], a.buf[r.off:r.off+r.n])
		a.put(r)
		r.off, r.class = off, class
	}
	copy(a.buf[r.off+r.n:], vs)
	r.n = uint32(need)
	return r
}

// spills is the hold index's two arenas.
type spills struct {
	lines  arena[holdLine]
	allocs arena[holdAlloc]
}

// lines is h's lines; it aliases the hold (or the arena).
func (x *holdIndex) lines(h *hold) []holdLine {
	if h.spilled {
		return x.spills.lines.view(x.moreOf(h).lines)
	}
	return h.lineBuf[:h.nLines]
}

// allocs is h's allocations; it aliases the hold (or the arena), so an
// allocation can be changed through it until the next spill or add.
func (x *holdIndex) allocs(h *hold) []holdAlloc {
	if h.spilled {
		return x.spills.allocs.view(x.moreOf(h).allocs)
	}
	return h.allocBuf[:h.nAllocs]
}

func (x *holdIndex) addLine(h *hold, ln holdLine) {
	if !h.spilled && int(h.nLines) < len(h.lineBuf) {
		h.lineBuf[h.nLines] = ln
		h.nLines++
		return
	}
	m := x.spill(h)
	m.lines = x.spills.lines.add(m.lines, ln)
}

func (x *holdIndex) addAllocs(h *hold, as ...holdAlloc) {
	if !h.spilled && int(h.nAllocs)+len(as) <= len(h.allocBuf) {
		h.nAllocs += uint8(copy(h.allocBuf[h.nAllocs:], as))
		return
	}
	m := x.spill(h)
	m.allocs = x.spills.allocs.add(m.allocs, as...)
}

// spill moves h's inline lines and allocations into the arenas and
// returns where they are.
func (x *holdIndex) spill(h *hold) *spillRef {
	m := x.moreOf(h)
	if h.spilled {
		return m
	}
	*m = spillRef{
		lines:  x.spills.lines.start(h.lineBuf[:h.nLines]),
		allocs: x.spills.allocs.start(h.allocBuf[:h.nAllocs]),
	}
	h.spilled, h.nLines, h.nAllocs = true, 0, 0
	return m
}

// unspill gives a spilled h's runs back to the arenas for the next hold
// that spills.
func (x *holdIndex) unspill(h *hold) {
	if !h.spilled {
		return
	}
	m := x.moreOf(h)
	x.spills.lines.put(m.lines)
	x.spills.allocs.put(m.allocs)
	*m, h.spilled = spillRef{}, false
}

// spilledHolds is how many holds have runs in the arenas.
func (x *holdIndex) spilledHolds() int { return x.spills.lines.live }
