package wildberries_test

import (
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"stockd/adapters/marketsim"
	"stockd/adapters/wildberries"
	"stockd/adapters/wildberries/wbsim"
)

func TestWBPrice(t *testing.T) {
	for _, tc := range []struct {
		price, old        int64
		wbPrice, discount int64
		wantErr           bool
	}{
		{price: 999_00, old: 0, wbPrice: 999, discount: 0},
		{price: 700_00, old: 1000_00, wbPrice: 1000, discount: 30},
		{price: 999_00, old: 1000_00, wbPrice: 1000, discount: 0},
		{price: 1_00, old: 1000_00, wbPrice: 1000, discount: 99},
		{price: 999_50, old: 0, wantErr: true},
		{price: 0, old: 0, wantErr: true},
		{price: 500_00, old: 400_00, wbPrice: 500, discount: 0},
	} {
		p, d, err := wildberries.WBPrice(tc.price, tc.old)
		if (err != nil) != tc.wantErr || (!tc.wantErr && (p != tc.wbPrice || d != tc.discount)) {
			t.Errorf("WBPrice(%d, %d) = %d, %d, %v; want %d, %d, err=%v",
				tc.price, tc.old, p, d, err, tc.wbPrice, tc.discount, tc.wantErr)
		}
	}
}

func TestPushPricesAsyncTask(t *testing.T) {
	e := newEnv(t, envOpt{sim: func(c *wbsim.Config) { c.TaskDelay = 30 * time.Second }})
	e.sim.AddProduct(111, "A", 1001)
	e.sim.AddProduct(222, "B", 2001)
	updates := []marketsim.PriceUpdate{
		{OfferID: "111", Price: 700_00, OldPrice: 1000_00, Currency: "RUB"},
		{OfferID: "222", Price: 500_00, Currency: "RUB"},
	}
	res, err := e.client.PushPrices(t.Context(), updates)
	if err != nil {
		t.Fatal(err)
	}
	task := res[0].TaskID
	for i, r := range res {
		if r.Status != marketsim.ItemAccepted || r.TaskID != task || task == "" {
			t.Fatalf("item %d: %+v, want accepted in one task", i, r)
		}
	}
	// The same upload while the first is processed: 208, the same task.
	res, err = e.client.PushPrices(t.Context(), updates)
	if err != nil || res[0].Status != marketsim.ItemAccepted || res[0].TaskID != task {
		t.Fatalf("duplicate upload: %+v, %v; want task %s again", res, err, task)
	}
	done, _, err := e.client.PriceTask(t.Context(), task)
	if err != nil || done {
		t.Fatalf("PriceTask while processing: done=%v, %v", done, err)
	}
	if _, ok := e.sim.Price("111"); ok {
		t.Fatal("price applied before the task was processed")
	}
	e.clock.Advance(31 * time.Second)
	done, refused, err := e.client.PriceTask(t.Context(), task)
	if err != nil || !done || len(refused) != 0 {
		t.Fatalf("PriceTask after processing: done=%v, refused %+v, %v; want done, none refused", done, refused, err)
	}
	if p, ok := e.sim.Price("111"); !ok || p.Price != 1000 || p.Discount != 30 {
		t.Fatalf("sim price %+v", p)
	}
	// Unchanged values: WB answers 400 "already set"; that is success.
	res, err = e.client.PushPrices(t.Context(), updates)
	if err != nil || res[0].Status != marketsim.ItemOK || res[1].Status != marketsim.ItemOK {
		t.Fatalf("unchanged prices: %+v, %v; want ok", res, err)
	}
	if _, _, err := e.client.PriceTask(t.Context(), "999"); !errors.Is(err, wildberries.ErrUnknownTask) {
		t.Fatalf("unknown task: %v", err)
	}
}

