package reservation

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"
)

func sampleRecords() []Record {
	ev := Event{V: 1, ID: "e1", Source: "ut", Seq: 7, At: t0, Type: EventStockSet, SKU: "a", Warehouse: "msk", Qty: -3, Fractional: true, Handoff: []string{"o1"}}
	up := Event{V: 1, ID: "e2", Source: "ut", Seq: 8, At: t0, Type: EventItemUpsert, SKU: "k", Name: "n", Barcodes: []string{"1"}, Kit: []KitComponent{{SKU: "a", Qty: 2}}}
	pr := Event{V: 1, ID: "e3", Source: "ut", Seq: 9, At: t0, Type: EventPriceSet, SKU: "a", PriceType: "r", Price: Decimal{1050, 2}, Currency: "RUB"}
	return []Record{
		{Seq: 1, Kind: RecordReserve, At: t0.UnixNano(), HoldID: "o1", Channel: "site", Forced: true, TTL: time.Minute,
			ExpiresAt: t0.Add(time.Minute).UnixNano(), Lines: []Line{{SKU: "a", Qty: 2}},
			Allocations: []Allocation{{Line: 0, SKU: "a", Warehouse: "msk", Qty: 1}, {Line: 0, SKU: "a", Warehouse: "spb", Qty: 1}}},
		{Seq: 2, Kind: RecordConfirm, At: 5, HoldID: "o1", TTL: time.Hour, ExpiresAt: 99},
		{Seq: 3, Kind: RecordRelease, At: 5, HoldID: "o1"},
		{Seq: 4, Kind: RecordExpire, At: 5, HoldID: "o1"},
		{Seq: 5, Kind: RecordHandoff, At: 5, HoldID: "o1"},
		{Seq: 6, Kind: RecordEvent, Source: Source{Topic: "onec.events", Partition: 2, Offset: 9}, Outcome: OutcomeStale, Event: ev},
		{Seq: 7, Kind: RecordEvent, Outcome: OutcomeApplied, Event: up},
		{Seq: 8, Kind: RecordEvent, Outcome: OutcomeNoop, Event: pr},
		{Seq: 9, Kind: RecordSkip, Source: Source{Topic: "t", Offset: 1}},
	}
}

func TestRecordRoundTrip(t *testing.T) {
	for _, r := range sampleRecords() {
		data := MarshalRecord(&r)
		got, err := DecodeRecord(data)
		if err != nil {
			t.Fatalf("%v: %v", r.Kind, err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Fatalf("%v:\ngot  %+v\nwant %+v", r.Kind, got, r)
		}
	}
}

func TestDecodeRecordRejectsCorruption(t *testing.T) {
	for _, r := range sampleRecords() {
		data := MarshalRecord(&r)
		for cut := range len(data) {
			if _, err := DecodeRecord(data[:cut]); !errors.Is(err, ErrInvalidRecord) {
				t.Fatalf("%v cut at %d: err = %v", r.Kind, cut, err)
			}
		}
		if _, err := DecodeRecord(append(bytes.Clone(data), 0)); !errors.Is(err, ErrInvalidRecord) {
			t.Fatalf("%v with a trailing byte: %v", r.Kind, err)
		}
	}
	bad := MarshalRecord(&Record{Seq: 1, Kind: RecordRelease, HoldID: "x"})
	bad[0] = 9
	var re *RecordError
	if _, err := DecodeRecord(bad); !errors.As(err, &re) || re.Field != "version" {
		t.Fatalf("bad version: %v", err)
	}
	bad = MarshalRecord(&Record{Seq: 1, Kind: RecordRelease, HoldID: "x"})
	bad[1] = 99
	if _, err := DecodeRecord(bad); !errors.As(err, &re) || re.Field != "kind" {
		t.Fatalf("bad kind: %v", err)
	}
}

func TestApplyRecordOrderAndDivergence(t *testing.T) {
	l, err := New(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := l.ApplyRecord(&Record{Seq: 2, Kind: RecordRelease, HoldID: "x"}, nil); !errors.Is(err, ErrRecordOutOfOrder) {
		t.Fatalf("gap: %v", err)
	}
	if err := l.ApplyRecord(&Record{Seq: 1, Kind: RecordRelease, HoldID: "x"}, nil); !errors.Is(err, ErrReplayDiverged) {
		t.Fatalf("unknown hold: %v", err)
	}
	if l.Seq() != 0 {
		t.Fatalf("seq moved to %d", l.Seq())
	}
}

func TestSnapshotRestoreReplay(t *testing.T) {
	e := newEnv(t, testConfig())
	e.set("a", "msk", 10)
	e.set("b", "spb", 4)
	e.kit("k", KitComponent{SKU: "a", Qty: 1}, KitComponent{SKU: "b", Qty: 2})
	e.mustEvent(Event{Type: EventPriceSet, SKU: "a", PriceType: "r", Price: Decimal{100, 0}, Currency: "RUB"})
	e.mustEvent(Event{Type: EventStockAdjust, ID: "adj-1", SKU: "a", Warehouse: "msk", Delta: 1})
	e.mustReserve("o1", "site", Line{SKU: "k", Qty: 1})
	e.mustReserve("o2", "ozon", Line{SKU: "a", Qty: 2})
	if err := e.l.Release("o2", e.now, &e.fx); err != nil {
		t.Fatal(err)
	}
	e.commit()
	snap := e.l.Snapshot()
	if !bytes.Equal(snap, e.l.Snapshot()) {
		t.Fatal("snapshot is not deterministic")
	}
	mark := len(e.journal)
	e.mustReserve("o3", "site", Line{SKU: "b", Qty: 1})
	e.set("a", "msk", 20, "o1")

	restored := replayJournal(t, e.cfg, snap, e.journal[mark:])
	if !bytes.Equal(restored.Snapshot(), e.l.Snapshot()) {
		t.Fatal("snapshot + replay differs from live state")
	}
	dup := Event{V: 1, ID: "adj-1", Source: "ut11", Seq: 100, At: t0, Type: EventStockAdjust, SKU: "a", Warehouse: "msk", Delta: 1}
	if out, _ := restored.ApplyEvent(&dup, Source{}, &Effects{}); out != OutcomeDuplicate {
		t.Fatalf("dedupe window lost: %v", out)
	}
	var h Hold
	if !restored.Hold("o2", &h) || h.State != HoldReleased {
		t.Fatalf("retained hold lost: %+v", h)
	}
	if p, ok := restored.Price("a", "r"); !ok || p.Amount.Units != 100 {
		t.Fatalf("price lost")
	}
}

func TestRestoreRejectsCorruption(t *testing.T) {
	e := newEnv(t, testConfig())
	e.set("a", "msk", 10)
	e.mustReserve("o1", "site", Line{SKU: "a", Qty: 1})
	snap := e.l.Snapshot()
	for _, mutate := range []func([]byte) []byte{
		func(b []byte) []byte { return b[:len(b)-1] },
		func(b []byte) []byte { b[len(b)/2] ^= 1; return b },
		func(b []byte) []byte { b[0] = 'X'; return b },
		func(b []byte) []byte { return nil },
	} {
		if _, err := Restore(e.cfg, mutate(bytes.Clone(snap))); !errors.Is(err, ErrInvalidSnapshot) {
			t.Fatalf("err = %v, want invalid snapshot", err)
		}
	}
}
