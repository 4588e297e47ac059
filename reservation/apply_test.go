package reservation

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestStaleStockSetIgnored(t *testing.T) {
	e := newEnv(t, testConfig())
	e.set("a", "msk", 10)
	if out := e.mustEvent(Event{Type: EventStockSet, SKU: "a", Warehouse: "msk", Qty: 3, At: t0.Add(-time.Second)}); out != OutcomeStale {
		t.Fatalf("older at: outcome %v", out)
	}
	e.wantAvail("a", "site", 10)
	// same at: seq decides (e.seq grows, so the next one is newer)
	if out := e.set("a", "msk", 7); out != OutcomeApplied {
		t.Fatalf("same at, newer seq: outcome %v", out)
	}
	e.wantAvail("a", "site", 7)
	e.checkReplay()
}

func TestAdjustDedupeWindow(t *testing.T) {
	cfg := testConfig()
	cfg.Limits.MaxAdjustDedupeIDs = 2
	e := newEnv(t, cfg)
	adj := func(id string, delta int64) Outcome {
		return e.mustEvent(Event{Type: EventStockAdjust, ID: id, SKU: "a", Warehouse: "msk", Delta: delta})
	}
	adj("d1", 5)
	if out := adj("d1", 5); out != OutcomeDuplicate {
		t.Fatalf("repeat: %v", out)
	}
	e.wantAvail("a", "site", 5)
	adj("d2", -1)
	adj("d3", 2)
	if out := adj("d1", 5); out != OutcomeApplied {
		t.Fatalf("id past the window: %v", out)
	}
	e.wantAvail("a", "site", 11)
	e.checkReplay()
}

func TestOffsetsAppliedOnce(t *testing.T) {
	e := newEnv(t, testConfig())
	ev := Event{V: 1, ID: "x", Source: "s", Seq: 1, At: t0, Type: EventStockAdjust, SKU: "a", Warehouse: "msk", Delta: 4}
	src := Source{Topic: "onec.events", Partition: 3, Offset: 41}
	if out, err := e.l.ApplyEvent(&ev, src, &e.fx); err != nil || out != OutcomeApplied {
		t.Fatalf("first: %v %v", out, err)
	}
	e.commit()
	ev.ID = "y" // a redelivered message: the offset decides, not the id
	if out, _ := e.l.ApplyEvent(&ev, src, &e.fx); out != OutcomeAlreadyApplied || len(e.fx.Records) != 0 {
		t.Fatalf("redelivery: %v, %d records", out, len(e.fx.Records))
	}
	if err := e.l.SkipEvent(Source{Topic: "onec.events", Partition: 3, Offset: 42}, &e.fx); err != nil {
		t.Fatal(err)
	}
	e.commit()
	if off, ok := e.l.Offset("onec.events", 3); !ok || off != 42 {
		t.Fatalf("offset = %d %v, want 42", off, ok)
	}
	got := e.l.Offsets(nil)
	if want := []Source{{Topic: "onec.events", Partition: 3, Offset: 42}}; !slices.Equal(got, want) {
		t.Fatalf("offsets = %+v", got)
	}
	e.wantAvail("a", "site", 4)
	if off, _ := e.replayed().Offset("onec.events", 3); off != 42 {
		t.Fatalf("replayed offset = %d", off)
	}
}

