package reservation

import (
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestHoldSlotReuse: holds leave the replay window and their slab slots
// are reused while ids, channels, spilled lines and allocations, and the
// records that name them stay right: a reused slot shows nothing of its
// last hold, and a record never views a slot that moved on.
func TestHoldSlotReuse(t *testing.T) {
	cfg := testConfig()
	cfg.Limits = DefaultLimits()
	cfg.Limits.MaxRetainedHolds = 3
	e := newEnv(t, cfg)
	for _, sku := range []string{"a", "b", "c"} {
		e.set(sku, "msk", 1_000_000)
		e.set(sku, "spb", 1_000_000)
	}
	longID := strings.Repeat("x", MaxIDBytes-4)
	var expired []Record
	for i := range 40 {
		id, ch := longID+strconv.Itoa(i%10)+"-"+strconv.Itoa(i/10), []string{"site", "ozon", "wb"}[i%3]
		if ch == "wb" {
			ch = "site"
		}
		lines := []Line{{SKU: "a", Qty: 1}}
		if i%2 == 0 { // spilled: three lines
			lines = []Line{{SKU: "a", Qty: 1}, {SKU: "b", Qty: 2}, {SKU: "c", Qty: 3}}
		}
		if _, err := e.l.Reserve(ReserveRequest{ID: id, Channel: ch, Lines: lines, TTL: time.Second}, e.now, &e.fx); err != nil {
			t.Fatalf("hold %d: %v", i, err)
		}
		e.commit()
		got := e.hold(id)
		if got.ID != id || got.Channel != ch || len(got.Lines) != len(lines) || got.Lines[len(lines)-1] != lines[len(lines)-1] {
			t.Fatalf("hold %d: %+v, want id %q channel %s lines %v", i, got, id, ch, lines)
		}
		if i%4 == 3 { // some expire, the rest are released
			e.now = e.now.Add(2 * time.Second)
			if n := e.l.Expire(e.now, 10, &e.fx); n != 1 {
				t.Fatalf("hold %d: expired %d", i, n)
			}
			expired = append(expired, e.fx.Records...)
			e.commit()
		} else if err := e.l.Release(id, e.now, &e.fx); err != nil {
			t.Fatalf("release %d: %v", i, err)
		}
		e.commit()
		if err := e.l.checkInvariants(); err != nil {
			t.Fatalf("after hold %d: %v", i, err)
		}
	}
	if n := e.l.holds.spilledHolds(); n > 3 {
		t.Errorf("%d spilled holds remembered, the window holds 3", n)
	}
	for k, r := range expired {
		i := 4*k + 3
		if want := longID + strconv.Itoa(i%10) + "-" + strconv.Itoa(i/10); r.Kind != RecordExpire || r.HoldID != want {
			t.Errorf("expire record %d: %v %q, want %q", k, r.Kind, r.HoldID, want)
		}
	}
	e.checkReplay()
}

// TestHoldHasNoPointers: the slab of holds must cost the garbage collector
// nothing, whatever the replay window holds, so a hold has no pointers.
func TestHoldHasNoPointers(t *testing.T) {
	var walk func(reflect.Type, string)
	walk = func(ty reflect.Type, path string) {
		switch ty.Kind() {
		case reflect.Pointer, reflect.String, reflect.Slice, reflect.Map, reflect.Chan, reflect.Func, reflect.Interface, reflect.UnsafePointer:
			t.Errorf("%s is a %s: a pointer in every hold", path, ty.Kind())
		case reflect.Struct:
			for i := range ty.NumField() {
				walk(ty.Field(i).Type, path+"."+ty.Field(i).Name)
			}
		case reflect.Array:
			walk(ty.Elem(), path+"[]")
		}
	}
	walk(reflect.TypeFor[holdChunk](), "holdChunk")
}

// TestSpilledHoldsCostTheCollectorNothing: a replay window full of
// multi-line holds adds no heap object per hold, since their lines and
// allocations sit in the index's pointer-free arenas: nothing the garbage
// collector would visit on every cycle.
func TestSpilledHoldsCostTheCollectorNothing(t *testing.T) {
	const holds = 20_000
	cfg := testConfig()
	cfg.Limits = DefaultLimits()
	cfg.Limits.MaxRetainedHolds = holds
	e := newEnv(t, cfg)
	for _, sku := range []string{"a", "b", "c"} {
		e.set(sku, "msk", 1_000_000)
	}
	lines := []Line{{SKU: "a", Qty: 1}, {SKU: "b", Qty: 2}, {SKU: "c", Qty: 3}}
	ids := make([]string, holds)
	for i := range ids {
		ids[i] = "basket-" + strconv.Itoa(i)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, id := range ids {
		e.fx.Reset()
		if _, err := e.l.Reserve(ReserveRequest{ID: id, Channel: "site", Lines: lines, TTL: time.Minute}, e.now, &e.fx); err != nil {
			t.Fatal(err)
		}
		e.fx.Reset()
		if err := e.l.Release(id, e.now, &e.fx); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(ids)
	grown := int64(after.HeapObjects) - int64(before.HeapObjects)
	t.Logf("%d spilled holds in the window: %d heap objects more", holds, grown)
	if grown > holds/20 {
		t.Errorf("%d spilled holds in the window added %d heap objects", holds, grown)
	}
	if n := e.l.holds.spilledHolds(); n != holds {
		t.Errorf("%d holds spilled, want %d", n, holds)
	}
	if err := e.l.checkInvariants(); err != nil {
		t.Fatal(err)
	}
}
