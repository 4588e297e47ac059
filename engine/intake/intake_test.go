package intake_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"stockd/adapters/marketsim"
	"stockd/engine/intake"
	"stockd/feeds"
	"stockd/feeds/ackstore"
	"stockd/reservation"
)

func TestOzonOrderBecomesHoldAndCancellationRestoresIt(t *testing.T) {
	l := newTestLedger(t, time.Now)
	s := newSims(time.Now)
	in := newIntake(t, l, buildChannels(t, s, time.Now, true), time.Now, nil)
	l.setStock(sku(1), 5)

	posting, err := s.ozon.PlaceOrder(ozonWH, marketsim.OrderLine{OfferID: ozonOffer(1), Qty: 2})
	if err != nil {
		t.Fatal(err)
	}
	poll(t, in, "ozon")
	id := intake.HoldID(feeds.KindOzon, posting)
	h := l.hold(id)
	if h.State != reservation.HoldConfirmed || !h.Forced || h.Channel != "ozon" || !h.ExpiresAt.IsZero() {
		t.Errorf("hold %s: state %v forced %v channel %q expires %v, want a confirmed forced hold on ozon without expiry",
			id, h.State, h.Forced, h.Channel, h.ExpiresAt)
	}
	if got, want := h.Lines, []reservation.Line{{SKU: sku(1), Qty: 2}}; len(got) != 1 || got[0] != want[0] {
		t.Errorf("lines: got %v, want %v", got, want)
	}
	if got, want := l.avail(sku(1), "site"), int64(3); got != want {
		t.Errorf("site sees %d after the Ozon order, want %d", got, want)
	}

	if !s.ozon.CancelOrder(posting) {
		t.Fatal("sim refused the cancellation")
	}
	poll(t, in, "ozon")
	if got := l.hold(id).State; got != reservation.HoldReleased {
		t.Errorf("hold after cancellation: %v, want released", got)
	}
	if got, want := l.avail(sku(1), "site"), int64(5); got != want {
		t.Errorf("site sees %d after the cancellation, want %d", got, want)
	}
	st := statsOf(t, in, "ozon")
	if st.HoldsCreated != 1 || st.Cancellations != 1 || st.Open != 0 || st.OrdersSeen != 1 {
		t.Errorf("stats: %+v", st)
	}
}

func TestRepeatedPollsCreateNothingTwice(t *testing.T) {
	l := newTestLedger(t, time.Now)
	s := newSims(time.Now)
	in := newIntake(t, l, buildChannels(t, s, time.Now, true), time.Now, nil)
	l.setStock(sku(1), 10)
	l.setStock(sku(2), 10)
	ym, err := s.ym.PlaceOrder("", marketsim.OrderLine{OfferID: ymOffer(1), Qty: 1}, marketsim.OrderLine{OfferID: ymOffer(2), Qty: 3})
	if err != nil {
		t.Fatal(err)
	}
	for range 4 {
		poll(t, in, "yandexmarket")
	}
	id := intake.HoldID(feeds.KindYandexMarket, ym)
	if got := l.reserveRecords(id); got != 1 {
		t.Errorf("reserve records of %s: got %d, want 1", id, got)
	}
	if got := l.activeHolds(); got != 1 {
		t.Errorf("active holds: got %d, want 1", got)
	}
	if got, want := l.avail(sku(2), "site"), int64(7); got != want {
		t.Errorf("site sees %d of sku 2, want %d", got, want)
	}
	if st := statsOf(t, in, "yandexmarket"); st.HoldsCreated != 1 || st.OrdersSeen != 1 || st.Polls != 4 {
		t.Errorf("stats: %+v", st)
	}
}

func TestWildberriesTasksAndShipping(t *testing.T) {
	l := newTestLedger(t, time.Now)
	s := newSims(time.Now)
	in := newIntake(t, l, buildChannels(t, s, time.Now, true), time.Now, nil)
	l.setStock(sku(3), 4)
	tasks, err := s.wb.PlaceOrder(wbWH, marketsim.OrderLine{OfferID: wbChrt(3), Qty: 2})
	if err != nil || len(tasks) != 2 {
		t.Fatalf("place: %v %v", tasks, err)
	}
	poll(t, in, "wildberries")
	if got, want := l.avail(sku(3), "site"), int64(2); got != want {
		t.Errorf("site sees %d, want %d (two one-unit tasks held)", got, want)
	}
	// One task ships: it leaves the new list, is looked up, no longer
	// followed, and its hold stays until 1C takes the order over.
	if !s.wb.ShipOrder(tasks[0]) {
		t.Fatal("sim refused to ship")
	}
	poll(t, in, "wildberries")
	shipped := intake.HoldID(feeds.KindWildberries, tasks[0])
	if got := l.hold(shipped).State; got != reservation.HoldConfirmed {
		t.Errorf("shipped order's hold: %v, want confirmed until 1C takes it", got)
	}
	st := statsOf(t, in, "wildberries")
	if st.Shipped != 1 || st.Open != 1 || st.StatusChecks != 1 {
		t.Errorf("stats: %+v", st)
	}
	// 1C's lower figure names the shipped order's hold: it is consumed in
	// the same step and the site sees exactly what is left.
	l.setStock(sku(3), 3, shipped)
	if got := l.hold(shipped).State; got != reservation.HoldHandedOff {
		t.Errorf("after 1C's figure: %v, want handed_off", got)
	}
	if got, want := l.avail(sku(3), "site"), int64(2); got != want {
		t.Errorf("site sees %d, want %d", got, want)
	}
}