// TestOffsetsInterleavedPartitions: events of several topics and
// partitions, interleaved, each partition's redelivery refused by its own
// offset only, and the offsets reported per partition.
func TestOffsetsInterleavedPartitions(t *testing.T) {
	e := newEnv(t, testConfig())
	parts := []Source{{Topic: "a", Partition: 0}, {Topic: "a", Partition: 1}, {Topic: "b", Partition: 0}, {Topic: "b", Partition: 1}}
	last := map[Source]int64{}
	applied := 0
	for i := range 40 {
		p := parts[(i*7/3)%len(parts)] // runs of one partition and switches
		src := p
		src.Offset = int64(10 + i)
		ev := Event{V: 1, ID: "x" + string(rune('A'+i)), Source: "s", Seq: uint64(i + 1), At: t0, Type: EventStockAdjust, SKU: "a", Warehouse: "msk", Delta: 1}
		out, err := e.l.ApplyEvent(&ev, src, &e.fx)
		if err != nil || out != OutcomeApplied {
			t.Fatalf("event %d at %+v: %v %v", i, src, out, err)
		}
		applied++
		last[p] = src.Offset
		e.commit()
		// a redelivery of every partition's last offset is refused, and
		// an offset past it is not
		for _, q := range parts {
			o, ok := last[q]
			if !ok {
				continue
			}
			if !e.l.offsetApplied(Source{Topic: q.Topic, Partition: q.Partition, Offset: o}) ||
				e.l.offsetApplied(Source{Topic: q.Topic, Partition: q.Partition, Offset: o + 1}) {
				t.Fatalf("after event %d: partition %+v at %d misjudged", i, q, o)
			}
		}
	}
	for _, q := range parts {
		if off, ok := e.l.Offset(q.Topic, q.Partition); !ok || off != last[q] {
			t.Errorf("Offset(%s, %d) = %d %v, want %d", q.Topic, q.Partition, off, ok, last[q])
		}
	}
	if got := e.l.Offsets(nil); len(got) != len(parts) {
		t.Errorf("Offsets = %+v", got)
	}
	e.wantAvail("a", "site", int64(applied))
	r := e.replayed()
	for _, q := range parts {
		if off, _ := r.Offset(q.Topic, q.Partition); off != last[q] {
			t.Errorf("replayed Offset(%s, %d) = %d, want %d", q.Topic, q.Partition, off, last[q])
		}
	}
}

// The double-count window: a figure that names a hold consumes the hold's
// lines for that SKU in the same step, so the channel never sees the unit
// subtracted twice nor added back, whichever SKU's figure comes first.
func TestDoubleCountWindowBothOrders(t *testing.T) {
	for _, order := range [][]string{{"a", "b"}, {"b", "a"}} {
		t.Run(order[0]+"-first", func(t *testing.T) {
			e := newEnv(t, testConfig())
			e.set("a", "msk", 10)
			e.set("b", "msk", 5)
			e.mustReserve("o1", "site", Line{SKU: "a", Qty: 3}, Line{SKU: "b", Qty: 2})
			want := map[string]int64{"a": 7, "b": 3}
			for _, sku := range order {
				e.wantAvail("a", "site", want["a"])
				e.wantAvail("b", "site", want["b"])
				free := map[string]int64{"a": 7, "b": 3}[sku]
				if out := e.set(sku, "msk", free, "o1"); out != OutcomeApplied {
					t.Fatalf("set %s: %v", sku, out)
				}
				e.wantAvail("a", "site", want["a"])
				e.wantAvail("b", "site", want["b"])
			}
			if s := e.hold("o1").State; s != HoldHandedOff {
				t.Fatalf("state = %v, want handed_off", s)
			}
			e.checkReplay()
		})
	}
}

func TestDoubleCountWindowAdjustAndStale(t *testing.T) {
	e := newEnv(t, testConfig())
	e.set("a", "msk", 10)
	e.mustReserve("o1", "site", Line{SKU: "a", Qty: 3})
	e.mustReserve("o2", "site", Line{SKU: "a", Qty: 2})
	e.mustEvent(Event{Type: EventStockAdjust, SKU: "a", Warehouse: "msk", Delta: -3, Handoff: []string{"o1"}})
	e.wantAvail("a", "site", 5)
	// a stale figure still consumes the hold it names
	out := e.mustEvent(Event{Type: EventStockSet, SKU: "a", Warehouse: "msk", Qty: 99, At: t0.Add(-time.Hour), Handoff: []string{"o2"}})
	if out != OutcomeStale {
		t.Fatalf("outcome %v", out)
	}
	e.wantAvail("a", "site", 7)
	if e.hold("o2").State != HoldHandedOff {
		t.Fatalf("o2 not handed off")
	}
	// a standalone handoff after it is a no-op
	if out := e.mustEvent(Event{Type: EventReservationHandoff, ReservationID: "o2"}); out != OutcomeNoop {
		t.Fatalf("late handoff: %v", out)
	}
	e.wantAvail("a", "site", 7)
	e.checkReplay()
}

