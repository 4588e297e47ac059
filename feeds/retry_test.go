package feeds

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"stockd/adapters/ozon"
	"stockd/adapters/ozon/ozonsim"
	"stockd/reservation"
)

// Ozon "Circle is open" pauses the stock method for CircleOpenPause, not
// for the ordinary backoff: the blocked method is called once, prices
// go on meanwhile, and the stock is sent after the pause.
func TestOzonCircleOpenPausesTheMethod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := newOzonSim(true)
		led := newFakeLedger()
		h := newHub(t, led, openFileAcks(t, t.TempDir()), ozonChannel(t, sim, 2, nil))
		defer closeHub(t, h)
		sim.OpenCircle("/v2/products/stocks", 3*time.Minute)
		start := time.Now()
		h.OnChanges([]reservation.ChannelChange{led.setQty(sku(0), "ozon", 6)},
			[]reservation.PriceChange{led.setPrice(sku(1), "retail", "100.00")}, start)
		time.Sleep(time.Minute)
		s, err := h.Stats("ozon")
		if err != nil {
			t.Fatal(err)
		}
		if s.Stock.RequestErrors != 1 || s.Stock.PausedUntil.Sub(start) < ozon.CircleOpenPause {
			t.Fatalf("stock %+v, want one refused request and a pause of %v", s.Stock, ozon.CircleOpenPause)
		}
		if s.Price.Acked != 1 {
			t.Fatalf("price %+v, want acked while stock is blocked", s.Price)
		}
		if !strings.Contains(s.LastError, ozonsim.CircleOpenMessage) {
			t.Fatalf("last error %q", s.LastError)
		}
		s = settle(t, h, "ozon", 10*time.Minute)
		if got, _ := sim.Stock(offerID(KindOzon, 0), ozonWH); got != 6 {
			t.Fatalf("sim has %d, want 6", got)
		}
		if took := time.Since(start); took < ozon.CircleOpenPause {
			t.Fatalf("stock sent after %v, want after the %v pause", took, ozon.CircleOpenPause)
		}
		if got := sim.CircleRefusals("/v2/products/stocks"); got != 1 {
			t.Fatalf("%d calls refused by the open circle, want 1", got)
		}
		if !s.Stock.PausedUntil.IsZero() {
			t.Fatalf("still paused until %v", s.Stock.PausedUntil)
		}
		noViolations(t, "ozon", sim.Violations())
	})
}

// An item refused as retriable more than MaxItemAttempts times in a row
// is quarantined with the marketplace's last reason; here an Ozon account
// on the old two-minute rule refuses a stock sent 30 s after the last.
func TestRetriableRefusalGivesUpAfterMaxItemAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := ozonsim.DefaultConfig("123", "key")
		cfg.AutoCreateOffers = true
		cfg.StockCooldown = 2 * time.Minute
		sim := ozonsim.New(cfg)
		led := newFakeLedger()
		h, err := New(context.Background(), Config{Channels: []Channel{ozonChannel(t, sim, 1, nil)}, Source: led,
			Acks: openFileAcks(t, t.TempDir()), Now: time.Now, Seed: 1, MaxItemAttempts: 2})
		if err != nil {
			t.Fatal(err)
		}
		defer closeHub(t, h)
		h.OnChanges([]reservation.ChannelChange{led.setQty(sku(0), "ozon", 10)}, nil, time.Now())
		settle(t, h, "ozon", time.Minute)
		h.OnChanges([]reservation.ChannelChange{led.setQty(sku(0), "ozon", 5)}, nil, time.Now())
		s := settle(t, h, "ozon", 5*time.Minute)
		if s.Stock.GaveUp != 1 || s.Stock.Retries != 2 || s.Stock.Rejected != 1 {
			t.Fatalf("stock %+v, want 2 retries, then given up", s.Stock)
		}
		q, _ := h.Quarantined("ozon")
		if len(q) != 1 || q[0].Code != ozon.CodeTooManyRequests || q[0].Qty != 5 ||
			!strings.Contains(q[0].Reason, "Stock is updated too frequently") {
			t.Fatalf("quarantine %+v, want the stock of 5 with Ozon's last reason", q)
		}
		if got := sim.Violation(ozonsim.ViolationItemCooldown); got != 3 {
			t.Fatalf("%d refusals, want 3 (MaxItemAttempts + 1)", got)
		}
		// A new value is tried afresh.
		time.Sleep(2 * time.Minute)
		h.OnChanges([]reservation.ChannelChange{led.setQty(sku(0), "ozon", 4)}, nil, time.Now())
		settle(t, h, "ozon", time.Minute)
		if got, _ := sim.Stock(offerID(KindOzon, 0), ozonWH); got != 4 {
			t.Fatalf("sim has %d, want 4", got)
		}
		if q, _ := h.Quarantined("ozon"); len(q) != 0 {
			t.Fatalf("quarantine %+v after a new value", q)
		}
	})
}
