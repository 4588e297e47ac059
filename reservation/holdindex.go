package reservation

import (
	"hash/maphash"
	"math/bits"
	"unsafe"
)

// holdIndex owns every hold the ledger knows (active and retained) and
// finds them by id.
//
// Holds live in a slab of fixed-size chunks and are named by a 32-bit ref;
// a closed hold that leaves the replay window goes back to a free list, so
// the slab grows to the peak number of holds (bounded by MaxActiveHolds +
// MaxRetainedHolds) and no further. The id index is a slotTable of slot
// values (the id's hash and the hold's ref). At millions of holds a second
// the cache misses of the index are most of the cost, so:
//
//   - The replay window is a ring of the closed holds' slot values, oldest
//     first. A closed hold stays where it is in the slab; evicting the
//     oldest needs only its slot value (which names its ref), so eviction
//     reads the compact ring sequentially and never waits for the hold.
//     The ring order is known in advance, so each retire prefetches the
//     slot and the hold of the eviction evictAhead retires later: by the
//     time the hold is evicted and its slab memory reused by the next new
//     hold, both are in cache.
//   - Reserve prefetches the slot of its id first and looks the id up (and
//     indexes the new hold) only after planning and placing the hold and
//     writing its record (see Ledger.Reserve), which hides most of that
//     miss.
//
// Invariants: every known hold is in the table; ring[ringHead..] (ringLen
// entries, cyclically) are the slot values of the closed holds, oldest
// first.
type holdIndex struct {
	seed   maphash.Seed
	table  slotTable
	chunks []*holdChunk
	next   uint32   // refs below next have been handed out
	free   []uint32 // refs of slab holds not in use

	spills spills // lines and allocations of spilled holds

	ring     []uint64 // slot values of closed holds, grows to ringSize
	ringHead uint32   // the oldest, once the ring is full
	ringLen  uint32
	ringSize uint32
}

const (
	holdChunkBits = 8
	holdChunkSize = 1 << holdChunkBits
	// evictAhead is how many retires ahead the eviction's memory is
	// prefetched.
	evictAhead = 2
	// maxHoldRef bounds hold refs: ref+1 must fit in a slot value's 32 bits.
	maxHoldRef uint32 = 1<<32 - 2
)

// holdChunk is holdChunkSize holds of the slab and, beside them, where
// the spilled ones have their lines and allocations (a hold stays 256
// bytes, four cache lines).
type holdChunk struct {
	holds [holdChunkSize]hold
	more  [holdChunkSize]spillRef
}

func newHoldIndex(window int) holdIndex {
	assert(window > 0 && uint64(window) < uint64(maxHoldRef), "replay window size")
	// The table and the ring are sized for a full replay window (active
	// holds grow the table further), so filling the window never rehashes
	// or copies inside a reserve.
	return holdIndex{
		seed: maphash.MakeSeed(), table: newSlotTable(window),
		ring: make([]uint64, 0, window), ringSize: uint32(window),
	}
}

func (x *holdIndex) hash(id string) uint32 { return uint32(maphash.String(x.seed, id)) }

func (x *holdIndex) at(ref uint32) *hold {
	return &x.chunks[ref>>holdChunkBits].holds[ref&(holdChunkSize-1)]
}

// moreOf is where h's spilled lines and allocations are.
func (x *holdIndex) moreOf(h *hold) *spillRef {
	return &x.chunks[h.ref>>holdChunkBits].more[h.ref&(holdChunkSize-1)]
}

// entryOf is a slot value: the id's hash and the hold's ref+1 (never 0).
func entryOf(hash, ref uint32) uint64 { return uint64(hash)<<32 | uint64(ref+1) }

func entryRef(e uint64) uint32 { return uint32(e) - 1 }

func entryHash(e uint64) uint32 { return uint32(e >> 32) }

// alloc returns an unused hold with its ref set. A reused hold keeps its
// old contents for the caller to reset (and their slices' capacity).
func (x *holdIndex) alloc() *hold {
	if n := len(x.free); n > 0 {
		ref := x.free[n-1]
		x.free = x.free[:n-1]
		return x.at(ref)
	}
	assert(x.next < maxHoldRef, "hold ref space")
	if int(x.next>>holdChunkBits) == len(x.chunks) {
		x.chunks = append(x.chunks, new(holdChunk))
	}
	h := x.at(x.next)
	h.ref = x.next
	x.next++
	return h
}

// prefetchSlot starts loading the slot a lookup of hash begins at, so a
// command can prefetch first and look up after its other work.
func (x *holdIndex) prefetchSlot(hash uint32) { x.table.prefetch(hash) }

// find returns the hold with this id and hash, or nil.
func (x *holdIndex) find(id string, hash uint32) *hold { return x.table.find(x, id, hash) }

func (x *holdIndex) get(id string) (*hold, bool) {
	h := x.find(id, x.hash(id))
	return h, h != nil
}

// put indexes a new hold whose id is not indexed yet; hash is x.hash of its id.
func (x *holdIndex) put(h *hold, hash uint32) {
	h.entry = entryOf(hash, h.ref)
	x.table.insert(h.entry)
}

