package reservation

import (
	"hash/maphash"
	"time"
	"unsafe"
)

// expiryHeap orders the active holds that have an expiry by (expiresAt, id),
// the order Expire releases them in. Each hold knows its index, so removal
// on release or confirm is O(log n) and the heap never holds stale entries.
type expiryHeap []*hold

func expiresBefore(a, b *hold) bool {
	if a.expiresAt != b.expiresAt {
		return a.expiresAt < b.expiresAt
	}
	return a.idView() < b.idView()
}

func (q *expiryHeap) push(h *hold) {
	assert(h.heapIdx < 0, "hold already in expiry heap")
	h.heapIdx = int32(len(*q))
	*q = append(*q, h)
	q.up(int(h.heapIdx))
}

// remove takes the hold out if it is in the heap.
func (q *expiryHeap) remove(h *hold) {
	i := int(h.heapIdx)
	if i < 0 {
		return
	}
	old := *q
	last := len(old) - 1
	if i != last {
		q.swap(i, last)
	}
	old[last] = nil
	*q = old[:last]
	h.heapIdx = -1
	if i != last {
		if !q.down(i) {
			q.up(i)
		}
	}
}

func (q expiryHeap) swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].heapIdx = int32(i)
	q[j].heapIdx = int32(j)
}

func (q expiryHeap) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !expiresBefore(q[i], q[parent]) {
			return
		}
		q.swap(i, parent)
		i = parent
	}
}

func (q expiryHeap) down(i int) bool {
	start := i
	for {
		left := 2*i + 1
		if left >= len(q) {
			break
		}
		least := left
		if right := left + 1; right < len(q) && expiresBefore(q[right], q[left]) {
			least = right
		}
		if !expiresBefore(q[least], q[i]) {
			break
		}
		q.swap(i, least)
		i = least
	}
	return i > start
}

// idWindow remembers the last n stock.adjust ids, oldest evicted first.
//
// The ids live in a ring, each with its 32-bit hash; a slotTable (the
// hold index's open-addressing table) maps entryOf(hash, ring position)
// to them. A lookup hashes the id once and compares strings only on a hash
// match; evicting the oldest id needs its stored hash, not its bytes;
// neither the table nor the ring is rebuilt as ids come and go. The ring
// is made of fixed chunks of windowChunk ids, added as it fills: it never
// reallocates and copies itself the way one growing slice would (with a
// window of a million ids, that copying was most of an insert's cost), and
// a small window takes little memory. prefetch lets a batch start loading
// an upcoming event's slots before it is applied.
//
// Invariants: every id in the ring has exactly one table entry; position
// head is the oldest once the ring is full (n == size).
type idWindow struct {
	seed   maphash.Seed
	table  slotTable
	chunks []windowChunkIDs
	n      int // positions in use
	head   int
	size   int
}

// windowChunkIDs is one chunk of the ring. Its ids' bytes are in one of
// two arenas, which hold no pointers, so the window costs the garbage
// collector nothing to scan and keeps only the ids' bytes, not the decoded
// event each id came from. A pass over the chunk (the first fill, then
// each wrap of the ring) appends to arena cur; the next pass resets and
// fills the other, whose ids were all overwritten by the pass before.
type windowChunkIDs struct {
	ids    []windowID
	arenas [2][]byte
	cur    uint8
}

// windowChunk is the ids in one chunk of the ring.
const (
	windowChunkBits = 12
	windowChunk     = 1 << windowChunkBits
	// windowIDBytes is the id length a new chunk's arena is sized for
	// (it grows past that as needed).
	windowIDBytes = 16
)

// An id's length is kept in a byte.
const _ = uint8(MaxIDBytes)

// windowID is an id in the ring: its bytes are arenas[arena][off:off+n]
// of its chunk (ids are at most MaxIDBytes).
type windowID struct {
	off   uint32
	hash  uint32
	n     uint8
	arena uint8
}

func (w *idWindow) init(size int) {
	w.size = size
	w.seed = maphash.MakeSeed()
	w.table = newSlotTable(size)
	w.chunks, w.n, w.head = nil, 0, 0
}

// at is the ring's position pos.
func (w *idWindow) at(pos int) *windowID {
	return &w.chunks[uint(pos)>>windowChunkBits].ids[uint(pos)&(windowChunk-1)]
}

// idAt is the id at position pos, a view of the window's memory that the
// next insert into its chunk may overwrite.
func (w *idWindow) idAt(pos int) string {
	c := &w.chunks[uint(pos)>>windowChunkBits]
	e := &c.ids[uint(pos)&(windowChunk-1)]
	if e.n == 0 {
		return ""
	}
	return unsafe.String(&c.arenas[e.arena][e.off], int(e.n))
}

// len is the number of ids the window holds.
func (w *idWindow) len() int { return w.n }

func (w *idWindow) hash(id string) uint32 { return uint32(maphash.String(w.seed, id)) }

// lookup reports whether the window has id, and id's hash for insert.
func (w *idWindow) lookup(id string) (uint32, bool) {
	h := w.hash(id)
	t := &w.table
	mask := len(t.slots) - 1
	for i := t.home(h); ; i = (i + 1) & mask {
		e := t.slots[i]
		if e == 0 {
			return h, false
		}
		if entryHash(e) == h && w.idAt(int(entryRef(e))) == id {
			return h, true
		}
	}
}

func (w *idWindow) has(id string) bool {
	_, ok := w.lookup(id)
	return ok
}

// insert remembers an id lookup did not find (h is its hash), evicting
// the oldest when full.
func (w *idWindow) insert(id string, h uint32) {
	pos := w.n
	c := (*windowChunkIDs)(nil)
	if pos < w.size {
		if pos%windowChunk == 0 {
			ids := min(windowChunk, w.size-pos)
			w.chunks = append(w.chunks, windowChunkIDs{ids: make([]windowID, ids)})
			w.chunks[len(w.chunks)-1].arenas[0] = make([]byte, 0, ids*windowIDBytes)
		}
		w.n++
		c = &w.chunks[uint(pos)>>windowChunkBits]
	} else {
		pos = w.head
		w.table.remove(entryOf(w.at(pos).hash, uint32(pos)))
		w.head = (w.head + 1) % w.size
		c = &w.chunks[uint(pos)>>windowChunkBits]
		if pos%windowChunk == 0 { // a new pass over the chunk
			c.cur ^= 1
			c.arenas[c.cur] = c.arenas[c.cur][:0]
		}
	}
	a := &c.arenas[c.cur]
	*w.at(pos) = windowID{off: uint32(len(*a)), hash: h, n: uint8(len(id)), arena: c.cur}
	*a = append(*a, id...)
	w.table.insert(entryOf(h, uint32(pos)))
}

func (w *idWindow) add(id string) { w.insert(id, w.hash(id)) }

// prefetch starts loading the slots that looking up and inserting id,
// ahead places from now, will touch: its own and, once the ring is full,
// the slot of the id that insert will evict.
func (w *idWindow) prefetch(id string, ahead int) {
	w.table.prefetch(w.hash(id))
	if w.n == w.size && w.size > 0 {
		w.table.prefetch(w.at((w.head + ahead) % w.size).hash)
	}
}

// each calls fn with every id, oldest first; the string views the
// window's memory and is valid only until the next insert.
func (w *idWindow) each(fn func(string)) {
	for i := range w.n {
		fn(w.idAt((w.head + i) % w.n))
	}
}

func durationOf(ns int64) time.Duration { return time.Duration(ns) }
