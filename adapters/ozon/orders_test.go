package ozon_test

import (
	"slices"
	"testing"
	"time"

	"stockd/adapters/marketsim"
	"stockd/adapters/ozon"
	"stockd/adapters/ozon/ozonsim"
)

func TestOrdersPlacedServedCancelled(t *testing.T) {
	e := newEnv(t, envOpt{})
	first, err := e.sim.PlaceOrder(wh, marketsim.OrderLine{OfferID: "A", Qty: 2}, marketsim.OrderLine{OfferID: "B", Qty: 1})
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.sim.PlaceOrder(wh, marketsim.OrderLine{OfferID: "A", Qty: 1})
	if err != nil {
		t.Fatal(err)
	}
	orders, err := e.client.NewOrders(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(orders) != 2 {
		t.Fatalf("%d new orders, want 2", len(orders))
	}
	o := orders[0]
	want := []marketsim.OrderLine{{OfferID: "A", Qty: 2}, {OfferID: "B", Qty: 1}}
	if o.ID != first || o.State != marketsim.OrderAwaiting || o.WarehouseID != wh ||
		!o.CreatedAt.Equal(epoch) || !slices.Equal(o.Lines, want) {
		t.Fatalf("first order %+v", o)
	}

	if !e.sim.CancelOrder(second) {
		t.Fatal("cancel failed")
	}
	orders, err = e.client.NewOrders(t.Context())
	if err != nil || len(orders) != 1 || orders[0].ID != first {
		t.Fatalf("after cancelling: %+v, %v", orders, err)
	}
	e.sim.ShipOrder(first)
	states, err := e.client.OrderStatuses(t.Context(), []string{first, second, "00000000-0000-1"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]marketsim.OrderState{}
	for _, s := range states {
		got[s.ID] = s.State
	}
	if len(got) != 2 || got[first] != marketsim.OrderShipped || got[second] != marketsim.OrderCancelled {
		t.Fatalf("states %v, want first shipped, second cancelled, unknown absent", got)
	}
}

func TestOrdersPaginate(t *testing.T) {
	e := newEnv(t, envOpt{})
	for range ozon.MaxPostingsPage + 20 {
		if _, err := e.sim.PlaceOrder(wh, marketsim.OrderLine{OfferID: "A", Qty: 1}); err != nil {
			t.Fatal(err)
		}
	}
	orders, err := e.client.NewOrders(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(orders), ozon.MaxPostingsPage+20; got != want {
		t.Fatalf("%d orders, want %d", got, want)
	}
	if got := e.requests.Load(); got != 2 {
		t.Fatalf("%d requests, want 2 pages", got)
	}
}

func TestDemandGeneratesAndCancels(t *testing.T) {
	e := newEnv(t, envOpt{sim: func(c *ozonsim.Config) {
		c.Demand = marketsim.Demand{
			PerMinute: 30, MaxLines: 2, MaxQty: 3, CancelShare: 0.3, CancelAfter: time.Minute, Seed: 9,
			Offers: []marketsim.DemandOffer{{OfferID: "A", WarehouseID: wh}, {OfferID: "B", WarehouseID: wh}},
		}
	}})
	e.clock.Advance(20 * time.Minute)
	postings := e.sim.Postings()
	cancelled := 0
	for _, p := range postings {
		if p.Status == ozonsim.StatusCancelled {
			cancelled++
		}
	}
	if len(postings) < 400 || len(postings) > 800 {
		t.Fatalf("%d postings in 20 min at 30/min", len(postings))
	}
	if cancelled == 0 || cancelled > len(postings)/2 {
		t.Fatalf("%d of %d cancelled at share 0.3", cancelled, len(postings))
	}
	orders, err := e.client.NewOrders(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(orders), len(postings)-cancelled; got != want {
		t.Fatalf("%d new orders, want %d awaiting", got, want)
	}
}

func TestReadStocksSubtractsReserves(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.sim.AddOffer("A")
	if _, err := e.client.PushStocks(t.Context(), []marketsim.StockUpdate{stock("A", 5)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sim.PlaceOrder(wh, marketsim.OrderLine{OfferID: "A", Qty: 2}); err != nil {
		t.Fatal(err)
	}
	levels, err := e.client.ReadStocks(t.Context(), []marketsim.StockKey{{OfferID: "A", WarehouseID: wh}, {OfferID: "B", WarehouseID: wh}})
	if err != nil {
		t.Fatal(err)
	}
	want := []marketsim.StockLevel{{OfferID: "A", WarehouseID: wh, Qty: 5, Reserved: 2}}
	if !slices.Equal(levels, want) {
		t.Fatalf("levels %+v, want %+v", levels, want)
	}
}

func TestPushPrices(t *testing.T) {
	e := newEnv(t, envOpt{})
	for _, id := range []string{"A", "B", "C"} {
		e.sim.AddOffer(id)
	}
	res, err := e.client.PushPrices(t.Context(), []marketsim.PriceUpdate{
		{OfferID: "A", Price: 1448_00, OldPrice: 1999_00, Currency: "RUB"},
		{OfferID: "B", Price: 300_50, OldPrice: 310_00, Currency: "RUB"}, // gap below 20 RUB
		{OfferID: "C", Price: 0, Currency: "RUB"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Status != marketsim.ItemOK {
		t.Fatalf("A: %+v", res[0])
	}
	if res[1].Status != marketsim.ItemRejected || res[1].Retriable {
		t.Fatalf("B: %+v, want a per-item rejection", res[1])
	}
	if res[2].Status != marketsim.ItemRejected || res[2].Code != ozon.CodeInvalidPrice {
		t.Fatalf("C: %+v, want refused before sending", res[2])
	}
	p, ok := e.sim.Price("A")
	if !ok || p.Price != "1448" || p.OldPrice != "1999" || p.Currency != "RUB" {
		t.Fatalf("sim price %+v", p)
	}
	for i := range ozonsim.DefaultConfig("", "").PriceChangesPerHour {
		e.clock.Advance(time.Second)
		res, err = e.client.PushPrices(t.Context(), []marketsim.PriceUpdate{{OfferID: "A", Price: int64(1000_00 + i), Currency: "RUB"}})
		if err != nil {
			t.Fatal(err)
		}
	}
	if r := res[0]; r.Status != marketsim.ItemRejected || !r.Retriable || r.RetryAfter != 6*time.Minute {
		t.Fatalf("11th change in an hour: %+v, want retriable after 6m", r)
	}
	if got := e.sim.Violation(ozonsim.ViolationPriceFrequency); got != 1 {
		t.Fatalf("price frequency violations %d, want 1", got)
	}
}

func TestFormatPrice(t *testing.T) {
	for _, tc := range []struct {
		kopecks int64
		want    string
	}{{144800, "1448"}, {144850, "1448.50"}, {5, "0.05"}, {0, "0"}} {
		if got := ozon.FormatPrice(tc.kopecks); got != tc.want {
			t.Errorf("FormatPrice(%d) = %q, want %q", tc.kopecks, got, tc.want)
		}
	}
}

func TestValidateOfferID(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"PH11042", true},
		{"SK-58（深红色）", true},
		{"КР-7/2", true},
		{"", false},
		{" A", false},
		{"A\t", false},
		{"A\x01B", false},
		{"\xff", false},
		{"12345678901234567890123456789012345678901234567890", true},
		{"123456789012345678901234567890123456789012345678901", false},
		{"ЯЯЯЯЯЯЯЯЯЯЯЯЯЯЯЯЯЯЯЯЯЯЯЯЯЯЯЯЯЯЯЯЯЯЯЯЯЯЯЯЯЯЯЯЯЯЯЯЯЯ", true},
	} {
		err := ozon.ValidateOfferID(tc.id)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateOfferID(%q) = %v, want ok=%v", tc.id, err, tc.ok)
		}
	}
	for _, tc := range []struct {
		id string
		ok bool
	}{{"22142605386000", true}, {"0", false}, {"-1", false}, {"main", false}, {"", false}} {
		_, err := ozon.ParseWarehouseID(tc.id)
		if (err == nil) != tc.ok {
			t.Errorf("ParseWarehouseID(%q) = %v, want ok=%v", tc.id, err, tc.ok)
		}
	}
}

func TestNewRejectsUnsafeOptions(t *testing.T) {
	base := ozon.Options{BaseURL: "http://x", ClientID: "1", APIKey: "k", Now: time.Now,
		OrderWindowBack: time.Hour, OrderWindowAhead: time.Hour, StockCooldown: time.Second}
	noHTTP := base
	if _, err := ozon.New(noHTTP); err == nil {
		t.Error("New accepted no HTTP client")
	}
	noTimeout := base
	noTimeout.HTTP = &httpClientNoTimeout
	if _, err := ozon.New(noTimeout); err == nil {
		t.Error("New accepted an HTTP client without timeout")
	}
}
