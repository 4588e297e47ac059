package feeds

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"stockd/adapters/marketsim"
	"stockd/adapters/wildberries"
	"stockd/reservation"
)

// perWarehousePusher answers as an adapter that sends one request per
// warehouse and checks items before sending: a qty over 100 is rejected
// without being sent, warehouse "2"'s request is refused as a whole (400),
// and what follows it is not sent.
type perWarehousePusher struct {
	mu      sync.Mutex
	applied map[string]int64
}

func (f *perWarehousePusher) MaxStockBatch() int { return 10 }

func (f *perWarehousePusher) PushStocks(_ context.Context, ups []marketsim.StockUpdate) ([]marketsim.ItemResult, error) {
	res := make([]marketsim.ItemResult, len(ups))
	byWh := map[string][]int{}
	var order []string
	for i, u := range ups {
		res[i] = marketsim.ItemResult{OfferID: u.OfferID, WarehouseID: u.WarehouseID}
		if u.Qty > 100 {
			res[i].Status, res[i].Code = marketsim.ItemRejected, "INVALID_QTY"
			continue
		}
		if _, ok := byWh[u.WarehouseID]; !ok {
			order = append(order, u.WarehouseID)
		}
		byWh[u.WarehouseID] = append(byWh[u.WarehouseID], i)
	}
	for n, wh := range order {
		if wh == "2" {
			err := &marketsim.APIError{Marketplace: "fake", StatusCode: 400, Err: marketsim.ErrInvalid, Message: "bad"}
			for _, w := range order[n:] {
				for _, i := range byWh[w] {
					marketsim.MarkNotSent(&res[i], err)
				}
			}
			return res, err
		}
		f.mu.Lock()
		for _, i := range byWh[wh] {
			res[i].Status = marketsim.ItemOK
			f.applied[ups[i].OfferID+"@"+wh] = ups[i].Qty
		}
		f.mu.Unlock()
	}
	return res, nil
}

// TestRefusedRequestSettlesEachItemByItsOwnResult: a batch where one
// item is rejected before sending, one warehouse's request succeeds and
// the next is refused as invalid: the sent items are settled by their own
// results (the applied ones acknowledged at their own quantities, the
// rejected one quarantined, never acknowledged), and the refused
// warehouse's item is isolated and quarantined.
func TestRefusedRequestSettlesEachItemByItsOwnResult(t *testing.T) {
	fp := &perWarehousePusher{applied: map[string]int64{}}
	cfg := ChannelConfig{Name: "ch", Kind: KindYandexMarket,
		Account:    AccountConfig{APIKey: SecretRef{Env: "X"}, BusinessID: 1, CampaignID: 1, StockMethod: "warehouse"},
		Warehouses: []TargetConfig{{ID: "1", Sources: []string{"w1"}}, {ID: "2", Sources: []string{"w2"}}}}
	ledger := newFakeLedger()
	changes := []reservation.ChannelChange{ledger.setQty("A", "ch@1", 5), ledger.setQty("B", "ch@2", 6),
		ledger.setQty("C", "ch@1", 7), ledger.setQty("X", "ch@1", 500)}
	var mu sync.Mutex
	var acked []string
	h, err := New(context.Background(), Config{
		Channels: []Channel{{Config: cfg, Offers: IdentityMapping(KindYandexMarket), Stock: fp}},
		Source:   ledger, Acks: openFileAcks(t, t.TempDir()), Now: time.Now, Seed: 1, ItemRetry: time.Hour,
		Acked: func(e AckEvent) {
			mu.Lock()
			acked = append(acked, fmt.Sprintf("%s@%s=%d", e.Offer, e.Warehouse, e.Qty))
			mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer closeHub(t, h)
	h.OnChanges(changes, nil, time.Now())
	st := settle(t, h, "ch", 10*time.Second)
	mu.Lock()
	slices.Sort(acked)
	got := fmt.Sprint(acked)
	mu.Unlock()
	if want := "[A@1=5 C@1=7]"; got != want {
		t.Fatalf("acknowledged %s, want %s", got, want)
	}
	q, err := h.Quarantined("ch")
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]string{}
	for _, x := range q {
		codes[x.Offer+"@"+x.Warehouse] = x.Code
	}
	if len(codes) != 2 || codes["X@1"] != "INVALID_QTY" {
		t.Fatalf("quarantined %v, want X@1 (INVALID_QTY) and B@2", codes)
	}
	if _, ok := codes["B@2"]; !ok {
		t.Fatalf("quarantined %v, want B@2 too", codes)
	}
	if st.Stock.Retries != 0 {
		t.Fatalf("%d retries: an applied item was put back in the queue", st.Stock.Retries)
	}
}

// fakeWBStocks answers Wildberries' stock PUT: refuse writes its 409 when
// the request holds the bad size, else 204 and the amounts are kept.
type fakeWBStocks struct {
	bad    string
	refuse func(w http.ResponseWriter, chrt, amount int64)
	mu     sync.Mutex
	got    map[string]int64
}

func (s *fakeWBStocks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Stocks []struct {
			ChrtID int64 `json:"chrtId"`
			Amount int64 `json:"amount"`
		} `json:"stocks"`
	}
	if r.Method != http.MethodPut || json.NewDecoder(r.Body).Decode(&body) != nil {
		http.Error(w, `{"title":"bad request"}`, http.StatusBadRequest)
		return
	}
	for _, st := range body.Stocks {
		if strconv.FormatInt(st.ChrtID, 10) == s.bad {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusConflict)
			s.refuse(w, st.ChrtID, st.Amount)
			return
		}
	}
	s.mu.Lock()
	for _, st := range body.Stocks {
		s.got[strconv.FormatInt(st.ChrtID, 10)] = st.Amount
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// pushSizes sends sizes 0..n-1 of a Wildberries channel at stock 10+i to
// srv, waits (at most limit) until the channel settles, and returns its
// quarantine.
func pushSizes(t *testing.T, srv *fakeWBStocks, n int, limit time.Duration) []Quarantined {
	t.Helper()
	led := newFakeLedger()
	h := newHub(t, led, openFileAcks(t, t.TempDir()), wbChannel(t, srv, n))
	defer closeHub(t, h)
	var changes []reservation.ChannelChange
	for i := range n {
		changes = append(changes, led.setQty(sku(i), "wb", int64(10+i)))
	}
	h.OnChanges(changes, nil, time.Now())
	settle(t, h, "wb", limit)
	q, err := h.Quarantined("wb")
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// reached checks that the sizes reached Wildberries at stock 10+i.
func (s *fakeWBStocks) reached(t *testing.T, sizes ...int) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, i := range sizes {
		if got := s.got[offerID(KindWildberries, i)]; got != int64(10+i) {
			t.Errorf("size %s at Wildberries: %d, want %d", offerID(KindWildberries, i), got, 10+i)
		}
	}
}

// unnamedConflict is a 409 whose body names no size.
func unnamedConflict(w http.ResponseWriter, _, _ int64) {
	_, _ = w.Write([]byte(`{"title":"conflict","detail":"the request cannot be applied"}`))
}

// storeProcessing is a 409 StoreIsProcessing naming the size.
func storeProcessing(w http.ResponseWriter, chrt, amount int64) {
	fmt.Fprintf(w, `[{"code":"StoreIsProcessing","message":"retry in a few seconds","data":[{"chrtId":%d,"amount":%d}]}]`, chrt, amount)
}

// TestUnnamedConflictIsolatesTheItem: a 409 that names no item is split
// like an invalid request until the refused item is alone and quarantined;
// the others reach the marketplace instead of being retried with it
// forever.
func TestUnnamedConflictIsolatesTheItem(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &fakeWBStocks{bad: offerID(KindWildberries, 2), refuse: unnamedConflict, got: map[string]int64{}}
		q := pushSizes(t, srv, 4, 5*time.Minute)
		if len(q) != 1 || q[0].Offer != offerID(KindWildberries, 2) {
			t.Fatalf("quarantine %+v, want only %s", q, offerID(KindWildberries, 2))
		}
		srv.reached(t, 0, 1, 3)
	})
}

