package reservation

import "hash/maphash"

// holdIndex owns every hold the ledger knows (active and retained) and
// finds them by id.
//
// Holds live in a slab of fixed-size chunks and are named by a 32-bit ref;
// a closed hold that leaves the replay window goes back to a free list, so
// the slab grows to the peak number of holds (bounded by MaxActiveHolds +
// MaxRetainedHolds) and no further. The id index is an open-addressing
// table of 8-byte slots, each holding the low 32 bits of the id's hash and
// the hold's ref+1, with linear probing and backward-shift deletion (no
// tombstones). A lookup reads one cache line of slots (and the hold only on
// a 32-bit hash match); removing a hold needs only its slot value, so
// evicting the oldest closed hold never touches the hold itself. At
// millions of holds a second these cache misses are most of the cost,
// which is why the index is not a Go map.
//
// Invariants: slots has n non-zero entries; len(slots) is a power of two
// and at least twice n; every entry is reachable by probing from its hash
// without crossing an empty slot.
type holdIndex struct {
	seed   maphash.Seed
	slots  []uint64
	n      int
	chunks []*holdChunk
	next   uint32   // refs below next have been handed out
	free   []uint32 // refs of slab holds not in use

	// The replay window: closed holds are moved out of the slab into this
	// ring (refs with closedRef set), written and evicted in order, so a
	// closed hold's slab memory is reused at once while it is still in
	// cache, and eviction reads the ring sequentially.
	ring     []*holdChunk
	ringHead uint32 // the oldest, once the ring is full
	ringLen  uint32
	ringSize uint32
	warmed   uint64 // see warm
}

// closedRef marks refs into the replay window ring.
const closedRef = 1 << 31

const (
	holdChunkBits = 8
	holdChunkSize = 1 << holdChunkBits
	minIndexSlots = 1 << 10
)

type holdChunk [holdChunkSize]hold

func newHoldIndex(window int) holdIndex {
	assert(window > 0 && window < closedRef, "replay window size")
	return holdIndex{seed: maphash.MakeSeed(), slots: make([]uint64, minIndexSlots), ringSize: uint32(window)}
}

func (x *holdIndex) hash(id string) uint32 { return uint32(maphash.String(x.seed, id)) }

func (x *holdIndex) at(ref uint32) *hold {
	if ref&closedRef != 0 {
		p := ref &^ closedRef
		return &x.ring[p>>holdChunkBits][p&(holdChunkSize-1)]
	}
	return &x.chunks[ref>>holdChunkBits][ref&(holdChunkSize-1)]
}

// alloc returns an unused hold with its ref set. A reused hold keeps its
// old contents for the caller to reset (and their slices' capacity).
func (x *holdIndex) alloc() *hold {
	if n := len(x.free); n > 0 {
		ref := x.free[n-1]
		x.free = x.free[:n-1]
		return x.at(ref)
	}
	assert(x.next < closedRef-1, "hold ref space")
	if int(x.next>>holdChunkBits) == len(x.chunks) {
		x.chunks = append(x.chunks, new(holdChunk))
	}
	h := x.at(x.next)
	h.ref = x.next
	x.next++
	return h
}

// retire moves a closed hold from the slab into the replay window ring,
// evicting the oldest closed hold when the ring is full, and frees the slab
// slot. h must not be used afterwards.
func (x *holdIndex) retire(h *hold) {
	assert(h.ref&closedRef == 0 && h.entry != 0, "retiring a hold that is not active")
	pos := x.ringHead
	if x.ringLen < x.ringSize {
		pos = x.ringLen
		if int(pos>>holdChunkBits) == len(x.ring) {
			x.ring = append(x.ring, new(holdChunk))
		}
		x.ringLen++
	} else {
		x.ringHead = (x.ringHead + 1) % x.ringSize
		x.remove(x.at(closedRef | pos).entry)
	}
	slot := x.at(closedRef | pos)
	moveHold(slot, h)
	slot.ref = closedRef | pos
	slot.entry = entryOf(uint32(h.entry>>32), slot.ref)
	x.replace(h.entry, slot.entry)
	h.entry = 0
	x.free = append(x.free, h.ref)
}

