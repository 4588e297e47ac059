package feeds

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"stockd/adapters/marketsim"
	"stockd/adapters/postgres"
	"stockd/adapters/testsvc"
	"stockd/feeds/ackstore"
	"stockd/reservation"
)

// A 5 → 4 → 3 sequence inside Ozon's per-item cooldown is sent as one 3
// once the cooldown ends, and no rule of the simulator is broken.
func TestCoalescingOzonSendsOneThree(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := newOzonSim(true)
		rec := &recorder{next: sim, keep: "/v2/products/stocks"}
		led := newFakeLedger()
		h := newHub(t, led, openFileAcks(t, t.TempDir()), ozonChannel(t, rec, 1, nil))
		defer closeHub(t, h)

		h.OnChanges([]reservation.ChannelChange{led.setQty(sku(0), "ozon", 10)}, nil, time.Now())
		settle(t, h, "ozon", time.Minute)
		if got, _ := sim.Stock(offerID(KindOzon, 0), ozonWH); got != 10 {
			t.Fatalf("first push: sim has %d, want 10", got)
		}
		for _, q := range []int64{5, 4, 3} {
			h.OnChanges([]reservation.ChannelChange{led.setQty(sku(0), "ozon", q)}, nil, time.Now())
			time.Sleep(2 * time.Second)
		}
		s := settle(t, h, "ozon", 2*time.Minute)
		if got, _ := sim.Stock(offerID(KindOzon, 0), ozonWH); got != 3 {
			t.Fatalf("sim has %d, want 3", got)
		}
		if got := rec.count("/v2/products/stocks"); got != 2 {
			t.Fatalf("%d stock requests, want 2 (10, then one 3)", got)
		}
		var last struct {
			Stocks []struct{ Stock int64 } `json:"stocks"`
		}
		bodies := rec.kept()
		if err := json.Unmarshal(bodies[len(bodies)-1], &last); err != nil || len(last.Stocks) != 1 || last.Stocks[0].Stock != 3 {
			t.Fatalf("last body %s, want one stock of 3", bodies[len(bodies)-1])
		}
		if s.Stock.Acked != 2 {
			t.Fatalf("acked %d, want 2", s.Stock.Acked)
		}
		noViolations(t, "ozon", sim.Violations())
	})
}

// Keys are sent most urgent first: to zero, decrease, increase.
func TestPriorityOrderInABatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := newOzonSim(true)
		rec := &recorder{next: sim, keep: "/v2/products/stocks"}
		led := newFakeLedger()
		h := newHub(t, led, openFileAcks(t, t.TempDir()), ozonChannel(t, rec, 4, nil))
		defer closeHub(t, h)
		var first []reservation.ChannelChange
		for i := range 4 {
			first = append(first, led.setQty(sku(i), "ozon", 5))
		}
		h.OnChanges(first, nil, time.Now())
		settle(t, h, "ozon", time.Minute)
		time.Sleep(ozonCooldownWait)
		// Reported in the opposite order of urgency, in one call.
		h.OnChanges([]reservation.ChannelChange{
			led.setQty(sku(3), "ozon", 6), // increase
			led.setQty(sku(2), "ozon", 4), // decrease
			led.setQty(sku(1), "ozon", 0), // to zero
		}, nil, time.Now())
		settle(t, h, "ozon", time.Minute)
		bodies := rec.kept()
		var last struct {
			Stocks []struct {
				OfferID string `json:"offer_id"`
			} `json:"stocks"`
		}
		if err := json.Unmarshal(bodies[len(bodies)-1], &last); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range last.Stocks {
			got = append(got, s.OfferID)
		}
		want := []string{offerID(KindOzon, 1), offerID(KindOzon, 2), offerID(KindOzon, 3)}
		if !slices.Equal(got, want) {
			t.Fatalf("order %v, want %v", got, want)
		}
	})
}

const ozonCooldownWait = 31 * time.Second