func TestUnknownOfferIsReportedAndTheRestHeld(t *testing.T) {
	l := newTestLedger(t, time.Now)
	s := newSims(time.Now)
	in := newIntake(t, l, buildChannels(t, s, time.Now, true), time.Now, nil)
	l.setStock(sku(1), 5)
	mixed, err := s.ozon.PlaceOrder(ozonWH, marketsim.OrderLine{OfferID: ozonOffer(1), Qty: 1},
		marketsim.OrderLine{OfferID: "NOT-MAPPED", Qty: 1})
	if err != nil {
		t.Fatal(err)
	}
	unknownOnly, err := s.ozon.PlaceOrder(ozonWH, marketsim.OrderLine{OfferID: "ALSO-NOT-MAPPED", Qty: 2})
	if err != nil {
		t.Fatal(err)
	}
	poll(t, in, "ozon")
	poll(t, in, "ozon")
	h := l.hold(intake.HoldID(feeds.KindOzon, mixed))
	if len(h.Lines) != 1 || h.Lines[0].SKU != sku(1) {
		t.Errorf("mixed order's hold lines: %v, want only %s", h.Lines, sku(1))
	}
	if _, err := l.Hold(context.Background(), intake.HoldID(feeds.KindOzon, unknownOnly)); !errors.Is(err, reservation.ErrHoldNotFound) {
		t.Errorf("an order without a mapped line made a hold: %v", err)
	}
	st := statsOf(t, in, "ozon")
	if st.UnknownOffers != 2 || st.OrdersWithoutLines != 1 || st.HoldsCreated != 1 || st.OrdersSeen != 2 {
		t.Errorf("stats (counted once, not per poll): %+v", st)
	}
}

