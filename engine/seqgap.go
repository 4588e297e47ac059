package engine

import (
	"math/bits"
	"sync"
	"time"
)

// SeqWindow is how far past the lowest missing seq a source's seqs are
// tracked (a bitmap of this many bits per source, 128 KiB). A seq beyond
// the window forces the oldest hole to be reported.
const SeqWindow = 1 << 20

// seqGaps finds gaps in each 1C source's seq. Events of one source are
// spread over partitions by SKU, so seqs arrive out of order, most while
// a backlog is consumed; a missing seq is a gap only once it has stayed
// missing for the gap timeout while the ingest is caught up (expired is
// called only then), or when seqs run SeqWindow past it.
type seqGaps struct {
	mu      sync.Mutex
	timeout time.Duration
	sources map[string]*seqTrack
}

// seqTrack is one source: a ring bitmap of seen seqs in [next, next+SeqWindow).
type seqTrack struct {
	next      uint64 // lowest seq not yet seen
	seen      []uint64
	pending   int       // bits set
	holeSince time.Time // when next was first found missing; zero: no hole
}

// SeqGap is one reported gap.
type SeqGap struct {
	Source     string    `json:"source"`
	After      uint64    `json:"after"`   // last seq before the gap
	Missing    uint64    `json:"missing"` // how many seqs are missing
	DetectedAt time.Time `json:"detected_at"`
}

func newSeqGaps(timeout time.Duration) *seqGaps {
	return &seqGaps{timeout: timeout, sources: map[string]*seqTrack{}}
}

// observe records seq from source; it returns gaps forced out by the window.
func (g *seqGaps) observe(source string, seq uint64, now time.Time) []SeqGap {
	g.mu.Lock()
	defer g.mu.Unlock()
	t, ok := g.sources[source]
	if !ok {
		if len(g.sources) >= MaxSeqSources {
			return nil
		}
		g.sources[source] = &seqTrack{next: seq + 1, seen: make([]uint64, SeqWindow/64)}
		return nil
	}
	if seq < t.next || (seq < t.next+SeqWindow && t.has(seq)) {
		return nil // late or repeated
	}
	var gaps []SeqGap
	for seq >= t.next+SeqWindow {
		gaps = append(gaps, t.skipHole(source, now, seq))
	}
	if seq == t.next {
		t.next++
		t.advance(now)
		return gaps
	}
	t.set(seq)
	if t.holeSince.IsZero() {
		t.holeSince = now
	}
	return gaps
}

// expired reports holes older than the timeout and moves past them. Call
// it only while the ingest is caught up.
func (g *seqGaps) expired(now time.Time) []SeqGap {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []SeqGap
	for source, t := range g.sources {
		for !t.holeSince.IsZero() && now.Sub(t.holeSince) >= g.timeout {
			out = append(out, t.skipHole(source, now, 0))
		}
	}
	return out
}

func (t *seqTrack) has(seq uint64) bool {
	i := seq % SeqWindow
	return t.seen[i/64]&(1<<(i%64)) != 0
}

func (t *seqTrack) set(seq uint64) {
	i := seq % SeqWindow
	t.seen[i/64] |= 1 << (i % 64)
	t.pending++
}

func (t *seqTrack) clear(seq uint64) {
	i := seq % SeqWindow
	t.seen[i/64] &^= 1 << (i % 64)
	t.pending--
}

// lowestSeen returns the lowest seen seq above next.
func (t *seqTrack) lowestSeen() (uint64, bool) {
	if t.pending == 0 {
		return 0, false
	}
	for s := t.next; s < t.next+SeqWindow; {
		i := s % SeqWindow
		word := t.seen[i/64] >> (i % 64)
		if word != 0 {
			return s + uint64(bits.TrailingZeros64(word)), true
		}
		s += 64 - i%64
	}
	panic("engine: seq bitmap count says set, no bit found")
}

// skipHole declares the hole at next a gap and moves next past it. With
// nothing seen (a seq far ahead forced it), the hole runs up to the seq
// that no longer fits the window.
func (t *seqTrack) skipHole(source string, now time.Time, incoming uint64) SeqGap {
	lowest, ok := t.lowestSeen()
	if !ok {
		lowest = incoming - SeqWindow + 1
	}
	gap := SeqGap{Source: source, After: t.next - 1, Missing: lowest - t.next, DetectedAt: now}
	t.next = lowest
	t.holeSince = time.Time{}
	t.advance(now)
	return gap
}

// advance consumes seen seqs from next on; a hole left behind starts now.
func (t *seqTrack) advance(now time.Time) {
	for t.pending > 0 && t.has(t.next) {
		t.clear(t.next)
		t.next++
	}
	if t.pending == 0 {
		t.holeSince = time.Time{}
	} else if t.holeSince.IsZero() {
		t.holeSince = now
	}
}