// A burst of changes on each marketplace is drained with the real
// limiters and no simulator rule broken.
func TestBurstKeepsEverySimulatorQuiet(t *testing.T) {
	const n = 3000
	synctest.Test(t, func(t *testing.T) {
		ozSim, wbSim, ymSim := newOzonSim(true), newWBSim(n), newYMSim(true)
		led := newFakeLedger()
		chs := []Channel{ozonChannel(t, ozSim, n, nil), wbChannel(t, wbSim, n), ymChannel(t, ymSim, n)}
		h := newHub(t, led, openFileAcks(t, t.TempDir()), chs...)
		defer closeHub(t, h)
		var changes []reservation.ChannelChange
		var prices []reservation.PriceChange
		for i := range n {
			for _, view := range []string{"ozon", "wb", "ym"} {
				changes = append(changes, led.setQty(sku(i), view, int64(i%50+1)))
			}
			prices = append(prices, led.setPrice(sku(i), "retail", fmt.Sprintf("%d.00", 100+i)))
		}
		h.OnChanges(changes, prices, time.Now())
		for _, ch := range []string{"ozon", "wb", "ym"} {
			s := settle(t, h, ch, 30*time.Minute)
			if s.Stock.Acked != n || s.Price.Acked != n {
				t.Errorf("%s: acked stock %d price %d, want %d each (%+v)", ch, s.Stock.Acked, s.Price.Acked, n, s)
			}
		}
		for i := range n {
			q := int64(i%50 + 1)
			if got, _ := ozSim.Stock(offerID(KindOzon, i), ozonWH); got != q {
				t.Fatalf("ozon %d: %d, want %d", i, got, q)
			}
			if got, _ := wbSim.Stock(offerID(KindWildberries, i), wbWH); got != q {
				t.Fatalf("wb %d: %d, want %d", i, got, q)
			}
			if got, _ := ymSim.Stock(offerID(KindYandexMarket, i), "20"); got != q {
				t.Fatalf("ym %d: %d, want %d", i, got, q)
			}
		}
		noViolations(t, "ozon", ozSim.Violations())
		noViolations(t, "wildberries", wbSim.Violations())
		noViolations(t, "yandexmarket", ymSim.Violations())
	})
}

// 5xx and 429 replies are retried with backoff until acknowledged.
func TestRetriesOnServerErrorsAndRateLimits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ozSim, wbSim := newOzonSim(true), newWBSim(2)
		ozSim.Faults().Queue(marketsim.Fault{Kind: marketsim.FaultServerError, Status: 503},
			marketsim.Fault{Kind: marketsim.FaultServerError, Status: 500})
		wbSim.Faults().Queue(marketsim.Fault{Kind: marketsim.FaultServerError, Status: 429})
		led := newFakeLedger()
		h := newHub(t, led, openFileAcks(t, t.TempDir()), ozonChannel(t, ozSim, 2, nil), wbChannel(t, wbSim, 2))
		defer closeHub(t, h)
		h.OnChanges([]reservation.ChannelChange{led.setQty(sku(0), "ozon", 7), led.setQty(sku(1), "wb", 8)}, nil, time.Now())
		oz := settle(t, h, "ozon", 5*time.Minute)
		wb := settle(t, h, "wb", 5*time.Minute)
		if got, _ := ozSim.Stock(offerID(KindOzon, 0), ozonWH); got != 7 {
			t.Fatalf("ozon has %d, want 7", got)
		}
		if got, _ := wbSim.Stock(offerID(KindWildberries, 1), wbWH); got != 8 {
			t.Fatalf("wb has %d, want 8", got)
		}
		if oz.Stock.RequestErrors != 2 || oz.Stock.Acked != 1 {
			t.Fatalf("ozon stats %+v, want 2 request errors and 1 ack", oz.Stock)
		}
		if wb.Stock.RequestErrors != 1 || wb.Stock.Retries != 1 {
			t.Fatalf("wb stats %+v, want 1 request error and 1 retry", wb.Stock)
		}
	})
}

func TestBackoffIsBoundedFullJitter(t *testing.T) {
	h := newHub(t, newFakeLedger(), openFileAcks(t, t.TempDir()))
	defer closeHub(t, h)
	rng := newRNG(7)
	for n := 1; n < 40; n++ {
		d := backoff(rng, n, time.Second, time.Minute, 0)
		ceil := min(time.Minute, time.Second<<min(n-1, 20))
		if d < 0 || d > ceil {
			t.Fatalf("attempt %d: %v outside [0, %v]", n, d, ceil)
		}
	}
	if d := backoff(rng, 1, time.Second, time.Minute, 90*time.Second); d != 90*time.Second {
		t.Fatalf("retry hint 90s gave %v", d)
	}
}

