package baseline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRowLockNeverOversells(t *testing.T) {
	const units, callers = 5, 64
	pool := rowLockPool(t, map[string]int64{"hot": units})
	store := NewRowLockStore(pool)

	var wg sync.WaitGroup
	results := make([]error, callers)
	for i := range callers {
		wg.Go(func() {
			_, results[i] = store.Hold(t.Context(), Hold{
				ID: fmt.Sprintf("h%d", i), Channel: "site", TTL: time.Minute,
				Lines: []Line{{SKU: "hot", Qty: 1}},
			})
		})
	}
	wg.Wait()
	var held, short int
	var heldIDs []string
	for i, err := range results {
		switch {
		case err == nil:
			held++
			heldIDs = append(heldIDs, fmt.Sprintf("h%d", i))
		case errors.Is(err, ErrInsufficientStock):
			short++
		default:
			t.Errorf("hold h%d: %v", i, err)
		}
	}
	if held != units || short != callers-units {
		t.Errorf("held %d, short %d; want %d, %d", held, short, units, callers-units)
	}
	if got, rows := reserved(t, pool, "hot"); got != units || rows != units {
		t.Errorf("reserved %d in %d rows, want %d in %d", got, rows, units, units)
	}

	for _, id := range heldIDs {
		if err := store.Release(t.Context(), id); err != nil {
			t.Fatalf("release %s: %v", id, err)
		}
	}
	if err := store.Release(t.Context(), heldIDs[0]); err != nil {
		t.Errorf("second release of %s: %v, want nil (idempotent)", heldIDs[0], err)
	}
	if got, rows := reserved(t, pool, "hot"); got != 0 || rows != 0 {
		t.Errorf("after release: reserved %d in %d rows, want 0 in 0", got, rows)
	}
}

func TestRowLockHoldIsAllOrNothing(t *testing.T) {
	pool := rowLockPool(t, map[string]int64{"a": 10, "b": 1})
	store := NewRowLockStore(pool)
	_, err := store.Hold(t.Context(), Hold{ID: "basket", Channel: "site", TTL: time.Minute,
		Lines: []Line{{SKU: "a", Qty: 3}, {SKU: "b", Qty: 2}}})
	if !errors.Is(err, ErrInsufficientStock) {
		t.Fatalf("hold error = %v, want ErrInsufficientStock", err)
	}
	if got, rows := reserved(t, pool, "a"); got != 0 || rows != 0 {
		t.Errorf("a: reserved %d in %d rows after a refused basket, want 0 in 0", got, rows)
	}
	// The same lines split so that b fits, with a duplicate line of a summed.
	_, err = store.Hold(t.Context(), Hold{ID: "basket2", Channel: "site", TTL: time.Minute,
		Lines: []Line{{SKU: "b", Qty: 1}, {SKU: "a", Qty: 2}, {SKU: "a", Qty: 1}}})
	if err != nil {
		t.Fatalf("hold basket2: %v", err)
	}
	if got, _ := reserved(t, pool, "a"); got != 3 {
		t.Errorf("a: reserved %d, want 3", got)
	}
}

func TestRowLockReplay(t *testing.T) {
	pool := rowLockPool(t, map[string]int64{"a": 10})
	store := NewRowLockStore(pool)
	hold := Hold{ID: "order-1", Channel: "site", TTL: time.Minute, Lines: []Line{{SKU: "a", Qty: 4}}}
	for i, wantReplay := range []bool{false, true} {
		replay, err := store.Hold(t.Context(), hold)
		if err != nil || replay != wantReplay {
			t.Fatalf("hold #%d = replay %v, %v; want %v, nil", i+1, replay, err, wantReplay)
		}
	}
	if got, rows := reserved(t, pool, "a"); got != 4 || rows != 1 {
		t.Errorf("reserved %d in %d rows, want 4 in 1", got, rows)
	}
}

func TestRowLockHoldDirect(t *testing.T) {
	pool := rowLockPool(t, map[string]int64{"a": 2})
	ctx := t.Context()
	id, err := RowLockHold(ctx, pool, "a", 2)
	if err != nil {
		t.Fatalf("RowLockHold: %v", err)
	}
	if _, err := RowLockHold(ctx, pool, "a", 1); !errors.Is(err, ErrInsufficientStock) {
		t.Errorf("RowLockHold past stock: %v, want ErrInsufficientStock", err)
	}
	if err := RowLockRelease(ctx, pool, id); err != nil {
		t.Fatalf("RowLockRelease: %v", err)
	}
	if got, _ := reserved(t, pool, "a"); got != 0 {
		t.Errorf("reserved %d after release, want 0", got)
	}
}

func TestCheckSchema(t *testing.T) {
	for _, bad := range []string{"", "public", "pg_temp", "Bench", "a-b", "a;drop", strings.Repeat("x", 64)} {
		if _, err := OpenRowLockPool(context.Background(), "postgres://127.0.0.1:1/x", bad); !errors.Is(err, ErrInvalidSchema) {
			t.Errorf("schema %q: error = %v, want ErrInvalidSchema", bad, err)
		}
	}
}
