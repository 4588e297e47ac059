package feeds

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"stockd/adapters/marketsim"
	"stockd/adapters/wildberries/wbsim"
	"stockd/reservation"
)

// A Wildberries price is acknowledged only once its upload is processed;
// a price WB sends to price quarantine (three times lower) is
// quarantined with WB's reason, and the other item of the same upload
// is acknowledged.
func TestWildberriesPriceVerdict(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := newWBSimWith(2, func(c *wbsim.Config) { c.TaskDelay = 20 * time.Second })
		rec := &recorder{next: sim}
		led := newFakeLedger()
		h := newHub(t, led, openFileAcks(t, t.TempDir()), wbChannel(t, rec, 2))
		defer closeHub(t, h)

		h.OnChanges(nil, []reservation.PriceChange{led.setPrice(sku(0), "retail", "900.00"),
			led.setPrice(sku(1), "retail", "900.00")}, time.Now())
		time.Sleep(5 * time.Second)
		s, err := h.Stats("wb")
		if err != nil {
			t.Fatal(err)
		}
		if s.Price.Acked != 0 || s.Price.AwaitingVerdict != 2 || s.Price.Tasks != 1 || s.Freshness < 5*time.Second {
			t.Fatalf("while WB processes the upload: %+v (freshness %v), want 2 awaiting its verdict, none acked",
				s.Price, s.Freshness)
		}
		s = settle(t, h, "wb", 2*time.Minute)
		if s.Price.Acked != 2 || s.Price.TaskPolls == 0 {
			t.Fatalf("after the verdict: %+v, want 2 acked", s.Price)
		}

		h.OnChanges(nil, []reservation.PriceChange{led.setPrice(sku(0), "retail", "300.00"),
			led.setPrice(sku(1), "retail", "800.00")}, time.Now())
		s = settle(t, h, "wb", 2*time.Minute)
		q, err := h.Quarantined("wb")
		if err != nil {
			t.Fatal(err)
		}
		if len(q) != 1 || q[0].Method != "price" || q[0].Offer != "500000" || q[0].Reason != wbsim.QuarantineText ||
			q[0].Price != 30000 || q[0].Acked != 90000 {
			t.Fatalf("quarantine %+v, want nmID 500000 at 300.00 with WB's reason", q)
		}
		if s.Price.Acked != 3 || s.Price.Rejected != 1 {
			t.Fatalf("price stats %+v, want 3 acked and 1 rejected", s.Price)
		}
		if p, _ := sim.Price("500001"); p.Price != 800 {
			t.Fatalf("WB price of 500001 %+v, want 800", p)
		}
		if p, _ := sim.Price("500000"); p.Price != 900 {
			t.Fatalf("WB price of 500000 %+v, want 900 kept by the quarantine", p)
		}
		// The same refused value is not sent again.
		uploads := rec.count("/api/v2/upload/task")
		h.OnChanges(nil, []reservation.PriceChange{led.setPrice(sku(0), "retail", "300.00")}, time.Now())
		settle(t, h, "wb", time.Minute)
		if got := rec.count("/api/v2/upload/task"); got != uploads {
			t.Fatalf("%d uploads after the same refused price, want %d", got, uploads)
		}
		noViolations(t, "wildberries", sim.Violations())
	})
}

// A change to a price whose previous value awaits its upload's verdict
// waits for it: one upload per key at a time.
func TestWildberriesPriceWaitsForThePreviousVerdict(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := newWBSimWith(1, func(c *wbsim.Config) { c.TaskDelay = 20 * time.Second })
		rec := &recorder{next: sim}
		led := newFakeLedger()
		h := newHub(t, led, openFileAcks(t, t.TempDir()), wbChannel(t, rec, 1))
		defer closeHub(t, h)
		h.OnChanges(nil, []reservation.PriceChange{led.setPrice(sku(0), "retail", "900.00")}, time.Now())
		time.Sleep(3 * time.Second)
		h.OnChanges(nil, []reservation.PriceChange{led.setPrice(sku(0), "retail", "800.00")}, time.Now())
		time.Sleep(5 * time.Second)
		if got := rec.count("/api/v2/upload/task"); got != 1 {
			t.Fatalf("%d uploads while the first awaits its verdict, want 1", got)
		}
		s := settle(t, h, "wb", 2*time.Minute)
		if got := rec.count("/api/v2/upload/task"); got != 2 || s.Price.Acked != 2 {
			t.Fatalf("%d uploads, %d acked; want 2 and 2", got, s.Price.Acked)
		}
		if p, _ := sim.Price("500000"); p.Price != 800 {
			t.Fatalf("WB price %+v, want the later 800", p)
		}
	})
}

