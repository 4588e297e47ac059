package feeds

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"stockd/adapters/marketsim"
	"stockd/reservation"
)

// ResyncAll resyncs a channel over Config.SKUs; without them it is
// refused.
func TestResyncAllUsesTheSKUList(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := newWBSim(3)
		led := newFakeLedger()
		for i := range 3 {
			led.setQty(sku(i), "wb", int64(i+1))
		}
		all := func(yield func(string) bool) {
			for i := range 3 {
				if !yield(sku(i)) {
					return
				}
			}
		}
		ch := wbChannel(t, sim, 3)
		ch.Price = nil
		h, err := New(context.Background(), Config{Channels: []Channel{ch}, Source: led,
			Acks: openFileAcks(t, t.TempDir()), Now: time.Now, Seed: 1, SKUs: all})
		if err != nil {
			t.Fatal(err)
		}
		defer closeHub(t, h)
		if n, err := h.ResyncAll(context.Background(), "wb"); err != nil || n != 3 {
			t.Fatalf("ResyncAll = %d, %v; want 3 keys", n, err)
		}
		settle(t, h, "wb", time.Minute)
		if n, err := h.ResyncAll(context.Background(), "wb"); err != nil || n != 0 {
			t.Fatalf("ResyncAll again = %d, %v; want 0: all acknowledged", n, err)
		}
		if _, err := h.ResyncAll(context.Background(), "nope"); !errors.Is(err, ErrUnknownChannel) {
			t.Fatalf("unknown channel: %v", err)
		}
		bare := newHub(t, led, openFileAcks(t, t.TempDir()), wbChannel(t, sim, 3))
		defer closeHub(t, bare)
		if _, err := bare.ResyncAll(context.Background(), "wb"); !errors.Is(err, ErrNoSKUs) {
			t.Fatalf("without SKUs: %v, want ErrNoSKUs", err)
		}
	})
}

// StartReconcile runs a pass in the hub's reconcile goroutine and Stats
// reports it; a second request while one is pending is refused.
func TestStartReconcileRunsInTheBackground(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := newWBSim(2)
		led := newFakeLedger()
		ch := wbChannel(t, sim, 2)
		h := newHub(t, led, openFileAcks(t, t.TempDir()), ch)
		defer closeHub(t, h)
		h.OnChanges([]reservation.ChannelChange{led.setQty(sku(0), "wb", 5), led.setQty(sku(1), "wb", 6)}, nil, time.Now())
		settle(t, h, "wb", time.Minute)
		if _, err := ch.Stock.PushStocks(context.Background(), []marketsim.StockUpdate{
			{OfferID: offerID(KindWildberries, 0), WarehouseID: wbWH, Qty: 50}}); err != nil {
			t.Fatal(err)
		}
		if err := h.StartReconcile("wb"); err != nil {
			t.Fatal(err)
		}
		if err := h.StartReconcile("wb"); !errors.Is(err, ErrReconcileRunning) {
			t.Fatalf("second request: %v, want ErrReconcileRunning", err)
		}
		synctest.Wait()
		s := settle(t, h, "wb", time.Minute)
		rs := s.Reconcile
		if rs.Running || rs.Requested || rs.FinishedAt.IsZero() || rs.Result != (ReconcileResult{Read: 2, Differ: 1}) || rs.Error != "" {
			t.Fatalf("reconcile stats %+v, want one finished pass that found 1 of 2 differing", rs)
		}
		if got, _ := sim.Stock(offerID(KindWildberries, 0), wbWH); got != 5 {
			t.Fatalf("after reconcile %d, want 5", got)
		}
		site := Channel{Config: ChannelConfig{Name: "site", Kind: KindSite, Stock: DefaultStockPolicy(),
			YML: YMLConfig{Enabled: true, Shop: "s", Company: "c", URL: "https://shop.example"}}, Offers: IdentityMapping(KindSite)}
		h2 := newHub(t, led, openFileAcks(t, t.TempDir()), site)
		defer closeHub(t, h2)
		if err := h2.StartReconcile("site"); !errors.Is(err, ErrNoReadBack) {
			t.Fatalf("site: %v, want ErrNoReadBack", err)
		}
	})
}
