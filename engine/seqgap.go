package engine

import (
	"sync"
	"time"
)

// MaxSeqPending bounds the out-of-order seqs remembered per 1C source;
// past it the oldest hole is reported at once.
const MaxSeqPending = 4096

// seqGaps finds gaps in each 1C source's seq. Events of one source are
// spread over partitions by SKU, so seqs arrive out of order; a missing
// seq is a gap only once it has stayed missing for the gap timeout (or
// MaxSeqPending later seqs have arrived).
type seqGaps struct {
	mu      sync.Mutex
	timeout time.Duration
	sources map[string]*seqTrack
}

type seqTrack struct {
	next      uint64              // lowest seq not yet seen
	seen      map[uint64]struct{} // seen seqs above next
	holeSince time.Time           // when next was first found missing
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

// observe records seq from source; it returns gaps forced out by MaxSeqPending.
func (g *seqGaps) observe(source string, seq uint64, now time.Time) []SeqGap {
	g.mu.Lock()
	defer g.mu.Unlock()
	t, ok := g.sources[source]
	if !ok {
		if len(g.sources) >= MaxSeqSources {
			return nil
		}
		g.sources[source] = &seqTrack{next: seq + 1, seen: map[uint64]struct{}{}}
		return nil
	}
	switch {
	case seq < t.next:
		return nil // late or repeated
	case seq == t.next:
		t.next++
		t.advance(now)
		return nil
	}
	t.seen[seq] = struct{}{}
	if t.holeSince.IsZero() {
		t.holeSince = now
	}
	if len(t.seen) > MaxSeqPending {
		return []SeqGap{t.skipHole(source, now)}
	}
	return nil
}

// expired reports holes older than the timeout and moves past them.
func (g *seqGaps) expired(now time.Time) []SeqGap {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []SeqGap
	for source, t := range g.sources {
		for !t.holeSince.IsZero() && now.Sub(t.holeSince) >= g.timeout {
			out = append(out, t.skipHole(source, now))
		}
	}
	return out
}

// skipHole declares the hole at next a gap and moves next past it.
func (t *seqTrack) skipHole(source string, now time.Time) SeqGap {
	lowest := uint64(0)
	for s := range t.seen {
		if lowest == 0 || s < lowest {
			lowest = s
		}
	}
	gap := SeqGap{Source: source, After: t.next - 1, Missing: lowest - t.next, DetectedAt: now}
	t.next = lowest
	t.holeSince = time.Time{}
	t.advance(now)
	return gap
}

// advance consumes seen seqs from next on; a hole left behind starts now.
func (t *seqTrack) advance(now time.Time) {
	for {
		if _, ok := t.seen[t.next]; !ok {
			break
		}
		delete(t.seen, t.next)
		t.next++
	}
	if len(t.seen) == 0 {
		t.holeSince = time.Time{}
	} else if t.holeSince.IsZero() {
		t.holeSince = now
	}
}