func TestPartialHandoffThenRelease(t *testing.T) {
	e := newEnv(t, testConfig())
	e.set("a", "msk", 10)
	e.set("b", "msk", 10)
	e.mustReserve("o1", "site", Line{SKU: "a", Qty: 1}, Line{SKU: "b", Qty: 1})
	e.set("a", "msk", 9, "o1")
	h := e.hold("o1")
	if h.State != HoldHeld || !h.Allocations[0].HandedOff || h.Allocations[1].HandedOff {
		t.Fatalf("hold = %+v", h)
	}
	if err := e.l.Release("o1", e.now, &e.fx); err != nil {
		t.Fatal(err)
	}
	e.commit()
	e.wantAvail("a", "site", 9)
	e.wantAvail("b", "site", 10)
	e.checkReplay()
}

func TestItemDeleteZeroesChannels(t *testing.T) {
	e := newEnv(t, testConfig())
	e.set("a", "msk", 10)
	e.kit("k", KitComponent{SKU: "a", Qty: 2})
	e.wantAvail("k", "site", 5)
	e.mustEvent(Event{Type: EventItemDelete, SKU: "a"})
	e.wantAvail("a", "site", 0)
	e.wantAvail("k", "site", 0)
	if _, err := e.reserve("o", "site", Line{SKU: "a", Qty: 1}); !errors.Is(err, ErrInsufficientStock) {
		t.Fatalf("reserve deleted: %v", err)
	}
	if out := e.mustEvent(Event{Type: EventItemDelete, SKU: "zzz"}); out != OutcomeNoop {
		t.Fatalf("delete unknown: %v", out)
	}
	e.mustEvent(Event{Type: EventItemUpsert, SKU: "a", Name: "Чайник"})
	e.wantAvail("a", "site", 10)
	e.wantAvail("k", "site", 5)
	if it, _ := e.l.Item("a"); it.Name != "Чайник" || it.Deleted {
		t.Fatalf("item = %+v", it)
	}
	e.checkReplay()
}

func TestPriceSet(t *testing.T) {
	e := newEnv(t, testConfig())
	price := Decimal{Units: 123450, Scale: 2}
	e.mustEvent(Event{Type: EventPriceSet, SKU: "a", PriceType: "retail", Price: price, Currency: "RUB"})
	got, ok := e.l.Price("a", "retail")
	if !ok || got != (Price{Amount: price, Currency: "RUB"}) || got.Amount.String() != "1234.50" {
		t.Fatalf("price = %+v %v", got, ok)
	}
	if out := e.mustEvent(Event{Type: EventPriceSet, SKU: "a", PriceType: "retail", Price: price, Currency: "RUB"}); out != OutcomeNoop {
		t.Fatalf("same price: %v", out)
	}
	e.checkReplay()
}