// TestHeldBackNeighboursAreNotGivenUp: sizes held back because another in
// their request was refused (BATCH_REJECTED) do not count toward giving
// up: only the refused size is quarantined after MaxItemAttempts, and the
// others reach Wildberries.
func TestHeldBackNeighboursAreNotGivenUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &fakeWBStocks{bad: offerID(KindWildberries, 0), refuse: storeProcessing, got: map[string]int64{}}
		q := pushSizes(t, srv, 3, 30*time.Minute)
		if len(q) != 1 || q[0].Offer != offerID(KindWildberries, 0) || q[0].Code != wildberries.CodeStoreIsProcessing {
			t.Fatalf("quarantine %+v, want only %s (StoreIsProcessing)", q, offerID(KindWildberries, 0))
		}
		srv.reached(t, 1, 2)
	})
}

// TestMarksLostToAFullSetAreSentAfterAll: with room for 4 pending keys,
// 10 changes at once lose 6 marks; once the set drains the channel is
// resynced whole and every offer reaches the marketplace.
func TestMarksLostToAFullSetAreSentAfterAll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 10
		sim := newOzonSim(true)
		led := newFakeLedger()
		skus := func(yield func(string) bool) {
			for i := range n {
				if !yield(sku(i)) {
					return
				}
			}
		}
		h, err := New(context.Background(), Config{Channels: []Channel{ozonChannel(t, sim, n, nil)}, Source: led,
			Acks: openFileAcks(t, t.TempDir()), Now: time.Now, Seed: 1, MaxDirtyOffers: 4, SKUs: skus})
		if err != nil {
			t.Fatal(err)
		}
		defer closeHub(t, h)
		var changes []reservation.ChannelChange
		for i := range n {
			changes = append(changes, led.setQty(sku(i), "ozon", int64(20+i)))
		}
		h.OnChanges(changes, nil, time.Now())
		if st, _ := h.Stats("ozon"); st.Dropped == 0 {
			t.Fatal("no mark was lost: the set is not full")
		}
		deadline := time.Now().Add(10 * time.Minute)
		for {
			all := true
			for i := range n {
				if got, _ := sim.Stock(offerID(KindOzon, i), ozonWH); got != int64(20+i) {
					all = false
				}
			}
			if all {
				break
			}
			if time.Now().After(deadline) {
				st, _ := h.Stats("ozon")
				t.Fatalf("not every offer reached Ozon within 10 minutes: %+v", st)
			}
			time.Sleep(time.Second)
		}
	})
}
