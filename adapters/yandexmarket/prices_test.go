package yandexmarket_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"stockd/adapters/marketsim"
	"stockd/adapters/yandexmarket"
	"stockd/adapters/yandexmarket/ymsim"
)

func TestPushPrices(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.sim.AddOffer("A-1", "B-2")
	res, err := e.client.PushPrices(t.Context(), []marketsim.PriceUpdate{
		{OfferID: "A-1", Price: 1499_00, OldPrice: 1999_00, Currency: "RUB"},
		{OfferID: "B-2", Price: 99_90, Currency: "RUB"},
		{OfferID: "A-1", Price: 1399_00, Currency: "RUB"}, // a repeat goes in the next request
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Status != marketsim.ItemOK {
			t.Fatalf("item %d: %+v", i, r)
		}
	}
	if got := e.requests.Load(); got != 2 {
		t.Fatalf("%d requests, want 2 (offerIds unique per request)", got)
	}
	if p, _ := e.sim.Price("A-1"); p != (ymsim.Price{Value: "1399", CurrencyID: "RUR"}) {
		t.Fatalf("A-1 price %+v, want the later value", p)
	}
	if p, _ := e.sim.Price("B-2"); p.Value != "99.90" {
		t.Fatalf("B-2 price %+v", p)
	}
}

func TestPushPricesSplitsAtMaximum(t *testing.T) {
	e := newEnv(t, envOpt{sim: func(c *ymsim.Config) { c.AutoCreateOffers = true }})
	updates := make([]marketsim.PriceUpdate, yandexmarket.MaxPriceBatch+1)
	for i := range updates {
		updates[i] = marketsim.PriceUpdate{OfferID: fmt.Sprintf("o%d", i), Price: 100_00, OldPrice: 150_00, Currency: "RUB"}
	}
	if _, err := e.client.PushPrices(t.Context(), updates); err != nil {
		t.Fatal(err)
	}
	if got := e.requests.Load(); got != 2 {
		t.Fatalf("%d requests, want 2", got)
	}
	if p, _ := e.sim.Price("o500"); p.DiscountBase != "150" {
		t.Fatalf("price %+v", p)
	}
}

func TestPricesLockedIsNotRetriable(t *testing.T) {
	e := newEnv(t, envOpt{sim: func(c *ymsim.Config) { c.PricesLocked = true; c.AutoCreateOffers = true }})
	_, err := e.client.PushPrices(t.Context(), []marketsim.PriceUpdate{{OfferID: "A", Price: 100_00, Currency: "RUB"}})
	var apiErr *marketsim.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 423 || apiErr.Retriable || !errors.Is(err, marketsim.ErrLocked) {
		t.Fatalf("err = %v, want a non-retriable 423", err)
	}
}

func TestNumber(t *testing.T) {
	for _, tc := range []struct {
		kopecks int64
		want    string
	}{{149900, "1499"}, {9990, "99.90"}, {1, "0.01"}} {
		if got := yandexmarket.Number(tc.kopecks); string(got) != tc.want {
			t.Errorf("Number(%d) = %s, want %s", tc.kopecks, got, tc.want)
		}
	}
}

func TestOrdersPlacedServedCancelled(t *testing.T) {
	e := newEnv(t, envOpt{})
	first, err := e.sim.PlaceOrder(partnerWh, marketsim.OrderLine{OfferID: "A-1", Qty: 2}, marketsim.OrderLine{OfferID: "КР-7/2", Qty: 1})
	if err != nil {
		t.Fatal(err)
	}
	second, _ := e.sim.PlaceOrder(partnerWh, marketsim.OrderLine{OfferID: "A-1", Qty: 1})
	orders, err := e.client.NewOrders(t.Context())
	if err != nil || len(orders) != 2 {
		t.Fatalf("NewOrders: %+v, %v", orders, err)
	}
	o := orders[0]
	want := []marketsim.OrderLine{{OfferID: "A-1", Qty: 2}, {OfferID: "КР-7/2", Qty: 1}}
	if o.ID != first || o.State != marketsim.OrderAwaiting || o.RawStatus != "PROCESSING/STARTED" ||
		o.WarehouseID != partnerWh || !o.CreatedAt.Equal(epoch) || !slices.Equal(o.Lines, want) {
		t.Fatalf("order %+v", o)
	}
	e.sim.CancelOrder(second)
	e.sim.ShipOrder(first)
	if orders, err = e.client.NewOrders(t.Context()); err != nil || len(orders) != 0 {
		t.Fatalf("after cancel and ship: %+v, %v", orders, err)
	}
	states, err := e.client.OrderStatuses(t.Context(), []string{first, second, "123"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]marketsim.OrderState{}
	for _, s := range states {
		got[s.ID] = s.State
	}
	if len(got) != 2 || got[first] != marketsim.OrderShipped || got[second] != marketsim.OrderCancelled {
		t.Fatalf("states %v", got)
	}
}

func TestOrdersPaginateAndDemand(t *testing.T) {
	e := newEnv(t, envOpt{sim: func(c *ymsim.Config) {
		c.Demand = marketsim.Demand{PerMinute: 10, MaxLines: 3, MaxQty: 2, CancelShare: 0.2, CancelAfter: 10 * time.Minute,
			Seed: 5, Offers: []marketsim.DemandOffer{{OfferID: "A", WarehouseID: partnerWh}, {OfferID: "B", WarehouseID: partnerWh}}}
	}})
	e.clock.Advance(30 * time.Minute)
	all := e.sim.Orders()
	awaiting := 0
	for _, o := range all {
		if o.Status == "PROCESSING" {
			awaiting++
		}
	}
	if len(all) < 200 || awaiting == len(all) || awaiting < len(all)/2 {
		t.Fatalf("%d orders, %d awaiting", len(all), awaiting)
	}
	orders, err := e.client.NewOrders(t.Context())
	if err != nil || len(orders) != awaiting {
		t.Fatalf("%d new orders (%v), want %d over several pages", len(orders), err, awaiting)
	}
	if e.requests.Load() < 2 {
		t.Fatal("no second page requested")
	}
}

func TestReadStocks(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.sim.AddOffer("A-1", "B-2")
	if _, err := e.client.PushStocks(t.Context(), []marketsim.StockUpdate{stock("A-1", 5), stock("B-2", 1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sim.PlaceOrder(partnerWh, marketsim.OrderLine{OfferID: "A-1", Qty: 2}); err != nil {
		t.Fatal(err)
	}
	levels, err := e.client.ReadStocks(t.Context(), []marketsim.StockKey{{OfferID: "A-1"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []marketsim.StockLevel{{OfferID: "A-1", WarehouseID: campaign, Qty: 5, Reserved: 2}}
	if !slices.Equal(levels, want) {
		t.Fatalf("levels %+v, want %+v", levels, want)
	}
}

func TestValidateOfferID(t *testing.T) {
	for _, tc := range []struct {
		sku          string
		ok, legacyOK bool
	}{
		{"КР-7/2", true, true},
		{"557722", true, true},
		{"A 1", true, false},
		{"A\t1", true, false}, // tab is allowed by the current pattern
		{"A\n1", false, false},
		{"A\x7f", false, false},
		{"   ", false, false},
		{" A", false, false},
		{"", false, false},
		{"SK-58（深红色）", true, false},
		{strings.Repeat("я", 255), true, false},
		{strings.Repeat("я", 256), false, false},
		{strings.Repeat("z", 80), true, true},
		{strings.Repeat("z", 81), true, false},
		{`a.b,c/d\e(f)[g]-h=i_j`, true, true},
		{"\xff", false, false},
	} {
		if err := yandexmarket.ValidateOfferID(tc.sku); (err == nil) != tc.ok {
			t.Errorf("ValidateOfferID(%q) = %v, want ok=%v", tc.sku, err, tc.ok)
		}
		if err := yandexmarket.ValidateLegacyOfferID(tc.sku); (err == nil) != tc.legacyOK {
			t.Errorf("ValidateLegacyOfferID(%q) = %v, want ok=%v", tc.sku, err, tc.legacyOK)
		}
	}
}

func TestStateOf(t *testing.T) {
	for _, tc := range []struct {
		status, sub string
		want        marketsim.OrderState
	}{
		{"PROCESSING", "STARTED", marketsim.OrderAwaiting},
		{"PROCESSING", "READY_TO_SHIP", marketsim.OrderAwaiting},
		{"PROCESSING", "SHIPPED", marketsim.OrderShipped},
		{"DELIVERY", "", marketsim.OrderShipped},
		{"CANCELLED", "USER_CHANGED_MIND", marketsim.OrderCancelled},
		{"UNPAID", "", marketsim.OrderOther},
	} {
		if got := yandexmarket.StateOf(tc.status, tc.sub); got != tc.want {
			t.Errorf("StateOf(%q, %q) = %v, want %v", tc.status, tc.sub, got, tc.want)
		}
	}
}