// TestSoldOutOrderMakesSKUShortAndOthersZeroFirst: a marketplace order for
// stock the website already took is still recorded; the SKU is short and
// every other channel is marked to go to zero at the top priority.
func TestSoldOutOrderMakesSKUShortAndOthersZeroFirst(t *testing.T) {
	l := newTestLedger(t, time.Now)
	s := newSims(time.Now)
	chs := buildChannels(t, s, time.Now, true) // workers stopped: the queue is what we look at
	acks, err := ackstore.OpenFile(ackstore.FileConfig{Path: filepath.Join(t.TempDir(), "acks.log")})
	if err != nil {
		t.Fatal(err)
	}
	defer acks.Close()
	hub, err := feeds.New(context.Background(), feeds.Config{Channels: chs, Acks: acks, Now: time.Now, Seed: 1,
		Source: feeds.SourceFuncs{Qty: l.g.Available, PriceOf: func(string, string) (reservation.Price, bool) {
			return reservation.Price{}, false
		}}})
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close(context.Background())
	l.onChanges = func(ch []reservation.ChannelChange) { hub.OnChanges(ch, nil, time.Now()) }
	in := newIntake(t, l, chs, time.Now, nil)

	l.setStock(sku(1), 3)
	l.setStock(sku(2), 9)
	if _, err := l.g.Reserve(reservation.ReserveRequest{ID: "site-1", Channel: "site",
		Lines: []reservation.Line{{SKU: sku(1), Qty: 2}}}, time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	l.deliver()
	// Ozon still showed the old figure and sold 2; one of them is gone.
	posting, err := s.ozon.PlaceOrder(ozonWH, marketsim.OrderLine{OfferID: ozonOffer(1), Qty: 2})
	if err != nil {
		t.Fatal(err)
	}
	poll(t, in, "ozon")
	h := l.hold(intake.HoldID(feeds.KindOzon, posting))
	if h.State != reservation.HoldConfirmed {
		t.Fatalf("sold-out order: %v, want recorded as confirmed", h.State)
	}
	var short []string
	l.g.Do(func(led *reservation.Ledger, _ *reservation.Effects) { short = led.Short(nil) })
	if len(short) != 1 || short[0] != sku(1) {
		t.Errorf("short SKUs: %v, want [%s]", short, sku(1))
	}
	for _, ch := range []string{"site", "wildberries", "yandexmarket"} {
		if got := l.avail(sku(1), ch); got != 0 {
			t.Errorf("%s sees %d of a short SKU, want 0", ch, got)
		}
	}
	for _, ch := range []string{"wildberries", "yandexmarket"} {
		st, err := hub.Stats(ch)
		if err != nil {
			t.Fatal(err)
		}
		// sku 1 waits at to_zero, sent before sku 2's figure.
		if st.Stock.Ready.ToZero != 1 {
			t.Errorf("%s: ready to_zero %d, want 1 (queue %+v)", ch, st.Stock.Ready.ToZero, st.Stock.Ready)
		}
	}
}

// TestCrashMidIntakeLosesNoOrder: the process dies after recording some
// of a poll's orders; the restarted ledger (from its journal) and a new
// intake with no memory record the rest exactly once and release an order
// cancelled while the process was down.
func TestCrashMidIntakeLosesNoOrder(t *testing.T) {
	l := newTestLedger(t, time.Now)
	s := newSims(time.Now)
	chs := buildChannels(t, s, time.Now, true)
	for i := 1; i <= 5; i++ {
		l.setStock(sku(i), 10)
	}
	var postings []string
	for i := 1; i <= 5; i++ {
		p, err := s.ozon.PlaceOrder(ozonWH, marketsim.OrderLine{OfferID: ozonOffer(i), Qty: 1})
		if err != nil {
			t.Fatal(err)
		}
		postings = append(postings, p)
	}
	ctx, crash := context.WithCancel(context.Background())
	l.failAfter, l.crash = 2, crash
	first := newIntake(t, l, chs, time.Now, nil)
	if err := first.PollOnce(ctx, "ozon"); !errors.Is(err, context.Canceled) {
		t.Fatalf("first poll: %v, want the crash", err)
	}
	if got := statsOf(t, first, "ozon").HoldsCreated; got != 2 {
		t.Fatalf("holds before the crash: %d, want 2", got)
	}

	// While down, the buyer cancels the first order (already held).
	if !s.ozon.CancelOrder(postings[0]) {
		t.Fatal("cancel refused")
	}
	restarted := l.restart()
	second := newIntake(t, restarted, buildChannels(t, s, time.Now, true), time.Now, nil)
	poll(t, second, "ozon")
	poll(t, second, "ozon")
	for i, p := range postings {
		id := intake.HoldID(feeds.KindOzon, p)
		if got := restarted.reserveRecords(id); got != 1 {
			t.Errorf("order %d: %d reserve records, want exactly 1", i, got)
		}
		want := reservation.HoldConfirmed
		if i == 0 {
			want = reservation.HoldReleased
		}
		if got := restarted.hold(id).State; got != want {
			t.Errorf("order %d: %v, want %v", i, got, want)
		}
	}
	st := statsOf(t, second, "ozon")
	if st.HoldsCreated != 3 || st.Cancellations != 1 || st.Open != 4 {
		t.Errorf("stats after restart: %+v", st)
	}
}

// TestCancelledAfterHandoff: a cancellation of an order 1C has taken over
// cannot release stock 1C owns; it is counted and reported.
func TestCancelledAfterHandoff(t *testing.T) {
	l := newTestLedger(t, time.Now)
	s := newSims(time.Now)
	var reported []reservation.Hold
	in := newIntake(t, l, buildChannels(t, s, time.Now, true), time.Now, func(h reservation.Hold, handedOff bool) {
		if handedOff {
			reported = append(reported, h)
		}
	})
	l.setStock(sku(1), 5)
	order, err := s.ym.PlaceOrder("", marketsim.OrderLine{OfferID: ymOffer(1), Qty: 1})
	if err != nil {
		t.Fatal(err)
	}
	poll(t, in, "yandexmarket")
	id := intake.HoldID(feeds.KindYandexMarket, order)
	if err := l.g.Handoff(id, time.Now()); err != nil {
		t.Fatal(err)
	}
	s.ym.CancelOrder(order)
	poll(t, in, "yandexmarket")
	if st := statsOf(t, in, "yandexmarket"); st.CancelledAfterHandoff != 1 || st.Cancellations != 0 || st.Open != 0 {
		t.Errorf("stats: %+v", st)
	}
	if len(reported) != 1 || reported[0].ID != id {
		t.Errorf("reported: %v, want the handed-off hold", reported)
	}
}

// TestRunPollsEveryInterval runs the pollers in virtual time.
func TestRunPollsEveryInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newTestLedger(t, time.Now)
		s := newSims(time.Now)
		in := newIntake(t, l, buildChannels(t, s, time.Now, true), time.Now, nil)
		l.setStock(sku(1), 5)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- in.Run(ctx) }()
		synctest.Wait()
		tasks, err := s.wb.PlaceOrder(wbWH, marketsim.OrderLine{OfferID: wbChrt(1), Qty: 1})
		if err != nil {
			t.Fatal(err)
		}
		id := intake.HoldID(feeds.KindWildberries, tasks[0])
		time.Sleep(intake.DefaultWildberriesPollInterval - time.Second)
		synctest.Wait()
		if _, err := l.Hold(ctx, id); !errors.Is(err, reservation.ErrHoldNotFound) {
			t.Errorf("held before the next poll: %v", err)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if got := l.hold(id).State; got != reservation.HoldConfirmed {
			t.Errorf("after one interval: %v, want confirmed", got)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		// 16 s: Ozon and WB polled at 0 and 15 s, Yandex Market (30 s) once.
		want := map[string]uint64{"ozon": 2, "wildberries": 2, "yandexmarket": 1}
		for _, st := range in.Stats() {
			if st.Polls != want[st.Channel] || st.PollErrors != 0 {
				t.Errorf("%s: polls %d errors %d (%s), want %d and 0", st.Channel, st.Polls, st.PollErrors, st.LastError, want[st.Channel])
			}
		}
	})
}

