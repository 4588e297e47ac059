package reservation

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestReserveHoldsStockAndReleaseFreesIt(t *testing.T) {
	e := newEnv(t, testConfig())
	e.set("a", "msk", 10)
	e.set("a", "spb", 5)
	e.wantAvail("a", "site", 15)

	res := e.mustReserve("o1", "site", Line{SKU: "a", Qty: 12})
	if res.State != HoldHeld || res.Replayed || !res.ExpiresAt.Equal(t0.Add(15*time.Minute)) {
		t.Fatalf("result = %+v", res)
	}
	e.wantAvail("a", "site", 3)
	h := e.hold("o1")
	want := []Allocation{{Line: 0, SKU: "a", Warehouse: "msk", Qty: 10}, {Line: 0, SKU: "a", Warehouse: "spb", Qty: 2}}
	if !slices.Equal(h.Allocations, want) {
		t.Fatalf("allocations = %+v, want %+v", h.Allocations, want)
	}
	if err := e.l.Release("o1", e.now, &e.fx); err != nil {
		t.Fatal(err)
	}
	changes := e.commit()
	e.wantAvail("a", "site", 15)
	if e.hold("o1").State != HoldReleased {
		t.Fatalf("state = %v, want released", e.hold("o1").State)
	}
	if !slices.Contains(changes, ChannelChange{SKU: "a", Channel: "site", Qty: 15}) {
		t.Fatalf("changes = %+v, want a/site=15", changes)
	}
	if err := e.l.Release("o1", e.now, &e.fx); err != nil {
		t.Fatalf("second release: %v", err)
	}
	if len(e.fx.Records) != 0 {
		t.Fatalf("idempotent release made %d records", len(e.fx.Records))
	}
	e.checkReplay()
}

func TestReserveInsufficientIsAllOrNothing(t *testing.T) {
	e := newEnv(t, testConfig())
	e.set("a", "msk", 3)
	e.set("b", "msk", 1)
	_, err := e.reserve("o1", "site", Line{SKU: "a", Qty: 2}, Line{SKU: "b", Qty: 2})
	var ie *InsufficientError
	if !errors.As(err, &ie) || !errors.Is(err, ErrInsufficientStock) {
		t.Fatalf("err = %v, want InsufficientError", err)
	}
	want := []LineShortage{{SKU: "a", Requested: 2, Available: 3}, {SKU: "b", Requested: 2, Available: 1}}
	if !slices.Equal(ie.Lines, want) {
		t.Fatalf("lines = %+v, want %+v", ie.Lines, want)
	}
	e.wantAvail("a", "site", 3)
	if e.l.ActiveHolds() != 0 || len(e.journal) != 2 {
		t.Fatalf("failed reserve changed state: holds=%d journal=%d", e.l.ActiveHolds(), len(e.journal))
	}
	if _, err := e.reserve("o2", "site", Line{SKU: "unknown", Qty: 1}); !errors.Is(err, ErrInsufficientStock) {
		t.Fatalf("unknown SKU: err = %v", err)
	}
	if e.l.SKUCount() != 2 {
		t.Fatalf("a failed reserve interned a SKU: %d SKUs", e.l.SKUCount())
	}
}

func TestReserveIdempotency(t *testing.T) {
	e := newEnv(t, testConfig())
	e.set("a", "msk", 10)
	first := e.mustReserve("o1", "site", Line{SKU: "a", Qty: 2})
	again := e.mustReserve("o1", "site", Line{SKU: "a", Qty: 2})
	if !again.Replayed || again.Seq != first.Seq {
		t.Fatalf("replay = %+v, first = %+v", again, first)
	}
	e.wantAvail("a", "site", 8)
	for name, lines := range map[string][]Line{
		"qty":   {{SKU: "a", Qty: 3}},
		"sku":   {{SKU: "b", Qty: 2}},
		"lines": {{SKU: "a", Qty: 2}, {SKU: "a", Qty: 1}},
	} {
		if _, err := e.reserve("o1", "site", lines...); !errors.Is(err, ErrIdempotencyConflict) {
			t.Errorf("%s: err = %v, want conflict", name, err)
		}
	}
	if _, err := e.reserve("o1", "ozon", Line{SKU: "a", Qty: 2}); !errors.Is(err, ErrIdempotencyConflict) {
		t.Errorf("channel: err = %v, want conflict", err)
	}
	if err := e.l.Release("o1", e.now, &e.fx); err != nil {
		t.Fatal(err)
	}
	e.commit()
	res := e.mustReserve("o1", "site", Line{SKU: "a", Qty: 2})
	if !res.Replayed || res.State != HoldReleased {
		t.Fatalf("replay after release = %+v", res)
	}
	e.wantAvail("a", "site", 10)
}

