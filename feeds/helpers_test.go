package feeds

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"stockd/adapters/marketsim"
	"stockd/adapters/ozon"
	"stockd/adapters/ozon/ozonsim"
	"stockd/adapters/wildberries"
	"stockd/adapters/wildberries/wbsim"
	"stockd/adapters/yandexmarket"
	"stockd/adapters/yandexmarket/ymsim"
	"stockd/feeds/ackstore"
	"stockd/reservation"
)

// fakeLedger is the Source of the tests: channel quantities per (sku,
// view) and prices per (sku, price type), changed by the test, which then
// reports the change to the hub as the engine would.
type fakeLedger struct {
	mu     sync.Mutex
	qty    map[[2]string]int64
	prices map[[2]string]reservation.Price
	reads  int
}

func newFakeLedger() *fakeLedger {
	return &fakeLedger{qty: map[[2]string]int64{}, prices: map[[2]string]reservation.Price{}}
}

func (l *fakeLedger) ChannelQty(sku, view string) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reads++
	return l.qty[[2]string{sku, view}], nil
}

func (l *fakeLedger) Price(sku, priceType string) (reservation.Price, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p, ok := l.prices[[2]string{sku, priceType}]
	return p, ok
}

// setQty changes the ledger and returns the change to report.
func (l *fakeLedger) setQty(sku, view string, qty int64) reservation.ChannelChange {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.qty[[2]string{sku, view}] = qty
	return reservation.ChannelChange{SKU: sku, Channel: view, Qty: qty}
}

func (l *fakeLedger) setPrice(sku, priceType, amount string) reservation.PriceChange {
	d, err := reservation.ParseDecimal(amount)
	if err != nil {
		panic(err)
	}
	p := reservation.Price{Amount: d, Currency: "RUB"}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.prices[[2]string{sku, priceType}] = p
	return reservation.PriceChange{SKU: sku, PriceType: priceType, Price: p}
}

// recorder counts the requests a simulator gets, by path, and keeps the
// bodies of the paths asked for.
type recorder struct {
	next http.Handler
	keep string // path prefix whose bodies are kept

	mu     sync.Mutex
	counts map[string]int
	bodies [][]byte
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	req.Body = io.NopCloser(bytes.NewReader(body))
	r.mu.Lock()
	if r.counts == nil {
		r.counts = map[string]int{}
	}
	r.counts[req.URL.Path]++
	if r.keep != "" && strings.HasPrefix(req.URL.Path, r.keep) {
		r.bodies = append(r.bodies, body)
	}
	r.mu.Unlock()
	r.next.ServeHTTP(w, req)
}

func (r *recorder) count(path string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts[path]
}

func (r *recorder) kept() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.bodies)
}

func httpTo(h http.Handler) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: marketsim.HandlerTransport{Handler: h}}
}

const (
	ozonWH = "22142605386000"
	wbWH   = "507"
)

// ozonChannel makes an Ozon channel over sim with the real limiters; the
// mapping is sku-N → OF-N for n offers.
func ozonChannel(tb testing.TB, sim http.Handler, n int, mutate func(*ChannelConfig)) Channel {
	tb.Helper()
	cfg := ChannelConfig{Name: "ozon", Kind: KindOzon, Warehouses: []TargetConfig{{ID: ozonWH}},
		Offers: MappingConfig{File: "ozon.csv"}, Stock: DefaultStockPolicy(),
		Price:   &PricePolicy{PriceType: "retail", MaxChangePct: 50},
		Account: AccountConfig{ClientID: SecretRef{Env: "X"}, APIKey: SecretRef{Env: "Y"}}}
	if mutate != nil {
		mutate(&cfg)
	}
	lim, err := ozon.NewLimiters(0.9, time.Now)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := ozon.New(ozon.Options{BaseURL: "http://ozon.invalid", ClientID: "123", APIKey: "key", HTTP: httpTo(sim),
		Limiters: lim, Now: time.Now, OrderWindowBack: time.Hour, OrderWindowAhead: time.Hour, StockCooldown: ozon.StockCooldown})
	if err != nil {
		tb.Fatal(err)
	}
	return Channel{Config: cfg, Offers: mapping(tb, KindOzon, n), Stock: c, Price: c, Reader: c,
		StockCooldown: ozon.StockCooldown, PriceCooldown: time.Hour / ozon.PriceChangesPerHour,
		Limiters: named("ozon.global", lim.Global, "ozon.stocks", lim.Stocks)}
}

func newOzonSim(auto bool) *ozonsim.Sim {
	cfg := ozonsim.DefaultConfig("123", "key")
	cfg.AutoCreateOffers = auto
	return ozonsim.New(cfg)
}

func wbChannel(tb testing.TB, sim http.Handler, n int) Channel {
	tb.Helper()
	cfg := ChannelConfig{Name: "wb", Kind: KindWildberries, Warehouses: []TargetConfig{{ID: wbWH}},
		Offers: MappingConfig{File: "wb.csv"}, Stock: DefaultStockPolicy(),
		Price:   &PricePolicy{PriceType: "retail", Round: Rounding{Mode: RoundUp, Step: 100}},
		Account: AccountConfig{Token: SecretRef{Env: "T"}}}
	lim, err := wildberries.NewLimiters(0.9, time.Now)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := wildberries.New(wildberries.Options{MarketplaceURL: "http://wb.invalid", PricesURL: "http://wbp.invalid",
		Token: "token", HTTP: httpTo(sim), Limiters: lim, Now: time.Now})
	if err != nil {
		tb.Fatal(err)
	}
	return Channel{Config: cfg, Offers: mapping(tb, KindWildberries, n), Stock: c, Price: c, Reader: c, Tasks: c,
		Limiters: named("wildberries.stocks", lim.Stocks, "wildberries.prices", lim.Prices)}
}

