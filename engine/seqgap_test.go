package engine

import (
	"testing"
	"time"
)

func TestSeqGapsOutOfOrderIsNotAGap(t *testing.T) {
	g := newSeqGaps(time.Second)
	now := time.Unix(0, 0)
	for _, seq := range []uint64{1, 3, 2, 5, 4, 6} {
		if gaps := g.observe("ut", seq, now); len(gaps) != 0 {
			t.Fatalf("observe %d: gaps %v", seq, gaps)
		}
	}
	if gaps := g.expired(now.Add(time.Hour)); len(gaps) != 0 {
		t.Fatalf("no seq is missing, got gaps %v", gaps)
	}
}

func TestSeqGapsReportsAfterTimeout(t *testing.T) {
	g := newSeqGaps(time.Second)
	now := time.Unix(0, 0)
	for _, seq := range []uint64{10, 11, 14, 15} { // 12 and 13 never come
		g.observe("ut", seq, now)
	}
	if gaps := g.expired(now.Add(999 * time.Millisecond)); len(gaps) != 0 {
		t.Fatalf("before the timeout: gaps %v", gaps)
	}
	gaps := g.expired(now.Add(time.Second))
	if len(gaps) != 1 || gaps[0].After != 11 || gaps[0].Missing != 2 {
		t.Fatalf("gaps = %+v, want one after 11 missing 2", gaps)
	}
	g.observe("ut", 16, now.Add(2*time.Second))
	if gaps := g.expired(now.Add(time.Hour)); len(gaps) != 0 {
		t.Fatalf("after moving past the gap: %v", gaps)
	}
}

func TestSeqGapsBoundedPending(t *testing.T) {
	g := newSeqGaps(time.Hour)
	now := time.Unix(0, 0)
	g.observe("ut", 1, now)
	var reported int
	for seq := uint64(3); seq < 3+MaxSeqPending+1; seq++ {
		reported += len(g.observe("ut", seq, now))
	}
	if reported != 1 {
		t.Fatalf("reported %d gaps past MaxSeqPending, want 1", reported)
	}
}