func TestChangesReportKitsThroughReverseIndex(t *testing.T) {
	e := newEnv(t, testConfig())
	e.set("a", "msk", 10)
	e.set("b", "msk", 10)
	e.kit("k", KitComponent{SKU: "a", Qty: 2}, KitComponent{SKU: "b", Qty: 1})
	e.fx.Reset()
	if _, err := e.l.Reserve(ReserveRequest{ID: "o", Channel: "site", Lines: []Line{{SKU: "a", Qty: 2}}}, e.now, &e.fx); err != nil {
		t.Fatal(err)
	}
	got := e.commit()
	want := []ChannelChange{
		{SKU: "a", Channel: "site", Qty: 8}, {SKU: "a", Channel: "ozon", Qty: 8}, {SKU: "a", Channel: "wb", Qty: 8},
		{SKU: "k", Channel: "site", Qty: 4}, {SKU: "k", Channel: "ozon", Qty: 4}, {SKU: "k", Channel: "wb", Qty: 4},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("changes = %+v\nwant %+v", got, want)
	}
	// a change that does not move the kit's minimum reports only the SKU
	if _, err := e.l.Reserve(ReserveRequest{ID: "o2", Channel: "site", Lines: []Line{{SKU: "b", Qty: 1}}}, e.now, &e.fx); err != nil {
		t.Fatal(err)
	}
	got = e.commit()
	for _, c := range got {
		if c.SKU != "b" {
			t.Fatalf("unexpected change %+v", c)
		}
	}
	if len(got) != 3 {
		t.Fatalf("changes = %+v", got)
	}
}

// TestApplyEventUnlessRejected: a rejected event leaves the ledger as it
// was (no record, its offset not advanced); SkipEvent then advances the
// offset with a skip record, which replays.
func TestApplyEventUnlessRejected(t *testing.T) {
	cfg := testConfig()
	cfg.Limits.MaxKitComponents = 1
	e := newEnv(t, cfg)
	e.set("a", "w1", 5)
	seq := e.l.Seq()
	off, _ := e.l.Offset("onec.events", 0)
	src := Source{Topic: "onec.events", Partition: 0, Offset: off + 1}
	ev := Event{V: 1, ID: "kit-1", Source: "ut11", Seq: 99, At: e.now, Type: EventItemUpsert, SKU: "k",
		Kit: []KitComponent{{SKU: "a", Qty: 1}, {SKU: "b", Qty: 1}}}
	out, err := e.l.ApplyEventUnlessRejected(&ev, src, &e.fx)
	var le *LimitError
	if out != OutcomeRejected || !errors.As(err, &le) || le.Name != "MaxKitComponents" {
		t.Fatalf("out %v err %v", out, err)
	}
	if got, _ := e.l.Offset("onec.events", 0); e.l.Seq() != seq || got != off || len(e.fx.Records) != 0 {
		t.Fatalf("after a rejection: seq %d (was %d), offset %d (was %d), %d records", e.l.Seq(), seq, got, off, len(e.fx.Records))
	}
	if err := e.l.SkipEvent(src, &e.fx); err != nil {
		t.Fatal(err)
	}
	e.commit()
	if got, _ := e.l.Offset("onec.events", 0); got != off+1 || e.l.Seq() != seq+1 {
		t.Fatalf("after the skip: offset %d, seq %d", got, e.l.Seq())
	}
	// an event the ledger takes is applied as by ApplyEvent
	ok := Event{V: 1, ID: "set-1", Source: "ut11", Seq: 100, At: e.now, Type: EventStockSet, SKU: "a", Warehouse: "w1", Qty: 9}
	if out, err := e.l.ApplyEventUnlessRejected(&ok, Source{Topic: "onec.events", Offset: off + 2}, &e.fx); out != OutcomeApplied || err != nil {
		t.Fatalf("a good event: %v %v", out, err)
	}
	e.commit()
	e.checkReplay()
}

func TestRejectedEventAdvancesOffset(t *testing.T) {
	cfg := testConfig()
	cfg.Limits.MaxKitComponents = 1
	e := newEnv(t, cfg)
	out, err := e.event(Event{Type: EventItemUpsert, SKU: "k", Kit: []KitComponent{{SKU: "a", Qty: 1}, {SKU: "b", Qty: 1}}})
	var le *LimitError
	if out != OutcomeRejected || !errors.As(err, &le) || le.Name != "MaxKitComponents" {
		t.Fatalf("out %v err %v", out, err)
	}
	if len(e.journal) != 1 || e.l.SKUCount() != 0 {
		t.Fatalf("journal %d, skus %d", len(e.journal), e.l.SKUCount())
	}
	e.checkReplay()
}