// moveHold copies src into dst, keeping inline slices inline, and gives
// dst's old heap slices (if any) to src for reuse.
func moveHold(dst, src *hold) {
	oldLines, oldAllocs := dst.lines, dst.allocs
	ownLines, ownAllocs := dst.inlineLines(), dst.inlineAllocs()
	srcLines, srcAllocs := src.inlineLines(), src.inlineAllocs()
	*dst = *src
	if srcLines {
		dst.lines = dst.lineBuf[:len(src.lines)]
	}
	if srcAllocs {
		dst.allocs = dst.allocBuf[:len(src.allocs)]
	}
	src.lines, src.allocs = nil, nil
	if !ownLines && oldLines != nil {
		src.lines = oldLines[:0]
	}
	if !ownAllocs && oldAllocs != nil {
		src.allocs = oldAllocs[:0]
	}
}

// ringEach calls fn for the closed holds, oldest first.
func (x *holdIndex) ringEach(fn func(*hold)) {
	for i := range x.ringLen {
		fn(x.at(closedRef | (x.ringHead+i)%x.ringSize))
	}
}

func entryOf(hash, ref uint32) uint64 { return uint64(hash)<<32 | uint64(ref+1) }

func (x *holdIndex) home(hash uint32) int { return int(hash) & (len(x.slots) - 1) }

// warm loads the slot a lookup of hash starts at, and the slot that
// evicting the oldest closed hold will probe, without waiting for them:
// the cache misses overlap with the command's other work. The loads are
// kept in x.warmed so the compiler cannot drop them.
func (x *holdIndex) warm(hash uint32) {
	w := x.slots[x.home(hash)]
	if x.ringLen == x.ringSize {
		w += x.slots[x.home(uint32(x.at(closedRef|x.ringHead).entry>>32))]
	}
	x.warmed = w
}

// find returns the hold with this id and hash, or nil.
func (x *holdIndex) find(id string, hash uint32) *hold {
	mask := len(x.slots) - 1
	for i := x.home(hash); ; i = (i + 1) & mask {
		e := x.slots[i]
		if e == 0 {
			return nil
		}
		if uint32(e>>32) == hash {
			if h := x.at(uint32(e) - 1); h.id == id {
				return h
			}
		}
	}
}

func (x *holdIndex) get(id string) (*hold, bool) {
	h := x.find(id, x.hash(id))
	return h, h != nil
}

// put indexes a hold whose id is not indexed yet; hash is x.hash(h.id).
func (x *holdIndex) put(h *hold, hash uint32) {
	if 2*(x.n+1) > len(x.slots) {
		x.grow()
	}
	h.entry = entryOf(hash, h.ref)
	x.insert(h.entry)
	x.n++
}

func (x *holdIndex) insert(e uint64) {
	mask := len(x.slots) - 1
	i := x.home(uint32(e >> 32))
	for x.slots[i] != 0 {
		i = (i + 1) & mask
	}
	x.slots[i] = e
}

func (x *holdIndex) grow() {
	old := x.slots
	x.slots = make([]uint64, 2*len(old))
	for _, e := range old {
		if e != 0 {
			x.insert(e)
		}
	}
}

// replace swaps an entry for another with the same hash, in place.
func (x *holdIndex) replace(old, e uint64) {
	mask := len(x.slots) - 1
	i := x.home(uint32(old >> 32))
	for x.slots[i] != old {
		assert(x.slots[i] != 0, "replacing a hold that is not indexed")
		i = (i + 1) & mask
	}
	x.slots[i] = e
}

// remove unindexes the hold with this entry (see entryOf).
func (x *holdIndex) remove(e uint64) {
	mask := len(x.slots) - 1
	i := x.home(uint32(e >> 32))
	for x.slots[i] != e {
		assert(x.slots[i] != 0, "removing a hold that is not indexed")
		i = (i + 1) & mask
	}
	// backward-shift: move later entries of the probe run into the hole
	// unless their home lies cyclically in (hole, j].
	for j := i; ; {
		j = (j + 1) & mask
		e := x.slots[j]
		if e == 0 {
			break
		}
		k := x.home(uint32(e >> 32))
		if (i <= j && i < k && k <= j) || (i > j && (k > i || k <= j)) {
			continue
		}
		x.slots[i] = e
		i = j
	}
	x.slots[i] = 0
	x.n--
}

func (x *holdIndex) len() int { return x.n }

// each calls fn for every indexed hold, in no particular order.
func (x *holdIndex) each(fn func(*hold)) {
	for _, e := range x.slots {
		if e != 0 {
			fn(x.at(uint32(e) - 1))
		}
	}
}
