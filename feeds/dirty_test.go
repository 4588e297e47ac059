package feeds

import (
	"fmt"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func keys(ps []Pending) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Key
	}
	return out
}

func TestDirtySetCoalescesToOneEntry(t *testing.T) {
	d := NewDirtySet(10)
	// 5 → 4 → 3: three changes, one pending key; the value is read at send time.
	for i, p := range []Priority{PriorityDecrease, PriorityDecrease, PriorityDecrease} {
		if err := d.Mark("sku-1", p, t0.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	got := d.Take(10, t0.Add(time.Minute))
	if len(got) != 1 || got[0].Key != "sku-1" || !got[0].Since.Equal(t0) {
		t.Fatalf("Take = %+v, want one sku-1 since %v", got, t0)
	}
	if d.Len() != 0 {
		t.Fatalf("Len after Take = %d, want 0", d.Len())
	}
}

func TestDirtySetPriorityOrder(t *testing.T) {
	d := NewDirtySet(10)
	marks := []struct {
		key string
		p   Priority
	}{{"price", PriorityPrice}, {"inc", PriorityIncrease}, {"dec", PriorityDecrease}, {"zero", PriorityToZero}, {"dec2", PriorityDecrease}}
	for i, m := range marks {
		if err := d.Mark(m.key, m.p, t0.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	got := fmt.Sprint(keys(d.Take(10, t0)))
	if want := "[zero dec dec2 inc price]"; got != want {
		t.Fatalf("order = %s, want %s", got, want)
	}
}

func TestDirtySetRepriorityMovesKey(t *testing.T) {
	d := NewDirtySet(10)
	d.Mark("a", PriorityIncrease, t0)
	d.Mark("b", PriorityIncrease, t0)
	d.Mark("a", PriorityToZero, t0.Add(time.Second)) // a went to zero meanwhile
	got := d.Take(1, t0)
	if len(got) != 1 || got[0].Key != "a" || got[0].Priority != PriorityToZero || !got[0].Since.Equal(t0) {
		t.Fatalf("Take(1) = %+v, want a to_zero since t0", got)
	}
}

func TestDirtySetCooldownHoldsKeyBack(t *testing.T) {
	d := NewDirtySet(10)
	d.CoolDown("a", t0.Add(60*time.Second))
	d.Mark("a", PriorityDecrease, t0)
	d.Mark("b", PriorityIncrease, t0)
	if got := fmt.Sprint(keys(d.Take(10, t0.Add(59*time.Second)))); got != "[b]" {
		t.Fatalf("before cooldown end Take = %s, want [b]", got)
	}
	if next, ok := d.NextReady(); !ok || !next.Equal(t0.Add(60*time.Second)) {
		t.Fatalf("NextReady = %v %v, want t0+60s", next, ok)
	}
	d.Mark("a", PriorityToZero, t0.Add(30*time.Second)) // still cooling, priority updated
	got := d.Take(10, t0.Add(60*time.Second))
	if len(got) != 1 || got[0].Key != "a" || got[0].Priority != PriorityToZero {
		t.Fatalf("after cooldown Take = %+v, want a to_zero", got)
	}
}

func TestDirtySetRequeueKeepsOldestTime(t *testing.T) {
	d := NewDirtySet(10)
	d.Mark("a", PriorityDecrease, t0)
	d.Mark("b", PriorityDecrease, t0.Add(time.Second))
	taken := d.Take(1, t0.Add(2*time.Second))
	if err := d.Requeue(taken[0], t0.Add(3*time.Second)); err != nil {
		t.Fatal(err)
	}
	if oldest, ok := d.Oldest(); !ok || !oldest.Equal(t0) {
		t.Fatalf("Oldest = %v %v, want t0", oldest, ok)
	}
	if got := fmt.Sprint(keys(d.Take(10, t0.Add(4*time.Second)))); got != "[a b]" {
		t.Fatalf("after requeue order = %s, want [a b]", got)
	}
}

func TestDirtySetBounded(t *testing.T) {
	d := NewDirtySet(2)
	d.Mark("a", PriorityIncrease, t0)
	d.Mark("b", PriorityIncrease, t0)
	if err := d.Mark("c", PriorityIncrease, t0); err == nil {
		t.Fatal("third key in a set of 2: no error")
	}
	if err := d.Mark("a", PriorityToZero, t0); err != nil {
		t.Fatalf("re-marking a pending key at the limit: %v", err)
	}
}

func TestStockPriority(t *testing.T) {
	for _, tc := range []struct {
		acked, next int64
		want        Priority
	}{{5, 0, PriorityToZero}, {5, 3, PriorityDecrease}, {3, 5, PriorityIncrease}, {0, 0, PriorityToZero}} {
		if got := StockPriority(tc.acked, tc.next); got != tc.want {
			t.Errorf("StockPriority(%d,%d) = %v, want %v", tc.acked, tc.next, got, tc.want)
		}
	}
}