func TestConfigRefusesBadChannels(t *testing.T) {
	l := newTestLedger(t, time.Now)
	chs := intake.FromFeeds(buildChannels(t, newSims(time.Now), time.Now, true), nil)
	cases := map[string]func(c *intake.Channel){
		"site kind":        func(c *intake.Channel) { c.Kind = feeds.KindSite },
		"short interval":   func(c *intake.Channel) { c.PollInterval = time.Millisecond },
		"too many lookups": func(c *intake.Channel) { c.MaxStatusPerPoll = intake.MaxStatusPerPoll + 1 },
		"no offers":        func(c *intake.Channel) { c.Offers = nil },
	}
	for name, mutate := range cases {
		c := chs[0]
		mutate(&c)
		if _, err := intake.New(intake.Config{Channels: []intake.Channel{c}, Ledger: l}); !errors.Is(err, intake.ErrInvalidConfig) {
			t.Errorf("%s: got %v, want ErrInvalidConfig", name, err)
		}
	}
	if _, err := intake.New(intake.Config{Channels: chs}); !errors.Is(err, intake.ErrInvalidConfig) {
		t.Errorf("no ledger: got %v", err)
	}
	if got := len(chs); got != 3 {
		t.Errorf("FromFeeds: %d channels, want the 3 marketplaces", got)
	}
}

// TestTouchedOrdersAreSentAgain: after the intake records an order, the
// hub sends the channel's figure for its SKU again even when it equals the
// acknowledged one, because the marketplace changed its own figure when
// it took the order (feeds.Hub.Forget).
func TestTouchedOrdersAreSentAgain(t *testing.T) {
	l := newTestLedger(t, time.Now)
	s := newSims(time.Now)
	chs := buildChannels(t, s, time.Now, false)
	acks, err := ackstore.OpenFile(ackstore.FileConfig{Path: filepath.Join(t.TempDir(), "acks.log")})
	if err != nil {
		t.Fatal(err)
	}
	defer acks.Close()
	hub, err := feeds.New(context.Background(), feeds.Config{Channels: chs, Acks: acks, Now: time.Now, Seed: 1,
		Source: feeds.SourceFuncs{Qty: l.g.Available, PriceOf: func(string, string) (reservation.Price, bool) {
			return reservation.Price{}, false
		}}})
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close(context.Background())
	l.onChanges = func(ch []reservation.ChannelChange) { hub.OnChanges(ch, nil, time.Now()) }
	var touched []string
	in, err := intake.New(intake.Config{Channels: intake.FromFeeds(chs, nil), Ledger: l,
		Touched: func(channel string, skus []string) {
			touched = append(touched, skus...)
			if _, err := hub.Forget(channel, skus); err != nil {
				t.Error(err)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	acked := func() uint64 {
		st, err := hub.Stats("wildberries")
		if err != nil {
			t.Fatal(err)
		}
		return st.Stock.Acked
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	l.setStock(sku(1), 1) // buffer 1: every marketplace is sent 0
	waitFor("the first figure", func() bool { return acked() == 1 })
	if _, err := s.wb.PlaceOrder(wbWH, marketsim.OrderLine{OfferID: wbChrt(1), Qty: 1}); err != nil {
		t.Fatal(err)
	}
	poll(t, in, "wildberries")
	if len(touched) != 1 || touched[0] != sku(1) {
		t.Fatalf("touched: %v, want [%s]", touched, sku(1))
	}
	// Still 0 wanted, but sent again.
	waitFor("the figure sent again", func() bool { return acked() == 2 })
	if got, ok := s.wb.Stock(wbChrt(1), wbWH); !ok || got != 0 {
		t.Errorf("WB shows %d (%v), want 0", got, ok)
	}
}
