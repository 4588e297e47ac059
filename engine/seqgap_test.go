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

func TestSeqGapsWindowForcesReport(t *testing.T) {
	g := newSeqGaps(time.Hour)
	now := time.Unix(0, 0)
	g.observe("ut", 1, now)
	g.observe("ut", 5, now)                   // 2..4 missing
	gaps := g.observe("ut", 5+SeqWindow, now) // does not fit while 2..4 are tracked
	if len(gaps) != 1 || gaps[0].After != 1 || gaps[0].Missing != 3 {
		t.Fatalf("gaps = %+v, want 2..4 forced out", gaps)
	}
	gaps = g.expired(now.Add(2 * time.Hour))
	if len(gaps) != 1 || gaps[0].After != 5 || gaps[0].Missing != SeqWindow-1 {
		t.Fatalf("expired = %+v, want the run between 5 and the far seq", gaps)
	}
}

func BenchmarkSeqGapsInterleaved(b *testing.B) {
	g := newSeqGaps(time.Hour)
	now := time.Unix(0, 0)
	// Eight partitions consumed in turns of 1024: the spread is 7×1024.
	for i := 0; b.Loop(); i++ {
		turn, off := i/1024, i%1024
		part := turn % 8
		seq := uint64((turn/8)*8*1024 + off*8 + part + 1)
		g.observe("ut", seq, now)
	}
}
