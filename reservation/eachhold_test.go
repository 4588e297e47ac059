package reservation

import (
	"sort"
	"testing"
	"time"
)

func TestEachHoldListsActiveHolds(t *testing.T) {
	l, err := New(Config{Channels: []ChannelConfig{{Name: "site", Warehouses: []string{"w"}, Strategy: StrategyPriority}},
		Limits: Limits{MaxRetainedHolds: 2}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	var fx Effects
	ev := Event{V: 1, ID: "e", Source: "s", Seq: 1, At: now, Type: EventStockSet, SKU: "a", Warehouse: "w", Qty: 100}
	if _, err := l.ApplyEvent(&ev, Source{Topic: "t", Offset: 1}, &fx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"h1", "h2", "h3", "h4", "h5", "h6"} {
		if _, err := l.Reserve(ReserveRequest{ID: id, Channel: "site", Lines: []Line{{SKU: "a", Qty: 1}}}, now, &fx); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"h1", "h2", "h3", "h5"} { // more closed holds than the replay window keeps
		if err := l.Release(id, now, &fx); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Confirm("h6", 0, now, &fx); err != nil {
		t.Fatal(err)
	}
	var got []string
	l.EachHold(func(h *Hold) bool { got = append(got, h.ID+":"+h.State.String()); return true })
	sort.Strings(got)
	if len(got) != 2 || got[0] != "h4:held" || got[1] != "h6:confirmed" {
		t.Fatalf("EachHold = %v, want h4 held and h6 confirmed", got)
	}
	n := 0
	l.EachHold(func(*Hold) bool { n++; return false })
	if n != 1 {
		t.Fatalf("EachHold went on after fn returned false: %d calls", n)
	}
}