// At MaxPriceTasks uploads awaiting their verdict the worker sends
// nothing new.
func TestWildberriesPriceTasksAreBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := newWBSimWith(3, func(c *wbsim.Config) { c.TaskDelay = 30 * time.Second })
		rec := &recorder{next: sim}
		led := newFakeLedger()
		h, err := New(context.Background(), Config{Channels: []Channel{wbChannel(t, rec, 3)}, Source: led,
			Acks: openFileAcks(t, t.TempDir()), Now: time.Now, Seed: 1, MaxPriceTasks: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer closeHub(t, h)
		for i := range 3 {
			h.OnChanges(nil, []reservation.PriceChange{led.setPrice(sku(i), "retail", "500.00")}, time.Now())
			time.Sleep(2 * time.Second)
		}
		s, _ := h.Stats("wb")
		if got := rec.count("/api/v2/upload/task"); got != 1 || s.Price.Tasks != 1 || s.Price.Pending != 2 {
			t.Fatalf("%d uploads, stats %+v; want 1 upload awaiting and 2 prices pending", got, s.Price)
		}
		s = settle(t, h, "wb", 5*time.Minute)
		if s.Price.Acked != 3 || rec.count("/api/v2/upload/task") != 2 {
			t.Fatalf("acked %d in %d uploads, want 3 in 2", s.Price.Acked, rec.count("/api/v2/upload/task"))
		}
		noViolations(t, "wildberries", sim.Violations())
	})
}

// A price accepted but not yet processed when stockd stops is not
// acknowledged: after a restart Resync marks it and it is sent again.
func TestWildberriesUnprocessedPriceSurvivesRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		sim := newWBSimWith(1, func(c *wbsim.Config) { c.TaskDelay = 10 * time.Minute })
		led := newFakeLedger()
		acks := openFileAcks(t, dir)
		h := newHub(t, led, acks, wbChannel(t, sim, 1))
		h.OnChanges(nil, []reservation.PriceChange{led.setPrice(sku(0), "retail", "700.00")}, time.Now())
		time.Sleep(10 * time.Second)
		if s, _ := h.Stats("wb"); s.Price.AwaitingVerdict != 1 {
			t.Fatalf("stats %+v, want the price awaiting its verdict", s.Price)
		}
		closeHub(t, h)
		acks.Close()

		acks = openFileAcks(t, dir)
		defer acks.Close()
		h = newHub(t, led, acks, wbChannel(t, sim, 1))
		defer closeHub(t, h)
		marked, err := h.Resync(context.Background(), "wb", func(yield func(string) bool) { yield(sku(0)) })
		if err != nil || marked != 2 {
			t.Fatalf("Resync marked %d (%v), want 2: the unacknowledged price and the stock never sent", marked, err)
		}
		s := settle(t, h, "wb", 15*time.Minute)
		if s.Price.Acked != 1 {
			t.Fatalf("after restart %+v, want the price acked", s.Price)
		}
		if p, _ := sim.Price("500000"); p.Price != 700 {
			t.Fatalf("WB price %+v, want 700", p)
		}
	})
}

// An upload whose verdict cannot be read (the history answers 500) is
// polled at most every PriceTaskMaxPoll, then given up after
// MaxPriceTaskAge and its price sent again; WB answers "already set",
// which acknowledges it.
func TestWildberriesPriceWithoutVerdictIsSentAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := newWBSimWith(1, nil)
		sim.Faults().SetPlan(marketsim.FaultPlan{Seed: 1, ErrorRate: 1, ErrorStatus: 500, Paths: []string{"/api/v2/history/"}})
		rec := &recorder{next: sim}
		led := newFakeLedger()
		h := newHub(t, led, openFileAcks(t, t.TempDir()), wbChannel(t, rec, 1))
		defer closeHub(t, h)
		h.OnChanges(nil, []reservation.PriceChange{led.setPrice(sku(0), "retail", "700.00")}, time.Now())
		time.Sleep(MaxPriceTaskAge / 2)
		if s, _ := h.Stats("wb"); s.Price.AwaitingVerdict != 1 || s.Price.Acked != 0 || s.LastError == "" {
			t.Fatalf("half way: %+v (last error %q), want the price awaiting its verdict", s.Price, s.LastError)
		}
		s := settle(t, h, "wb", MaxPriceTaskAge)
		if s.Price.Acked != 1 || rec.count("/api/v2/upload/task") != 2 {
			t.Fatalf("%+v after %d uploads, want acked by the second", s.Price, rec.count("/api/v2/upload/task"))
		}
		if polls := rec.count("/api/v2/history/tasks"); polls > int(MaxPriceTaskAge/PriceTaskMaxPoll)+8 {
			t.Fatalf("%d polls in %v, want at most one per %v", polls, MaxPriceTaskAge, PriceTaskMaxPoll)
		}
	})
}
