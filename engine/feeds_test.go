package engine

import (
	"fmt"
	"os"
	"testing"
	"time"

	"stockd/adapters/marketsim"
	"stockd/adapters/testsvc"
	"stockd/adapters/yandexmarket/ymsim"
	"stockd/feeds"
)

// mapSecrets resolves feed credentials from a map (the process
// environment in production).
type mapSecrets map[string]string

func (m mapSecrets) LookupEnv(name string) (string, bool) { v, ok := m[name]; return v, ok }
func (m mapSecrets) ReadFile(path string) ([]byte, error) { return os.ReadFile(path) }

// TestEndToEndFromKafkaToMarketplace: a 1C stock figure produced to
// Kafka reaches the Yandex Market simulator's stored stock; a checkout
// hold on the website lowers what the marketplace shows.
func TestEndToEndFromKafkaToMarketplace(t *testing.T) {
	topics := uniqueTopics(t)
	cfg := testConfig(t.TempDir())
	cfg.Kafka = topics
	cfg.Kafka.Brokers = testsvc.Kfake(t, 4, topics.EventsTopic, topics.DLQTopic)
	cfg.Channels = append(cfg.Channels[:1], ChannelConfig{Name: "ym", Kind: ChannelYandexMarket,
		Warehouses: []string{"wh-msk"}, Strategy: "priority"})
	cfg.Feeds = []feeds.ChannelConfig{{Name: "ym", Kind: feeds.KindYandexMarket, Warehouses: []feeds.TargetConfig{{}},
		Stock:   feeds.StockPolicy{Percent: 100, Buffer: 1},
		Account: feeds.AccountConfig{APIKey: feeds.SecretRef{Env: "YM_KEY"}, BusinessID: 10, CampaignID: 20, StockMethod: "campaign"}}}
	simCfg := ymsim.DefaultConfig("ACMA:key", 10, 20)
	simCfg.AutoCreateOffers = true
	sim := ymsim.New(simCfg)
	te := startEngine(t, cfg, Deps{Secrets: mapSecrets{"YM_KEY": "ACMA:key"}, MarketTransport: marketsim.HandlerTransport{Handler: sim}})

	produce(t, cfg.Kafka.Brokers, topics.EventsTopic, stockSetMsg("e1", "sku-e2e", "wh-msk", 8, 1))
	waitStock := func(want int64) {
		t.Helper()
		waitFor(t, fmt.Sprintf("marketplace stock %d", want), 30*time.Second, func() bool {
			got, ok := sim.Stock("sku-e2e", "20") // the campaign method stores per campaign
			return ok && got == want
		})
	}
	waitStock(7) // 8 available, buffer 1
	wantStatus(t, call(t, "POST", te.base+"/v1/reservations", testKey,
		`{"id":"web-1","channel":"site","lines":[{"sku":"sku-e2e","qty":3}]}`), 201, "")
	waitStock(4)
	wantStatus(t, call(t, "POST", te.base+"/v1/reservations/web-1/release", testKey, ""), 200, "")
	waitStock(7)
	if v := sim.Violations(); len(v) != 0 {
		t.Fatalf("simulator counted limit violations: %v", v)
	}
	r := call(t, "GET", te.base+"/v1/channels/ym", testReadKey, "")
	wantStatus(t, r, 200, "")
}

// TestMarketplaceOrderHoldsStock: an order placed on the simulated
// marketplace becomes a confirmed hold (polled), lowers what the website
// can sell, and its cancellation gives the units back.
func TestMarketplaceOrderHoldsStock(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.Channels = append(cfg.Channels[:1], ChannelConfig{Name: "ym", Kind: ChannelYandexMarket,
		Warehouses: []string{"wh-msk"}, Strategy: "priority"})
	cfg.Feeds = []feeds.ChannelConfig{{Name: "ym", Kind: feeds.KindYandexMarket, Warehouses: []feeds.TargetConfig{{}},
		Stock:   feeds.DefaultStockPolicy(),
		Account: feeds.AccountConfig{APIKey: feeds.SecretRef{Env: "YM_KEY"}, BusinessID: 10, CampaignID: 20, StockMethod: "campaign"}}}
	cfg.Orders.PollIntervals = map[string]time.Duration{"ym": time.Second}
	simCfg := ymsim.DefaultConfig("ACMA:key", 10, 20)
	simCfg.AutoCreateOffers = true
	sim := ymsim.New(simCfg)
	te := startEngine(t, cfg, Deps{Secrets: mapSecrets{"YM_KEY": "ACMA:key"}, MarketTransport: marketsim.HandlerTransport{Handler: sim}})
	setStock(t, te.eng, "sku-o", "wh-msk", 5, 1)

	id, err := sim.PlaceOrder("", marketsim.OrderLine{OfferID: "sku-o", Qty: 2})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the order's hold", 20*time.Second, func() bool { return siteAvailable(t, te, "sku-o") == 3 })
	r := call(t, "GET", te.base+"/v1/reservations/yandexmarket:"+id, testKey, "")
	wantStatus(t, r, 200, "")
	if r.body["state"] != "confirmed" || r.body["channel"] != "ym" {
		t.Fatalf("order hold = %v, want confirmed on ym", r.body)
	}
	if !sim.CancelOrder(id) {
		t.Fatal("cancel in the simulator failed")
	}
	waitFor(t, "the cancellation", 20*time.Second, func() bool { return siteAvailable(t, te, "sku-o") == 5 })
}