func TestReplayWindowForgetsOldestClosedHold(t *testing.T) {
	cfg := testConfig()
	cfg.Limits.MaxRetainedHolds = 2
	e := newEnv(t, cfg)
	e.set("a", "msk", 10)
	for _, id := range []string{"o1", "o2", "o3"} {
		e.mustReserve(id, "site", Line{SKU: "a", Qty: 1})
		if err := e.l.Release(id, e.now, &e.fx); err != nil {
			t.Fatal(err)
		}
		e.commit()
	}
	var h Hold
	if e.l.Hold("o1", &h) {
		t.Fatalf("o1 still retained")
	}
	if !e.l.Hold("o2", &h) || !e.l.Hold("o3", &h) {
		t.Fatalf("o2/o3 forgotten")
	}
	if res := e.mustReserve("o1", "site", Line{SKU: "a", Qty: 1}); res.Replayed {
		t.Fatalf("forgotten id replayed")
	}
	e.checkReplay()
}

func TestAllocationStrategies(t *testing.T) {
	tests := []struct {
		name    string
		channel string
		qty     int64
		want    []Allocation
	}{
		{"priority split takes in order", "site", 7, []Allocation{{SKU: "a", Warehouse: "msk", Qty: 2}, {SKU: "a", Warehouse: "spb", Qty: 5}}},
		{"most_stock no split takes the fullest", "ozon", 3, []Allocation{{SKU: "a", Warehouse: "ekb", Qty: 3}}},
		{"most_stock no split needs one warehouse", "ozon", 9, nil},
		{"priority no split skips a short warehouse", "wb", 2, []Allocation{{SKU: "a", Warehouse: "msk", Qty: 2}}},
		{"priority no split first fit", "wb", 1, []Allocation{{SKU: "a", Warehouse: "ekb", Qty: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, testConfig())
			e.set("a", "msk", 2)
			e.set("a", "spb", 5)
			e.set("a", "ekb", 8)
			e.set("a", "ekb", 1) // wb: ekb first but only 1
			if tt.channel == "ozon" {
				e.set("a", "ekb", 8)
			}
			_, err := e.reserve("o", tt.channel, Line{SKU: "a", Qty: tt.qty})
			if tt.want == nil {
				if !errors.Is(err, ErrInsufficientStock) {
					t.Fatalf("err = %v, want insufficient", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := e.hold("o").Allocations; !slices.Equal(got, tt.want) {
				t.Fatalf("allocations = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestMostStockSplitTakesFullestFirst(t *testing.T) {
	cfg := testConfig()
	cfg.Channels[1].AllowSplit = true
	e := newEnv(t, cfg)
	e.set("a", "msk", 2)
	e.set("a", "spb", 5)
	e.set("a", "ekb", 3)
	e.mustReserve("o", "ozon", Line{SKU: "a", Qty: 9})
	want := []Allocation{{SKU: "a", Warehouse: "spb", Qty: 5}, {SKU: "a", Warehouse: "ekb", Qty: 3}, {SKU: "a", Warehouse: "msk", Qty: 1}}
	if got := e.hold("o").Allocations; !slices.Equal(got, want) {
		t.Fatalf("allocations = %+v, want %+v", got, want)
	}
}

func TestSafetyStock(t *testing.T) {
	cfg := testConfig()
	cfg.SafetyStock = []SafetyStock{{Warehouse: "msk", Qty: 2}, {Warehouse: "msk", SKU: "b", Qty: 0}, {Warehouse: "spb", SKU: "a", Qty: 1}}
	e := newEnv(t, cfg)
	e.set("a", "msk", 5)
	e.set("a", "spb", 5)
	e.set("b", "msk", 5)
	e.wantAvail("a", "site", 3+4)
	e.wantAvail("b", "site", 5)
	e.set("a", "msk", 1)
	e.wantAvail("a", "site", 4) // msk: 1−2 is reported as 0
	got := e.l.Warehouses("a", nil)
	if got[0] != (WarehouseStock{Warehouse: "msk", Free: 1, Safety: 2, Available: 0}) {
		t.Fatalf("msk = %+v", got[0])
	}
	e.checkReplay()
}

func TestConfirmAndExpire(t *testing.T) {
	e := newEnv(t, testConfig())
	e.set("a", "msk", 10)
	e.mustReserve("o1", "site", Line{SKU: "a", Qty: 1})
	e.now = t0.Add(time.Minute)
	e.mustReserve("o2", "site", Line{SKU: "a", Qty: 2})
	e.mustReserve("o3", "site", Line{SKU: "a", Qty: 3})
	if err := e.l.Confirm("o2", 0, e.now, &e.fx); err != nil {
		t.Fatal(err)
	}
	e.commit()
	if n := e.l.Expire(t0.Add(15*time.Minute), 100, &e.fx); n != 1 {
		t.Fatalf("expired %d at 15m, want 1 (o1)", n)
	}
	e.commit()
	if n := e.l.Expire(t0.Add(time.Hour), 100, &e.fx); n != 1 {
		t.Fatalf("expired %d at 1h, want 1 (o3)", n)
	}
	e.commit()
	if s := e.hold("o1").State; s != HoldExpired {
		t.Fatalf("o1 = %v", s)
	}
	if s := e.hold("o2").State; s != HoldConfirmed {
		t.Fatalf("o2 = %v", s)
	}
	e.wantAvail("a", "site", 8)
	if err := e.l.Confirm("o1", 0, e.now, &e.fx); !errors.Is(err, ErrHoldNotActive) {
		t.Fatalf("confirm expired: %v", err)
	}
	if err := e.l.Confirm("nope", 0, e.now, &e.fx); !errors.Is(err, ErrHoldNotFound) {
		t.Fatalf("confirm unknown: %v", err)
	}
	if err := e.l.Confirm("o2", time.Minute, e.now, &e.fx); err != nil {
		t.Fatal(err)
	}
	e.commit()
	if n := e.l.Expire(e.now.Add(time.Minute), 100, &e.fx); n != 1 {
		t.Fatalf("confirmed hold with ttl did not expire")
	}
	e.commit()
	e.wantAvail("a", "site", 10)
	e.checkReplay()
}

func TestExpireOrderAndBound(t *testing.T) {
	e := newEnv(t, testConfig())
	e.set("a", "msk", 10)
	for _, id := range []string{"c", "a", "b"} {
		e.mustReserve(id, "site", Line{SKU: "a", Qty: 1})
	}
	if n := e.l.Expire(t0.Add(time.Hour), 2, &e.fx); n != 2 {
		t.Fatalf("n = %d, want 2", n)
	}
	var got []string
	for _, r := range e.fx.Records {
		got = append(got, r.HoldID)
	}
	if want := []string{"a", "b"}; !slices.Equal(got, want) {
		t.Fatalf("expired %v, want %v (expiry then id)", got, want)
	}
	e.commit()
	if next, ok := e.l.NextExpiry(); !ok || !next.Equal(t0.Add(15*time.Minute)) {
		t.Fatalf("NextExpiry = %v %v", next, ok)
	}
}

func TestForcedHoldMakesSKUShort(t *testing.T) {
	e := newEnv(t, testConfig())
	e.set("a", "msk", 1)
	res, err := e.l.Reserve(ReserveRequest{ID: "mp-1", Channel: "wb", Lines: []Line{{SKU: "a", Qty: 3}, {SKU: "new", Qty: 1}}, Force: true}, e.now, &e.fx)
	e.commit()
	if err != nil || res.State != HoldConfirmed || !res.ExpiresAt.IsZero() {
		t.Fatalf("forced = %+v, %v", res, err)
	}
	if got := e.l.Short(nil); !slices.Equal(got, []string{"a", "new"}) {
		t.Fatalf("short = %v", got)
	}
	if !e.l.IsShort("a") {
		t.Fatal("IsShort(a) = false")
	}
	if got := e.hold("mp-1").Allocations[0]; got.Warehouse != "ekb" || got.Qty != 3 {
		t.Fatalf("forced allocation = %+v, want all on wb's first warehouse", got)
	}
	e.wantAvail("a", "wb", 1)
	e.wantAvail("a", "site", 1)
	e.set("a", "ekb", 5) // 1C gets stock where the hold sits
	e.wantAvail("a", "wb", 3)
	if got := e.l.Short(nil); !slices.Equal(got, []string{"new"}) {
		t.Fatalf("short after ekb stock = %v", got)
	}
	e.checkReplay()
	if err := e.l.Release("mp-1", e.now, &e.fx); err != nil {
		t.Fatal(err)
	}
	e.commit()
	if got := e.l.Short(nil); len(got) != 0 {
		t.Fatalf("short after release = %v", got)
	}
	e.checkReplay()
}

func TestLimits(t *testing.T) {
	cfg := testConfig()
	cfg.Limits = Limits{MaxLinesPerHold: 2, MaxQtyPerLine: 5, MaxHoldsPerSKU: 2, MaxActiveHolds: 3}
	e := newEnv(t, cfg)
	e.set("a", "msk", 100)
	e.set("b", "msk", 100)
	check := func(name string, err error, limit string) {
		t.Helper()
		var le *LimitError
		if !errors.As(err, &le) || le.Name != limit || !errors.Is(err, ErrLimitExceeded) {
			t.Fatalf("%s: err = %v, want %s", name, err, limit)
		}
	}
	_, err := e.reserve("x", "site", Line{SKU: "a", Qty: 1}, Line{SKU: "a", Qty: 1}, Line{SKU: "a", Qty: 1})
	check("lines", err, "MaxLinesPerHold")
	_, err = e.reserve("x", "site", Line{SKU: "a", Qty: 6})
	check("qty", err, "MaxQtyPerLine")
	e.mustReserve("h1", "site", Line{SKU: "a", Qty: 1})
	e.mustReserve("h2", "site", Line{SKU: "a", Qty: 1}, Line{SKU: "a", Qty: 1})
	_, err = e.reserve("h3", "site", Line{SKU: "a", Qty: 1})
	check("holds per SKU", err, "MaxHoldsPerSKU")
	e.mustReserve("h3", "site", Line{SKU: "b", Qty: 1})
	_, err = e.reserve("h4", "site", Line{SKU: "b", Qty: 1})
	check("active holds", err, "MaxActiveHolds")
	if err := e.l.Release("h1", e.now, &e.fx); err != nil {
		t.Fatal(err)
	}
	e.commit()
	e.mustReserve("h4", "site", Line{SKU: "a", Qty: 1})
	e.checkReplay()
}

func TestRequestValidation(t *testing.T) {
	e := newEnv(t, testConfig())
	long := string(make([]byte, MaxSKUBytes+1))
	for name, req := range map[string]ReserveRequest{
		"no id":     {Channel: "site", Lines: []Line{{SKU: "a", Qty: 1}}},
		"no lines":  {ID: "x", Channel: "site"},
		"zero qty":  {ID: "x", Channel: "site", Lines: []Line{{SKU: "a", Qty: 0}}},
		"long sku":  {ID: "x", Channel: "site", Lines: []Line{{SKU: long, Qty: 1}}},
		"empty sku": {ID: "x", Channel: "site", Lines: []Line{{Qty: 1}}},
	} {
		if _, err := e.l.Reserve(req, e.now, &e.fx); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("%s: err = %v, want invalid request", name, err)
		}
	}
	if _, err := e.reserve("x", "nope", Line{SKU: "a", Qty: 1}); !errors.Is(err, ErrUnknownChannel) {
		t.Errorf("unknown channel: err = %v", err)
	}
}

func TestHandoffCommand(t *testing.T) {
	e := newEnv(t, testConfig())
	e.set("a", "msk", 10)
	e.mustReserve("o1", "site", Line{SKU: "a", Qty: 4})
	e.set("a", "msk", 6) // 1C already took the order: conservative window
	e.wantAvail("a", "site", 2)
	if err := e.l.Handoff("o1", e.now, &e.fx); err != nil {
		t.Fatal(err)
	}
	e.commit()
	e.wantAvail("a", "site", 6)
	if err := e.l.Release("o1", e.now, &e.fx); !errors.Is(err, ErrHoldHandedOff) {
		t.Fatalf("release handed off: %v", err)
	}
	if err := e.l.Handoff("o1", e.now, &e.fx); err != nil {
		t.Fatalf("second handoff: %v", err)
	}
	e.checkReplay()
}

// TestReplayChangesNothing: a replay or a conflicting request on an existing
// id (active or closed, plain or kit) leaves the state, the records and the
// channel changes untouched, though Reserve places the stock before it looks
// the id up.
func TestReplayChangesNothing(t *testing.T) {
	e := newEnv(t, testConfig())
	e.set("a", "msk", 10)
	e.set("b", "spb", 10)
	e.kit("k", KitComponent{SKU: "a", Qty: 1}, KitComponent{SKU: "b", Qty: 2})
	e.mustReserve("o1", "site", Line{SKU: "k", Qty: 2}, Line{SKU: "a", Qty: 1})
	e.mustReserve("o2", "site", Line{SKU: "b", Qty: 1})
	if err := e.l.Release("o2", e.now, &e.fx); err != nil {
		t.Fatal(err)
	}
	e.commit()
	for _, tc := range []struct {
		id       string
		lines    []Line
		conflict bool
	}{
		{"o1", []Line{{SKU: "k", Qty: 2}, {SKU: "a", Qty: 1}}, false},
		{"o1", []Line{{SKU: "k", Qty: 1}}, true},
		{"o1", []Line{{SKU: "a", Qty: 20}}, true}, // would not fit either
		{"o2", []Line{{SKU: "b", Qty: 1}}, false},
		{"o2", []Line{{SKU: "k", Qty: 1}}, true},
	} {
		before := e.l.Snapshot()
		// what earlier commands left in the Effects stays
		earlierRec, earlierChange := Record{Seq: 99, Kind: RecordRelease, HoldID: "x"}, ChannelChange{SKU: "x", Channel: "site", Qty: 1}
		e.fx.Records, e.fx.Changes = append(e.fx.Records, earlierRec), append(e.fx.Changes, earlierChange)
		res, err := e.l.Reserve(ReserveRequest{ID: tc.id, Channel: "site", Lines: tc.lines}, e.now, &e.fx)
		switch {
		case tc.conflict && !errors.Is(err, ErrIdempotencyConflict):
			t.Errorf("%s %v: err = %v, want conflict", tc.id, tc.lines, err)
		case !tc.conflict && (err != nil || !res.Replayed):
			t.Errorf("%s %v: %+v, %v, want a replay", tc.id, tc.lines, res, err)
		}
		if len(e.fx.Records) != 1 || len(e.fx.Changes) != 1 || e.fx.Records[0].Seq != 99 || e.fx.Changes[0] != earlierChange {
			t.Errorf("%s %v: records %+v, changes %+v", tc.id, tc.lines, e.fx.Records, e.fx.Changes)
		}
		e.fx.Reset()
		if !bytes.Equal(e.l.Snapshot(), before) {
			t.Errorf("%s %v: state changed", tc.id, tc.lines)
		}
		if err := e.l.checkInvariants(); err != nil {
			t.Fatalf("%s %v: %v", tc.id, tc.lines, err)
		}
	}
	e.checkReplay()
}

// TestSafetyStockAfterRestore: a restored ledger applies the configured
// safety stock (which the snapshot does not carry) to the restored cells,
// also when the configuration changed since.
func TestSafetyStockAfterRestore(t *testing.T) {
	cfg := testConfig()
	cfg.SafetyStock = []SafetyStock{{Warehouse: "msk", Qty: 2}, {Warehouse: "spb", SKU: "a", Qty: 1}}
	e := newEnv(t, cfg)
	e.set("a", "msk", 5)
	e.set("a", "spb", 5)
	e.set("b", "msk", 5)
	snap := e.l.Snapshot()
	changed := testConfig()
	changed.SafetyStock = []SafetyStock{{Warehouse: "msk", Qty: 3}, {Warehouse: "msk", SKU: "b", Qty: 0}}
	for _, tc := range []struct {
		cfg          Config
		wantA, wantB int64
	}{{cfg, 3 + 4, 3}, {changed, 2 + 5, 5}} {
		l, err := Restore(tc.cfg, snap)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.checkInvariants(); err != nil {
			t.Fatal(err)
		}
		a, _ := l.Available("a", "site")
		b, _ := l.Available("b", "site")
		if a != tc.wantA || b != tc.wantB {
			t.Errorf("%+v: a %d b %d, want %d %d", tc.cfg.SafetyStock, a, b, tc.wantA, tc.wantB)
		}
	}
}