func TestPriceQuarantineIsPerItem(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.sim.AddProduct(111, "A", 1001)
	e.sim.AddProduct(222, "B", 2001)
	if _, err := e.client.PushPrices(t.Context(), []marketsim.PriceUpdate{
		{OfferID: "111", Price: 900_00, Currency: "RUB"}, {OfferID: "222", Price: 900_00, Currency: "RUB"},
	}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(10 * time.Second)
	res, err := e.client.PushPrices(t.Context(), []marketsim.PriceUpdate{
		{OfferID: "111", Price: 300_00, Currency: "RUB"}, // three times lower
		{OfferID: "222", Price: 800_00, Currency: "RUB"},
	})
	if err != nil {
		t.Fatal(err)
	}
	done, refused, err := e.client.PriceTask(t.Context(), res[0].TaskID)
	if err != nil || !done {
		t.Fatalf("task: %v, %v", done, err)
	}
	if len(refused) != 1 || refused[0].OfferID != "111" || refused[0].Status != marketsim.ItemRejected ||
		refused[0].Message != wbsim.QuarantineText {
		t.Fatalf("refused %+v, want only 111 in price quarantine", refused)
	}
	if p, _ := e.sim.Price("222"); p.Price != 800 {
		t.Fatalf("price of 222 %+v, want 800 set", p)
	}
	if p, _ := e.sim.Price("111"); p.Price != 900 {
		t.Fatalf("quarantined price applied: %+v", p)
	}
}

// PriceTask costs one request for an upload WB set whole and reads the
// goods (a page per 1000) only for one with errors, returning the refused
// goods alone.
func TestPriceTaskReadsGoodsOnlyOnErrors(t *testing.T) {
	e := newEnv(t, envOpt{sim: func(c *wbsim.Config) { c.AutoCreateSizes = true }})
	e.sim.RefusePrices("Item is blocked", 100007)
	updates := make([]marketsim.PriceUpdate, wildberries.MaxPriceBatch+500)
	for i := range updates {
		updates[i] = marketsim.PriceUpdate{OfferID: strconv.Itoa(100000 + i), Price: 500_00, Currency: "RUB"}
	}
	res, err := e.client.PushPrices(t.Context(), updates)
	if err != nil {
		t.Fatal(err)
	}
	first, second := res[0].TaskID, res[len(res)-1].TaskID
	if first == second {
		t.Fatalf("one task %s for %d goods, want two uploads", first, len(updates))
	}
	e.clock.Advance(10 * time.Second) // the limit: 10 requests per 6 s
	before := e.requests.Load()
	done, refused, err := e.client.PriceTask(t.Context(), second)
	if err != nil || !done || len(refused) != 0 {
		t.Fatalf("task %s: done=%v refused=%+v %v", second, done, refused, err)
	}
	if got := e.requests.Load() - before; got != 1 {
		t.Fatalf("%d requests for an upload set whole, want 1", got)
	}
	before = e.requests.Load()
	done, refused, err = e.client.PriceTask(t.Context(), first)
	if err != nil || !done {
		t.Fatalf("task %s: done=%v %v", first, done, err)
	}
	if len(refused) != 1 || refused[0].OfferID != "100007" || refused[0].Message != "Item is blocked" {
		t.Fatalf("refused %+v, want only 100007", refused)
	}
	if got := e.requests.Load() - before; got != 2 {
		t.Fatalf("%d requests for 1000 goods with an error, want 2 (status and one page)", got)
	}
	if v := e.sim.Violations(); len(v) != 0 {
		t.Fatalf("violations %v", v)
	}
}

func TestPushPricesRejectsBeforeSending(t *testing.T) {
	e := newEnv(t, envOpt{})
	res, err := e.client.PushPrices(t.Context(), []marketsim.PriceUpdate{
		{OfferID: "vendor-1", Price: 100_00}, {OfferID: "111", Price: 100_50},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Code != wildberries.CodeInvalidID || res[1].Code != wildberries.CodeInvalidPrice || e.requests.Load() != 0 {
		t.Fatalf("results %+v after %d requests", res, e.requests.Load())
	}
}

func TestOrdersPlacedServedCancelled(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.sim.AddProduct(111, "A", 1001)
	ids, err := e.sim.PlaceOrder(whA, marketsim.OrderLine{OfferID: "1001", Qty: 2})
	if err != nil || len(ids) != 2 {
		t.Fatalf("PlaceOrder: %v, %v; want one task per unit", ids, err)
	}
	orders, err := e.client.NewOrders(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(orders) != 2 {
		t.Fatalf("%d new orders, want 2", len(orders))
	}
	o := orders[0]
	if o.ID != ids[0] || o.WarehouseID != whA || o.State != marketsim.OrderAwaiting || !o.CreatedAt.Equal(epoch) ||
		!slices.Equal(o.Lines, []marketsim.OrderLine{{OfferID: "1001", Qty: 1}}) {
		t.Fatalf("order %+v", o)
	}
	e.sim.CancelOrder(ids[1])
	e.sim.ShipOrder(ids[0])
	if orders, err = e.client.NewOrders(t.Context()); err != nil || len(orders) != 0 {
		t.Fatalf("after cancel and ship: %+v, %v", orders, err)
	}
	states, err := e.client.OrderStatuses(t.Context(), []string{ids[0], ids[1], "77", "not-a-number"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]marketsim.OrderState{}
	for _, s := range states {
		got[s.ID] = s.State
	}
	if len(got) != 2 || got[ids[0]] != marketsim.OrderShipped || got[ids[1]] != marketsim.OrderCancelled {
		t.Fatalf("states %v", got)
	}
}

func TestDemandGeneratesAndCancels(t *testing.T) {
	e := newEnv(t, envOpt{sim: func(c *wbsim.Config) {
		c.Demand = marketsim.Demand{PerMinute: 20, MaxQty: 2, CancelShare: 0.25, CancelAfter: 5 * time.Minute, Seed: 3,
			Offers: []marketsim.DemandOffer{{OfferID: "1001", WarehouseID: whA}, {OfferID: "2001", WarehouseID: whB}}}
	}})
	e.clock.Advance(30 * time.Minute)
	tasks := e.sim.Orders()
	cancelled := 0
	for _, tk := range tasks {
		if tk.WBStatus == "canceled_by_client" {
			cancelled++
		}
	}
	if len(tasks) < 500 || cancelled == 0 || cancelled > len(tasks)/2 {
		t.Fatalf("%d tasks, %d cancelled", len(tasks), cancelled)
	}
	orders, err := e.client.NewOrders(t.Context())
	if err != nil || len(orders) != len(tasks)-cancelled {
		t.Fatalf("%d new orders (%v), want %d", len(orders), err, len(tasks)-cancelled)
	}
}

func TestReadStocks(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.sim.AddProduct(111, "A", 1001, 1002)
	if _, err := e.client.PushStocks(t.Context(), []marketsim.StockUpdate{stock(1001, whA, 4), stock(1002, whB, 9)}); err != nil {
		t.Fatal(err)
	}
	levels, err := e.client.ReadStocks(t.Context(), []marketsim.StockKey{
		{OfferID: "1001", WarehouseID: whA}, {OfferID: "1002", WarehouseID: whB}, {OfferID: "1002", WarehouseID: whA}})
	if err != nil {
		t.Fatal(err)
	}
	want := []marketsim.StockLevel{{OfferID: "1001", WarehouseID: whA, Qty: 4}, {OfferID: "1002", WarehouseID: whB, Qty: 9}}
	if !slices.Equal(levels, want) {
		t.Fatalf("levels %+v, want %+v", levels, want)
	}
}

func TestStateOf(t *testing.T) {
	for _, tc := range []struct {
		supplier, wb string
		want         marketsim.OrderState
	}{
		{"new", "waiting", marketsim.OrderAwaiting},
		{"confirm", "waiting", marketsim.OrderAwaiting},
		{"complete", "sorted", marketsim.OrderShipped},
		{"new", "canceled_by_client", marketsim.OrderCancelled},
		{"cancel", "canceled", marketsim.OrderCancelled},
		{"new", "mystery", marketsim.OrderOther},
	} {
		if got := wildberries.StateOf(tc.supplier, tc.wb); got != tc.want {
			t.Errorf("StateOf(%q, %q) = %v, want %v", tc.supplier, tc.wb, got, tc.want)
		}
	}
}