// An item the marketplace refuses as invalid is quarantined with the
// reason, not sent again for the same value, retried for a new value or
// after Release.
func TestValidationErrorsAreQuarantined(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := newOzonSim(false)
		sim.AddOffer(offerID(KindOzon, 0)) // sku-1's offer is unknown to Ozon
		rec := &recorder{next: sim}
		led := newFakeLedger()
		h := newHub(t, led, openFileAcks(t, t.TempDir()), ozonChannel(t, rec, 2, nil))
		defer closeHub(t, h)
		h.OnChanges([]reservation.ChannelChange{led.setQty(sku(0), "ozon", 3), led.setQty(sku(1), "ozon", 4)}, nil, time.Now())
		settle(t, h, "ozon", time.Minute)
		q, err := h.Quarantined("ozon")
		if err != nil {
			t.Fatal(err)
		}
		if len(q) != 1 || q[0].Offer != offerID(KindOzon, 1) || q[0].Code != "NOT_FOUND" || q[0].Qty != 4 {
			t.Fatalf("quarantine %+v, want OF-1 NOT_FOUND at 4", q)
		}
		requests := rec.count("/v2/products/stocks")
		// The same value again: not sent.
		h.OnChanges([]reservation.ChannelChange{led.setQty(sku(1), "ozon", 4)}, nil, time.Now())
		settle(t, h, "ozon", time.Minute)
		if got := rec.count("/v2/products/stocks"); got != requests {
			t.Fatalf("quarantined value sent again: %d requests, want %d", got, requests)
		}
		// The operator adds the offer in the cabinet and releases it.
		sim.AddOffer(offerID(KindOzon, 1))
		if err := h.Release("ozon", MethodStock, offerID(KindOzon, 1), ozonWH); err != nil {
			t.Fatal(err)
		}
		settle(t, h, "ozon", time.Minute)
		if got, _ := sim.Stock(offerID(KindOzon, 1), ozonWH); got != 4 {
			t.Fatalf("after release sim has %d, want 4", got)
		}
		if q, _ := h.Quarantined("ozon"); len(q) != 0 {
			t.Fatalf("quarantine after release: %+v", q)
		}
	})
}

// Yandex Market refuses a request as a whole; the batch is halved until
// the bad offer is alone, and only it is quarantined.
func TestYandexMarketBadOfferIsIsolated(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := newYMSim(false)
		const n = 16
		for i := range n {
			if i != 11 {
				sim.AddOffer(offerID(KindYandexMarket, i))
			}
		}
		led := newFakeLedger()
		h := newHub(t, led, openFileAcks(t, t.TempDir()), ymChannel(t, sim, n))
		defer closeHub(t, h)
		var changes []reservation.ChannelChange
		for i := range n {
			changes = append(changes, led.setQty(sku(i), "ym", int64(i+1)))
		}
		h.OnChanges(changes, nil, time.Now())
		s := settle(t, h, "ym", 5*time.Minute)
		if !s.Stock.PausedUntil.IsZero() {
			t.Fatalf("paused until %v although the bad offer was quarantined", s.Stock.PausedUntil)
		}
		q, _ := h.Quarantined("ym")
		if len(q) != 1 || q[0].Offer != offerID(KindYandexMarket, 11) {
			t.Fatalf("quarantine %+v, want only the offer of sku-11", q)
		}
		if s.Stock.Acked != n-1 {
			t.Fatalf("acked %d, want %d", s.Stock.Acked, n-1)
		}
		for i := range n {
			got, ok := sim.Stock(offerID(KindYandexMarket, i), "20")
			if i != 11 && (!ok || got != int64(i+1)) {
				t.Fatalf("offer %d: %d %v, want %d", i, got, ok, i+1)
			}
		}
	})
}