func newWBSim(n int) *wbsim.Sim {
	return newWBSimWith(n, nil)
}

func newWBSimWith(n int, mutate func(*wbsim.Config)) *wbsim.Sim {
	cfg := wbsim.DefaultConfig("token")
	if mutate != nil {
		mutate(&cfg)
	}
	sim := wbsim.New(cfg)
	for i := range n {
		sim.AddProduct(int64(500000+i), fmt.Sprintf("V-%d", i), int64(100000+i))
	}
	return sim
}

func ymChannel(tb testing.TB, sim http.Handler, n int) Channel {
	tb.Helper()
	cfg := ChannelConfig{Name: "ym", Kind: KindYandexMarket, Warehouses: []TargetConfig{{}},
		Offers: MappingConfig{File: "ym.csv"}, Stock: DefaultStockPolicy(),
		Price:   &PricePolicy{PriceType: "retail"},
		Account: AccountConfig{APIKey: SecretRef{Env: "K"}, BusinessID: 10, CampaignID: 20}}
	lim, err := yandexmarket.NewLimiters(0.9, time.Now)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := yandexmarket.New(yandexmarket.Options{BaseURL: "http://ym.invalid", APIKey: "ACMA:key", BusinessID: 10,
		CampaignID: 20, StockMethod: yandexmarket.StockByCampaign, MaxInFlight: yandexmarket.DefaultMaxInFlight,
		HTTP: httpTo(sim), Limiters: lim, Now: time.Now})
	if err != nil {
		tb.Fatal(err)
	}
	return Channel{Config: cfg, Offers: mapping(tb, KindYandexMarket, n), Stock: c, Price: c, Reader: c,
		Limiters: named("yandexmarket.stock_offers", lim.StockOffers, "yandexmarket.price_offers", lim.PriceOffers)}
}

func newYMSim(auto bool) *ymsim.Sim {
	cfg := ymsim.DefaultConfig("ACMA:key", 10, 20)
	cfg.AutoCreateOffers = auto
	return ymsim.New(cfg)
}

// offerID is the marketplace key of sku-i.
func offerID(kind Kind, i int) string {
	switch kind {
	case KindWildberries:
		return fmt.Sprint(100000 + i) // chrtId; nmID is 500000+i
	case KindYandexMarket:
		return fmt.Sprintf("КР-%d/2", i)
	}
	return fmt.Sprintf("OF-%d", i)
}

func sku(i int) string { return fmt.Sprintf("sku-%d", i) }

func mapping(tb testing.TB, kind Kind, n int) *Mapping {
	tb.Helper()
	var b strings.Builder
	if kind == KindWildberries {
		b.WriteString("sku,chrt_id,nm_id\n")
		for i := range n {
			fmt.Fprintf(&b, "%s,%d,%d\n", sku(i), 100000+i, 500000+i)
		}
	} else {
		b.WriteString("sku,offer_id\n")
		for i := range n {
			fmt.Fprintf(&b, "%s,%s\n", sku(i), offerID(kind, i))
		}
	}
	m, err := ParseMapping(kind, "offers.csv", []byte(b.String()))
	if err != nil || len(m.Bad) > 0 {
		tb.Fatalf("mapping: %v %v", err, m.Bad)
	}
	return m
}

func openFileAcks(tb testing.TB, dir string) *ackstore.File {
	tb.Helper()
	st, err := ackstore.OpenFile(ackstore.FileConfig{Path: filepath.Join(dir, "acks.log")})
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

func newHub(tb testing.TB, src Source, acks ackstore.Store, chs ...Channel) *Hub {
	tb.Helper()
	h, err := New(context.Background(), Config{Channels: chs, Source: src, Acks: acks, Now: time.Now, Seed: 1})
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

func closeHub(tb testing.TB, h *Hub) {
	tb.Helper()
	if err := h.Close(context.Background()); err != nil {
		tb.Fatal(err)
	}
}

// settle waits (virtual time) until the channel has nothing pending or in
// flight, for at most limit.
func settle(tb testing.TB, h *Hub, channel string, limit time.Duration) Stats {
	tb.Helper()
	deadline := time.Now().Add(limit)
	for {
		s, err := h.Stats(channel)
		if err != nil {
			tb.Fatal(err)
		}
		if unsettled(s) == 0 {
			return s
		}
		if time.Now().After(deadline) {
			tb.Fatalf("channel %s not settled after %v: %+v", channel, limit, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func noViolations(tb testing.TB, name string, v map[string]int64) {
	tb.Helper()
	if len(v) != 0 {
		tb.Fatalf("%s violations %v, want none", name, v)
	}
}

// unsettled counts a channel's keys pending, in flight or awaiting an
// upload's verdict.
func unsettled(s Stats) int {
	return s.Stock.Pending + s.Stock.InFlight + s.Price.Pending + s.Price.InFlight + s.Price.AwaitingVerdict
}
