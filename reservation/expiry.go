package reservation

import "time"

// expiryHeap orders the active holds that have an expiry by (expiresAt, id),
// the order Expire releases them in. Each hold knows its index, so removal
// on release or confirm is O(log n) and the heap never holds stale entries.
type expiryHeap []*hold

func expiresBefore(a, b *hold) bool {
	if a.expiresAt != b.expiresAt {
		return a.expiresAt < b.expiresAt
	}
	return a.id < b.id
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
type idWindow struct {
	set  map[string]struct{}
	ring []string
	head int
	size int
}

func (w *idWindow) init(size int) {
	w.size = size
	w.set = make(map[string]struct{})
}

func (w *idWindow) has(id string) bool {
	_, ok := w.set[id]
	return ok
}

func (w *idWindow) add(id string) {
	w.set[id] = struct{}{}
	if len(w.ring) < w.size {
		w.ring = append(w.ring, id)
		return
	}
	delete(w.set, w.ring[w.head])
	w.ring[w.head] = id
	w.head = (w.head + 1) % w.size
}

func (w *idWindow) each(fn func(string)) {
	for i := range w.ring {
		fn(w.ring[(w.head+i)%len(w.ring)])
	}
}

func durationOf(ns int64) time.Duration { return time.Duration(ns) }