// A price jump over max_change_pct waits for approval.
func TestPriceChangeOverMaxNeedsApproval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := newOzonSim(true)
		led := newFakeLedger()
		h := newHub(t, led, openFileAcks(t, t.TempDir()), ozonChannel(t, sim, 1, nil))
		defer closeHub(t, h)
		h.OnChanges(nil, []reservation.PriceChange{led.setPrice(sku(0), "retail", "1000.00")}, time.Now())
		settle(t, h, "ozon", time.Minute)
		time.Sleep(7 * time.Minute) // Ozon: ten price changes an hour
		h.OnChanges(nil, []reservation.PriceChange{led.setPrice(sku(0), "retail", "2000.00")}, time.Now())
		s := settle(t, h, "ozon", time.Minute)
		if p, _ := sim.Price(offerID(KindOzon, 0)); p.Price != "1000" {
			t.Fatalf("price %q pushed before approval, want 1000", p.Price)
		}
		if s.AwaitingApproval != 1 {
			t.Fatalf("awaiting approval %d, want 1", s.AwaitingApproval)
		}
		q, _ := h.Quarantined("ozon")
		if len(q) != 1 || !q[0].NeedsApproval || q[0].Price != 200000 || q[0].Acked != 100000 {
			t.Fatalf("quarantine %+v", q)
		}
		if err := h.Approve("ozon", offerID(KindOzon, 0)); err != nil {
			t.Fatal(err)
		}
		settle(t, h, "ozon", time.Minute)
		if p, _ := sim.Price(offerID(KindOzon, 0)); p.Price != "2000" {
			t.Fatalf("price %q after approval, want 2000", p.Price)
		}
		noViolations(t, "ozon", sim.Violations())
	})
}

// After a restart only the keys whose desired value differs from the
// acknowledged one are sent.
func TestRestartResendsOnlyTheDifference(t *testing.T) {
	t.Run("file", func(t *testing.T) {
		dir := t.TempDir()
		restartCase(t, func(t *testing.T) ackstore.Store { return openFileAcks(t, dir) })
	})
	t.Run("postgres", func(t *testing.T) {
		url := testsvc.SchemaURL(t)
		restartCase(t, func(t *testing.T) ackstore.Store {
			pool, err := postgres.NewPool(context.Background(), postgres.DefaultConfig(url))
			if err != nil {
				t.Fatal(err)
			}
			if err := postgres.Migrate(context.Background(), pool); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(pool.Close)
			return ackstore.NewPostgres(pool)
		})
	})
}

