package reservation

import (
	"errors"
	"slices"
	"testing"
)

func TestKitAvailabilityAndHold(t *testing.T) {
	e := newEnv(t, testConfig())
	e.set("bowl", "msk", 7)
	e.set("lid", "msk", 2)
	e.set("lid", "spb", 2)
	e.kit("set", KitComponent{SKU: "bowl", Qty: 2}, KitComponent{SKU: "lid", Qty: 1})
	e.wantAvail("set", "site", 3) // min(7/2, 4/1)
	if got := e.l.Warehouses("set", nil); got[0].Available != 2 || got[1].Available != 0 {
		t.Fatalf("per warehouse = %+v", got)
	}
	e.mustReserve("o1", "site", Line{SKU: "set", Qty: 3})
	want := []Allocation{
		{SKU: "bowl", Warehouse: "msk", Qty: 6},
		{SKU: "lid", Warehouse: "msk", Qty: 2}, {SKU: "lid", Warehouse: "spb", Qty: 1},
	}
	if got := e.hold("o1").Allocations; !slices.Equal(got, want) {
		t.Fatalf("allocations = %+v", got)
	}
	e.wantAvail("set", "site", 0)
	e.wantAvail("bowl", "site", 1)
	e.wantAvail("lid", "site", 1)
	e.checkReplay()
}

func TestBasketDemandSummedPerComponent(t *testing.T) {
	e := newEnv(t, testConfig())
	e.set("bowl", "msk", 5)
	e.set("lid", "msk", 10)
	e.kit("set", KitComponent{SKU: "bowl", Qty: 2}, KitComponent{SKU: "lid", Qty: 1})
	// 2 sets need 4 bowls, plus 2 loose bowls: 6 > 5, although each line fits
	_, err := e.reserve("o1", "site", Line{SKU: "set", Qty: 2}, Line{SKU: "bowl", Qty: 2})
	var ie *InsufficientError
	if !errors.As(err, &ie) {
		t.Fatalf("err = %v, want insufficient", err)
	}
	if want := []LineShortage{{SKU: "set", Requested: 2, Available: 2}, {SKU: "bowl", Requested: 2, Available: 5}}; !slices.Equal(ie.Lines, want) {
		t.Fatalf("lines = %+v", ie.Lines)
	}
	e.mustReserve("o2", "site", Line{SKU: "set", Qty: 2}, Line{SKU: "bowl", Qty: 1})
	h := e.hold("o2")
	want := []Allocation{
		{Line: 0, SKU: "bowl", Warehouse: "msk", Qty: 4}, {Line: 0, SKU: "lid", Warehouse: "msk", Qty: 2},
		{Line: 1, SKU: "bowl", Warehouse: "msk", Qty: 1},
	}
	if !slices.Equal(h.Allocations, want) {
		t.Fatalf("allocations = %+v", h.Allocations)
	}
	e.wantAvail("bowl", "site", 0)
	e.checkReplay()
}

func TestKitSplitAcrossWarehousesDistributesToLines(t *testing.T) {
	e := newEnv(t, testConfig())
	e.set("bowl", "msk", 3)
	e.set("bowl", "spb", 3)
	e.kit("set", KitComponent{SKU: "bowl", Qty: 2})
	e.mustReserve("o", "site", Line{SKU: "bowl", Qty: 1}, Line{SKU: "set", Qty: 2})
	want := []Allocation{
		{Line: 0, SKU: "bowl", Warehouse: "msk", Qty: 1},
		{Line: 1, SKU: "bowl", Warehouse: "msk", Qty: 2}, {Line: 1, SKU: "bowl", Warehouse: "spb", Qty: 2},
	}
	if got := e.hold("o").Allocations; !slices.Equal(got, want) {
		t.Fatalf("allocations = %+v", got)
	}
}

func TestKitRules(t *testing.T) {
	cfg := testConfig()
	cfg.Limits.MaxKitsPerComponent = 2
	e := newEnv(t, cfg)
	e.kit("k1", KitComponent{SKU: "a", Qty: 1})
	reject := func(name string, ev Event, target error) {
		t.Helper()
		out, err := e.event(ev)
		if out != OutcomeRejected || !errors.Is(err, target) {
			t.Fatalf("%s: %v %v", name, out, err)
		}
	}
	reject("kit of kits", Event{Type: EventItemUpsert, SKU: "k2", Kit: []KitComponent{{SKU: "k1", Qty: 1}}}, ErrInvalidEvent)
	reject("component becomes kit", Event{Type: EventItemUpsert, SKU: "a", Kit: []KitComponent{{SKU: "b", Qty: 1}}}, ErrInvalidEvent)
	e.kit("k2", KitComponent{SKU: "a", Qty: 1})
	reject("too many kits per component", Event{Type: EventItemUpsert, SKU: "k3", Kit: []KitComponent{{SKU: "a", Qty: 1}}}, ErrLimitExceeded)
	// re-upserting an existing kit is not a new kit of the component
	e.kit("k2", KitComponent{SKU: "a", Qty: 2}, KitComponent{SKU: "a", Qty: 1})
	if it, _ := e.l.Item("k2"); !slices.Equal(it.Kit, []KitComponent{{SKU: "a", Qty: 3}}) {
		t.Fatalf("merged kit = %+v", it.Kit)
	}
	// dropping the composition frees the component
	e.kit("k2")
	e.kit("k3", KitComponent{SKU: "a", Qty: 1})
	e.checkReplay()
}

func TestKitCompositionChangeReported(t *testing.T) {
	e := newEnv(t, testConfig())
	e.set("a", "msk", 10)
	e.set("b", "msk", 3)
	e.kit("k", KitComponent{SKU: "a", Qty: 1})
	ev := Event{V: 1, ID: "u", Source: "s", Seq: 99, At: t0, Type: EventItemUpsert, SKU: "k", Kit: []KitComponent{{SKU: "b", Qty: 1}}}
	if _, err := e.l.ApplyEvent(&ev, Source{}, &e.fx); err != nil {
		t.Fatal(err)
	}
	got := e.commit()
	want := []ChannelChange{{SKU: "k", Channel: "site", Qty: 3}, {SKU: "k", Channel: "ozon", Qty: 3}, {SKU: "k", Channel: "wb", Qty: 3}}
	if !slices.Equal(got, want) {
		t.Fatalf("changes = %+v", got)
	}
	// a no longer feeds k: holding a must not report k
	if _, err := e.l.Reserve(ReserveRequest{ID: "o", Channel: "site", Lines: []Line{{SKU: "a", Qty: 1}}}, e.now, &e.fx); err != nil {
		t.Fatal(err)
	}
	for _, c := range e.commit() {
		if c.SKU != "a" {
			t.Fatalf("unexpected change %+v", c)
		}
	}
	e.checkReplay()
}
