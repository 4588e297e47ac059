package reservation

// A hold whose lines or allocations outgrow its inline buffers spills them
// into two arenas of the hold index, one of lines and one of allocations,
// of pointer-free entries. Where a spilled hold's runs are (spillRef) sits
// beside it in its slab chunk, so neither the slab of holds nor the arenas
// give the garbage collector anything to scan, however many multi-line
// baskets the replay window keeps.
//
// An arena hands out runs of 1<<class entries and keeps the runs given
// back in a free list per class, so a warm ledger reuses them and
// allocates nothing. A run that fills moves to the next class up. The
// arena grows by fixed chunks, never by copying what it has (a copy of
// tens of megabytes inside a reserve would stall every request behind
// it); a run larger than a chunk gets chunks of its own. Views of an arena
// (lines, allocs) are valid until the next spill or add on it.

// spillRef is where a spilled hold's lines and allocations are.
type spillRef struct {
	lines, allocs run
}

// run is n entries used of a run of 1<<class entries at off: chunk
// off>>arenaChunkBits, from entry off&(arenaChunkSize-1) of it.
type run struct {
	off, n uint32
	class  uint8
}

const (
	// minRunClass is the class of a hold's first runs: room for twice
	// its inline buffers (1 line, 2 allocations) and more.
	minRunClass = 2
	// arenaChunkBits sizes an arena's chunks: 4,096 entries, 64 KiB of
	// lines or 96 KiB of allocations.
	arenaChunkBits = 12
	arenaChunkSize = 1 << arenaChunkBits
	// maxRunClass bounds a run to 1<<maxRunClass entries, more than any
	// hold within the ledger's limits needs; offsets stay within 32 bits.
	maxRunClass = 27
)

// arena is the runs of one kind of entry.
type arena[T any] struct {
	// chunks[i] holds entries i<<arenaChunkBits on; a run of a class
	// above arenaChunkBits has a chunk of its size at its first index and
	// nil at the indexes it covers after that.
	chunks [][]T
	top    int                       // entries handed out of the last chunk
	free   [maxRunClass + 1][]uint32 // offsets of runs given back, by class
	live   int                       // runs handed out and not given back
}

// get hands out a run of 1<<class entries, a free one if there is.
func (a *arena[T]) get(class uint8) uint32 {
	assert(class <= maxRunClass, "a hold's spilled run passes the largest class")
	a.live++
	if f := a.free[class]; len(f) > 0 {
		a.free[class] = f[:len(f)-1]
		return f[len(f)-1]
	}
	size := 1 << class
	if size > arenaChunkSize {
		a.retireTail()
		first := len(a.chunks)
		assert(uint64(first+size>>arenaChunkBits)<<arenaChunkBits <= 1<<32, "spill arena passes 4G entries")
		a.chunks = append(a.chunks, make([]T, size))
		a.chunks = append(a.chunks, make([][]T, size>>arenaChunkBits-1)...)
		a.top = arenaChunkSize // the next small run opens a chunk
		return uint32(first << arenaChunkBits)
	}
	if len(a.chunks) == 0 || a.top+size > arenaChunkSize {
		a.retireTail()
		assert(uint64(len(a.chunks)+1)<<arenaChunkBits <= 1<<32, "spill arena passes 4G entries")
		a.chunks = append(a.chunks, make([]T, arenaChunkSize))
		a.top = 0
	}
	off := (len(a.chunks)-1)<<arenaChunkBits | a.top
	a.top += size
	return uint32(off)
}

// retireTail gives the unused end of the last chunk to the free lists, in
// the largest runs that fit, before a new chunk opens.
func (a *arena[T]) retireTail() {
	if len(a.chunks) == 0 || len(a.chunks[len(a.chunks)-1]) != arenaChunkSize {
		return
	}
	base := (len(a.chunks) - 1) << arenaChunkBits
	for left := arenaChunkSize - a.top; left >= 1<<minRunClass; left = arenaChunkSize - a.top {
		class := uint8(minRunClass)
		for 1<<(class+1) <= left && a.top%(1<<(class+1)) == 0 {
			class++
		}
		a.free[class] = append(a.free[class], uint32(base|a.top))
		a.top += 1 << class
	}
}

// holds reports whether r lies inside the arena.
func (a *arena[T]) holds(r run) bool {
	i, at := int(r.off>>arenaChunkBits), int(r.off&(arenaChunkSize-1))
	return r.class <= maxRunClass && i < len(a.chunks) && a.chunks[i] != nil && at+1<<r.class <= len(a.chunks[i])
}

// put gives r back.
func (a *arena[T]) put(r run) {
	a.live--
	a.free[r.class] = append(a.free[r.class], r.off)
}

// entries is r's whole run.
func (a *arena[T]) entries(r run) []T {
	c, at := a.chunks[r.off>>arenaChunkBits], int(r.off&(arenaChunkSize-1))
	return c[at : at+1<<r.class : at+1<<r.class]
}

// view is r's entries in use; it aliases the arena.
func (a *arena[T]) view(r run) []T {
	return a.entries(r)[:r.n:r.n]
}

// classFor is the smallest class (at least minRunClass) whose runs hold n
// entries.
func classFor(n uint64) uint8 {
	class := uint8(minRunClass)
	for n > 1<<class {
		class++
	}
	return class
}

// start is a new run of the smallest class holding vs.
func (a *arena[T]) start(vs []T) run {
	class := classFor(uint64(len(vs)))
	r := run{off: a.get(class), class: class}
	return a.add(r, vs...)
}

// add appends vs to r, moving r to a larger class when it would overflow.
// vs must not alias the arena.
func (a *arena[T]) add(r run, vs ...T) run {
	need := uint64(r.n) + uint64(len(vs))
	if need > 1<<r.class {
		class := classFor(need)
		assert(class <= maxRunClass, "a hold's spilled run passes the largest class")
		moved := run{off: a.get(class), n: r.n, class: class}
		copy(a.entries(moved), a.view(r))
		a.put(r)
		r = moved
	}
	copy(a.entries(r)[r.n:], vs)
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