// unalloc returns a hold that was never indexed to the slab.
func (x *holdIndex) unalloc(h *hold) {
	assert(h.entry == 0, "returning an indexed hold")
	x.free = append(x.free, h.ref)
}

// retire adds a closed hold to the replay window, evicting the oldest
// closed hold when the window is full: it leaves the index and its slab
// memory is reused.
func (x *holdIndex) retire(h *hold) {
	assert(h.entry != 0, "retiring a hold that is not indexed")
	if x.ringLen < x.ringSize {
		x.ring = append(x.ring, h.entry)
		x.ringLen++
		return
	}
	old := x.ring[x.ringHead]
	x.table.remove(old)
	x.unspill(x.at(entryRef(old)))
	x.free = append(x.free, entryRef(old))
	x.ring[x.ringHead] = h.entry
	x.ringHead = (x.ringHead + 1) % x.ringSize
	x.prefetchEviction()
}

// prefetchEviction starts loading the slot and the hold that the retire
// evictAhead from now will evict (and the following new hold reuse).
func (x *holdIndex) prefetchEviction() {
	e := x.ring[(x.ringHead+evictAhead)%x.ringSize]
	x.table.prefetch(entryHash(e))
	h := unsafe.Pointer(x.at(entryRef(e)))
	for off := uintptr(0); off < unsafe.Sizeof(hold{}); off += 64 {
		prefetch(unsafe.Add(h, off))
	}
}

// ringEach calls fn for the closed holds, oldest first.
func (x *holdIndex) ringEach(fn func(*hold)) {
	for i := range x.ringLen {
		fn(x.at(entryRef(x.ring[(x.ringHead+i)%x.ringSize])))
	}
}

func (x *holdIndex) len() int { return x.table.n }

// each calls fn for every indexed hold, in no particular order.
func (x *holdIndex) each(fn func(*hold)) {
	x.table.each(func(e uint64) { fn(x.at(entryRef(e))) })
}

// slotTable is an open-addressing table of 8-byte slots, each a slot value
// (entryOf), with linear probing and backward-shift deletion (no
// tombstones). A lookup reads one cache line of slots (and the hold only on
// a 32-bit hash match).
//
// Invariants: slots has n non-zero entries; len(slots) is a power of two
// and at least twice n; every entry is reachable by probing from its hash
// without crossing an empty slot.
type slotTable struct {
	slots []uint64
	n     int
}

const minIndexSlots = 1 << 10

// newSlotTable returns a table sized for n entries: the power of two at
// least twice n, so that filling it to n never grows it. Growing rehashes
// the whole table inside one command (for a window of a million ids, a
// 16 MiB table: milliseconds during which every reserve waits), and the
// windows these tables index fill up in normal work anyway. The slots
// hold no pointers and fresh pages are zero until touched, so an empty
// table costs address space, not memory.
func newSlotTable(n int) slotTable {
	slots := minIndexSlots
	if n > minIndexSlots/2 {
		slots = 1 << bits.Len(uint(2*n-1))
	}
	return slotTable{slots: make([]uint64, slots)}
}

func (t *slotTable) home(hash uint32) int { return int(hash) & (len(t.slots) - 1) }

func (t *slotTable) prefetch(hash uint32) { prefetch(unsafe.Pointer(&t.slots[t.home(hash)])) }

func (t *slotTable) find(x *holdIndex, id string, hash uint32) *hold {
	mask := len(t.slots) - 1
	for i := t.home(hash); ; i = (i + 1) & mask {
		e := t.slots[i]
		if e == 0 {
			return nil
		}
		if entryHash(e) == hash {
			if h := x.at(entryRef(e)); h.idView() == id {
				return h
			}
		}
	}
}

func (t *slotTable) insert(e uint64) {
	if 2*(t.n+1) > len(t.slots) {
		t.grow()
	}
	t.place(e)
	t.n++
}

func (t *slotTable) place(e uint64) {
	mask := len(t.slots) - 1
	i := t.home(entryHash(e))
	for t.slots[i] != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = e
}

func (t *slotTable) grow() {
	old := t.slots
	t.slots = make([]uint64, 2*len(old))
	for _, e := range old {
		if e != 0 {
			t.place(e)
		}
	}
}

// remove unindexes the hold with this slot value.
func (t *slotTable) remove(e uint64) {
	mask := len(t.slots) - 1
	i := t.home(entryHash(e))
	for t.slots[i] != e {
		assert(t.slots[i] != 0, "removing a hold that is not indexed")
		i = (i + 1) & mask
	}
	// backward-shift: move later entries of the probe run into the hole
	// unless their home lies cyclically in (hole, j].
	for j := i; ; {
		j = (j + 1) & mask
		e := t.slots[j]
		if e == 0 {
			break
		}
		k := t.home(entryHash(e))
		if (i <= j && i < k && k <= j) || (i > j && (k > i || k <= j)) {
			continue
		}
		t.slots[i] = e
		i = j
	}
	t.slots[i] = 0
	t.n--
}

func (t *slotTable) each(fn func(uint64)) {
	for _, e := range t.slots {
		if e != 0 {
			fn(e)
		}
	}
}
