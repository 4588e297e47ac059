package orders_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"stockd/adapters/onec/orders"
	"stockd/reservation"
)

const wh = "wh-msk"

var t0 = time.Date(2026, 11, 21, 7, 0, 0, 0, time.UTC)

func sku(n int) string {
	return fmt.Sprintf("aa8085b0-ee4d-11e3-9438-00155d0202%02d#9b62e395-ef8b-11e3-9438-00155d020201", n)
}

// testLedger is the Source's Ledger over a real reservation ledger, as the
// engine provides it. Hold ids are indexed from the ledger's records,
// since the ledger finds holds only by id.
type testLedger struct {
	tb  testing.TB
	now time.Time

	mu  sync.Mutex
	g   *reservation.Guarded
	ids []string
	seq uint64
}

var _ orders.Ledger = (*testLedger)(nil)

func newTestLedger(tb testing.TB) *testLedger {
	tb.Helper()
	var chs []reservation.ChannelConfig
	for _, name := range []string{"site", "ozon", "wildberries"} {
		chs = append(chs, reservation.ChannelConfig{Name: name, Warehouses: []string{wh}, Strategy: reservation.StrategyPriority})
	}
	l, err := reservation.New(reservation.Config{Channels: chs})
	if err != nil {
		tb.Fatal(err)
	}
	t := &testLedger{tb: tb, now: t0}
	t.g = reservation.NewGuarded(l, func(fx *reservation.Effects) {
		t.mu.Lock()
		defer t.mu.Unlock()
		for i := range fx.Records {
			if fx.Records[i].Kind == reservation.RecordReserve {
				t.ids = append(t.ids, fx.Records[i].HoldID)
			}
		}
	})
	return t
}

func (t *testLedger) ConfirmedHolds(ctx context.Context, fn func(h *reservation.Hold) bool) error {
	t.mu.Lock()
	ids := append([]string(nil), t.ids...)
	t.mu.Unlock()
	var h reservation.Hold
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return err
		}
		if t.g.Hold(id, &h) && h.State == reservation.HoldConfirmed && !fn(&h) {
			return nil
		}
	}
	return nil
}

func (t *testLedger) Handoff(_ context.Context, ids []string) error {
	for _, id := range ids {
		err := t.g.Handoff(id, t.now)
		if err != nil && !errors.Is(err, reservation.ErrHoldNotFound) && !errors.Is(err, reservation.ErrHoldNotActive) {
			return err
		}
	}
	return nil
}

func (t *testLedger) Item(sku string) (item reservation.Item, ok bool) {
	t.g.Do(func(l *reservation.Ledger, _ *reservation.Effects) { item, ok = l.Item(sku) })
	return item, ok
}

func (t *testLedger) Price(sku, priceType string) (p reservation.Price, ok bool) {
	t.g.Do(func(l *reservation.Ledger, _ *reservation.Effects) { p, ok = l.Price(sku, priceType) })
	return p, ok
}

func (t *testLedger) hold(id string) reservation.Hold {
	t.tb.Helper()
	var h reservation.Hold
	if !t.g.Hold(id, &h) {
		t.tb.Fatalf("no hold %q", id)
	}
	return h
}

// event applies a 1C event (one partition, in arrival order).
func (t *testLedger) event(ev reservation.Event) {
	t.tb.Helper()
	t.seq++
	ev.V, ev.Source, ev.Seq, ev.ID = 1, "ut11", t.seq, fmt.Sprintf("ev-%d", t.seq)
	if ev.At.IsZero() {
		ev.At = t.now
	}
	if _, err := t.g.ApplyEvent(&ev, reservation.Source{Topic: "onec.events", Partition: 0, Offset: int64(t.seq)}); err != nil {
		t.tb.Fatalf("event %v: %v", ev.Type, err)
	}
}

func (t *testLedger) setStock(sku string, qty int64, handoff ...string) {
	t.tb.Helper()
	t.event(reservation.Event{Type: reservation.EventStockSet, SKU: sku, Warehouse: wh, Qty: qty, Handoff: handoff})
}

func (t *testLedger) item(sku, name string) {
	t.tb.Helper()
	t.event(reservation.Event{Type: reservation.EventItemUpsert, SKU: sku, Name: name})
}

func (t *testLedger) price(sku, amount string) {
	t.tb.Helper()
	d, err := reservation.ParseDecimal(amount)
	if err != nil {
		t.tb.Fatal(err)
	}
	t.event(reservation.Event{Type: reservation.EventPriceSet, SKU: sku, PriceType: "retail", Price: d, Currency: "RUB"})
}

// siteOrder reserves and confirms a website order; forced records a
// marketplace order instead.
func (t *testLedger) order(id, channel string, forced bool, lines ...reservation.Line) {
	t.tb.Helper()
	t.now = t.now.Add(time.Minute)
	if _, err := t.g.Reserve(reservation.ReserveRequest{ID: id, Channel: channel, Lines: lines, Force: forced}, t.now, nil); err != nil {
		t.tb.Fatalf("reserve %s: %v", id, err)
	}
	if !forced {
		if err := t.g.Confirm(id, 0, t.now); err != nil {
			t.tb.Fatalf("confirm %s: %v", id, err)
		}
	}
}

func (t *testLedger) avail(sku string) int64 {
	t.tb.Helper()
	n, err := t.g.Available(sku, "site")
	if err != nil {
		t.tb.Fatal(err)
	}
	return n
}

func openStore(tb testing.TB, path string) *orders.FileStore {
	tb.Helper()
	s, err := orders.OpenFileStore(path, 0)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func newSource(tb testing.TB, l orders.Ledger, store orders.Store, mutate func(*orders.SourceConfig)) *orders.Source {
	tb.Helper()
	cfg := orders.SourceConfig{Ledger: l, Store: store, PriceType: "retail", Location: time.FixedZone("MSK", 3*3600),
		Info: map[string]orders.ChannelInfo{"ozon": {CounterpartyID: "ozon-llc", CounterpartyName: "ООО «Интернет Решения»"}}}
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := orders.NewSource(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// samplesDir returns shared/samples/commerceml beside the repository.
// Missing: fatal under CI=true, skipped otherwise.
func samplesDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("go.mod not found above the package directory")
		}
		dir = parent
	}
	samples := filepath.Join(dir, "..", "shared", "samples", "commerceml")
	if _, err := os.Stat(samples); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("real CommerceML samples missing at %s: %v", samples, err)
		}
		tb.Skipf("real CommerceML samples not found at %s; skipping", samples)
	}
	return samples
}