func restartCase(t *testing.T, open func(t *testing.T) ackstore.Store) {
	const n = 200
	sim := newWBSim(n)
	led := newFakeLedger()
	var changes []reservation.ChannelChange
	var prices []reservation.PriceChange
	for i := range n {
		changes = append(changes, led.setQty(sku(i), "wb", 10))
		prices = append(prices, led.setPrice(sku(i), "retail", "500.00"))
	}
	acks := open(t)
	h := newHub(t, led, acks, wbChannel(t, sim, n))
	h.OnChanges(changes, prices, time.Now())
	settleReal(t, h, "wb")
	closeHub(t, h)
	acks.Close()

	// While stockd was down three SKUs changed.
	for _, i := range []int{3, 50, 199} {
		led.setQty(sku(i), "wb", 2)
	}
	led.setPrice(sku(7), "retail", "550.00")
	rec := &recorder{next: sim, keep: "/api/v3/stocks/"}
	acks = open(t)
	defer acks.Close()
	h = newHub(t, led, acks, wbChannel(t, rec, n))
	defer closeHub(t, h)
	all := func(yield func(string) bool) {
		for i := range n {
			if !yield(sku(i)) {
				return
			}
		}
	}
	marked, err := h.Resync(context.Background(), "wb", all)
	if err != nil {
		t.Fatal(err)
	}
	if marked != 4 {
		t.Fatalf("Resync marked %d keys, want 4 (3 stocks, 1 price)", marked)
	}
	s := settleReal(t, h, "wb")
	if s.Stock.Acked != 3 || s.Price.Acked != 1 {
		t.Fatalf("after restart acked stock %d price %d, want 3 and 1", s.Stock.Acked, s.Price.Acked)
	}
	var sent int
	for _, body := range rec.kept() {
		var req struct {
			Stocks []json.RawMessage `json:"stocks"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			t.Fatal(err)
		}
		sent += len(req.Stocks)
	}
	if sent != 3 {
		t.Fatalf("%d stock items sent after restart, want 3", sent)
	}
	for _, i := range []int{3, 50, 199} {
		if got, _ := sim.Stock(offerID(KindWildberries, i), wbWH); got != 2 {
			t.Fatalf("sku-%d: %d, want 2", i, got)
		}
	}
}

// settleReal waits in real time (the PostgreSQL case cannot run in a
// bubble) for the channel to settle, polling.
func settleReal(tb testing.TB, h *Hub, channel string) Stats {
	tb.Helper()
	for range 600 {
		s, err := h.Stats(channel)
		if err != nil {
			tb.Fatal(err)
		}
		if unsettled(s) == 0 {
			return s
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Fatalf("channel %s did not settle", channel)
	return Stats{}
}

// A reconcile pass reads stock back and resends what the marketplace
// shows differently.
func TestReconcileHealsDrift(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := newWBSim(3)
		led := newFakeLedger()
		ch := wbChannel(t, sim, 3)
		h := newHub(t, led, openFileAcks(t, t.TempDir()), ch)
		defer closeHub(t, h)
		h.OnChanges([]reservation.ChannelChange{led.setQty(sku(0), "wb", 5), led.setQty(sku(1), "wb", 6),
			led.setQty(sku(2), "wb", 7)}, nil, time.Now())
		settle(t, h, "wb", time.Minute)
		// Someone sets sku-1 to 60 in the cabinet.
		if _, err := ch.Stock.PushStocks(context.Background(), []marketsim.StockUpdate{
			{OfferID: offerID(KindWildberries, 1), WarehouseID: wbWH, Qty: 60}}); err != nil {
			t.Fatal(err)
		}
		res, err := h.Reconcile(context.Background(), "wb")
		if err != nil {
			t.Fatal(err)
		}
		if res.Read != 3 || res.Differ != 1 || res.Missing != 0 {
			t.Fatalf("reconcile %+v, want 3 read, 1 differing", res)
		}
		settle(t, h, "wb", time.Minute)
		if got, _ := sim.Stock(offerID(KindWildberries, 1), wbWH); got != 6 {
			t.Fatalf("after reconcile %d, want 6", got)
		}
	})
}

// A channel with several marketplace warehouses pushes each its own
// view's quantity; LedgerViews lists the views the engine registers.
func TestSeveralWarehousesEachWithItsSources(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := newOzonSim(true)
		led := newFakeLedger()
		const wh2 = "22142605386001"
		ch := ozonChannel(t, sim, 1, func(c *ChannelConfig) {
			c.Warehouses = []TargetConfig{{ID: ozonWH, Sources: []string{"wh-msk"}}, {ID: wh2, Sources: []string{"wh-spb"}}}
		})
		views := LedgerViews([]ChannelConfig{ch.Config})
		if len(views) != 2 || views[0].Name != "ozon@"+ozonWH || views[1].Warehouses[0] != "wh-spb" {
			t.Fatalf("LedgerViews = %+v", views)
		}
		h := newHub(t, led, openFileAcks(t, t.TempDir()), ch)
		defer closeHub(t, h)
		h.OnChanges([]reservation.ChannelChange{led.setQty(sku(0), "ozon@"+ozonWH, 3), led.setQty(sku(0), "ozon@"+wh2, 9),
			{SKU: sku(0), Channel: "ozon", Qty: 12}}, nil, time.Now())
		settle(t, h, "ozon", time.Minute)
		a, _ := sim.Stock(offerID(KindOzon, 0), ozonWH)
		b, _ := sim.Stock(offerID(KindOzon, 0), wh2)
		if a != 3 || b != 9 {
			t.Fatalf("warehouses got %d and %d, want 3 and 9", a, b)
		}
	})
}

func TestStatsReportFreshnessAndQueues(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		led := newFakeLedger()
		ch := ozonChannel(t, newOzonSim(true), 3, func(c *ChannelConfig) { c.Push.Disabled = true })
		h := newHub(t, led, openFileAcks(t, t.TempDir()), ch)
		defer closeHub(t, h)
		h.OnChanges([]reservation.ChannelChange{led.setQty(sku(0), "ozon", 0), led.setQty(sku(1), "ozon", 4)},
			[]reservation.PriceChange{led.setPrice(sku(2), "retail", "10.00")}, time.Now())
		time.Sleep(90 * time.Second)
		s, err := h.Stats("ozon")
		if err != nil {
			t.Fatal(err)
		}
		if s.Freshness != 90*time.Second {
			t.Fatalf("freshness %v, want 90s", s.Freshness)
		}
		if s.Stock.Ready.ToZero != 1 || s.Stock.Ready.Decrease != 1 || s.Price.Ready.Price != 1 {
			t.Fatalf("queues %+v / %+v", s.Stock.Ready, s.Price.Ready)
		}
		if len(s.Limiters) != 2 {
			t.Fatalf("limiters %+v", s.Limiters)
		}
	})
}
