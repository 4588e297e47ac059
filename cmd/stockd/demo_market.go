package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"stockd/adapters/marketsim"
	"stockd/adapters/onec/onecsim"
	"stockd/adapters/ozon/ozonsim"
	"stockd/adapters/wildberries/wbsim"
	"stockd/adapters/yandexmarket/ymsim"
	"stockd/feeds"
)

// Demo marketplace accounts: the simulators accept these, the feeds
// resolve them through demoSecrets (no real credentials anywhere).
const (
	demoOzonWarehouse = "22142605386000"
	demoWBWarehouse   = "507"
	demoYMBusiness    = 10
	demoYMCampaign    = 20
)

// demoMarkets are the three simulated marketplaces of `stockd demo`,
// each an HTTP server on 127.0.0.1 speaking the real API's paths, bodies,
// auth and limits.
type demoMarkets struct {
	ozon, wb, ym   *marketsim.Server
	ozonSim        *ozonsim.Sim
	wbSim          *wbsim.Sim
	ymSim          *ymsim.Sim
	secrets        demoSecrets
	ozonMap, wbMap string
}

// demoSecrets hands the demo's credentials to the feeds.
type demoSecrets map[string]string

func (s demoSecrets) LookupEnv(name string) (string, bool) { v, ok := s[name]; return v, ok }
func (s demoSecrets) ReadFile(path string) ([]byte, error) { return os.ReadFile(path) }

// Simulated buyers of each demo marketplace: orders of 1..demoMaxLines lines
// of 1..demoMaxQty units over the first demoOrderSKUs SKUs, a share
// cancelled within demoCancelAfter.
const (
	demoOrderSKUs    = 200
	demoMaxLines     = 2
	demoMaxQty       = 2
	demoCancelShare  = 0.1
	demoCancelAfter  = 2 * time.Minute
	demoPollInterval = 5 * time.Second // the intake's poll of each marketplace
)

// demoDemand is the buyers of one marketplace: offer(i) is the
// marketplace's id of SKU i, shipped from warehouse.
func demoDemand(perMinute float64, skus int, warehouse string, offer func(i int) string, seed uint64) marketsim.Demand {
	d := marketsim.Demand{PerMinute: perMinute, MaxLines: demoMaxLines, MaxQty: demoMaxQty,
		CancelShare: demoCancelShare, CancelAfter: demoCancelAfter, Seed: seed}
	for i := range min(skus, demoOrderSKUs) {
		d.Offers = append(d.Offers, marketsim.DemandOffer{OfferID: offer(i), WarehouseID: warehouse})
	}
	return d
}

func startDemoMarkets(dir string, skus int, ordersPerMinute float64) (*demoMarkets, error) {
	m := &demoMarkets{secrets: demoSecrets{"OZON_CLIENT_ID": "1001", "OZON_API_KEY": "demo-ozon-key",
		"WB_TOKEN": "demo-wb-token", "YM_API_KEY": "ACMA:demo-ym-key"}}
	seed := uint64(time.Now().UnixNano())
	oc := ozonsim.DefaultConfig("1001", "demo-ozon-key")
	oc.AutoCreateOffers = true
	oc.Demand = demoDemand(ordersPerMinute, skus, demoOzonWarehouse, onecsim.SKU, seed)
	m.ozonSim = ozonsim.New(oc)
	wc := wbsim.DefaultConfig("demo-wb-token")
	wc.AutoCreateSizes = true
	wc.Demand = demoDemand(ordersPerMinute, skus, demoWBWarehouse, func(i int) string { return strconv.Itoa(100000 + i) }, seed+1)
	m.wbSim = wbsim.New(wc)
	yc := ymsim.DefaultConfig("ACMA:demo-ym-key", demoYMBusiness, demoYMCampaign)
	yc.AutoCreateOffers = true
	yc.Demand = demoDemand(ordersPerMinute, skus, strconv.Itoa(demoYMCampaign), onecsim.SKU, seed+2)
	m.ymSim = ymsim.New(yc)
	var err error
	if m.ozon, err = marketsim.StartLocal(m.ozonSim); err != nil {
		return nil, err
	}
	if m.wb, err = marketsim.StartLocal(m.wbSim); err != nil {
		m.close(context.Background())
		return nil, err
	}
	if m.ym, err = marketsim.StartLocal(m.ymSim); err != nil {
		m.close(context.Background())
		return nil, err
	}
	if err := m.writeMappings(dir, skus); err != nil {
		m.close(context.Background())
		return nil, err
	}
	return m, nil
}

// writeMappings writes the offer mapping files: Ozon offer ids are the
// SKUs; Wildberries sizes are numbered (chrtId 100000+i, card 500000+i).
func (m *demoMarkets) writeMappings(dir string, skus int) error {
	var ozon, wb strings.Builder
	ozon.WriteString("sku,offer_id\n")
	wb.WriteString("sku,chrt_id,nm_id\n")
	for i := range skus {
		fmt.Fprintf(&ozon, "%s,%s\n", onecsim.SKU(i), onecsim.SKU(i))
		fmt.Fprintf(&wb, "%s,%d,%d\n", onecsim.SKU(i), 100000+i, 500000+i)
	}
	m.ozonMap, m.wbMap = filepath.Join(dir, "ozon-offers.csv"), filepath.Join(dir, "wb-offers.csv")
	return errors.Join(os.WriteFile(m.ozonMap, []byte(ozon.String()), 0o600),
		os.WriteFile(m.wbMap, []byte(wb.String()), 0o600))
}

// feeds returns the channels that push to the simulators.
func (m *demoMarkets) feeds() []feeds.ChannelConfig {
	stock := feeds.StockPolicy{Percent: 100, Buffer: 1}
	price := &feeds.PricePolicy{PriceType: "retail", MarkupBP: 1000, Round: feeds.Rounding{Mode: feeds.RoundUp, Step: 100}, MaxChangePct: 50}
	return []feeds.ChannelConfig{
		{Name: "ozon", Kind: feeds.KindOzon, Warehouses: []feeds.TargetConfig{{ID: demoOzonWarehouse}},
			Offers: feeds.MappingConfig{File: m.ozonMap}, Stock: stock, Price: price,
			Account: feeds.AccountConfig{BaseURL: m.ozon.URL, ClientID: feeds.SecretRef{Env: "OZON_CLIENT_ID"},
				APIKey: feeds.SecretRef{Env: "OZON_API_KEY"}}},
		{Name: "wildberries", Kind: feeds.KindWildberries, Warehouses: []feeds.TargetConfig{{ID: demoWBWarehouse}},
			Offers: feeds.MappingConfig{File: m.wbMap}, Stock: stock, Price: price,
			Account: feeds.AccountConfig{BaseURL: m.wb.URL, PricesURL: m.wb.URL, Token: feeds.SecretRef{Env: "WB_TOKEN"}}},
		{Name: "yandexmarket", Kind: feeds.KindYandexMarket, Warehouses: []feeds.TargetConfig{{}},
			Stock: stock, Price: price,
			YML: feeds.YMLConfig{Enabled: true, Shop: "stockd demo", Company: "stockd demo", URL: "http://127.0.0.1"},
			Account: feeds.AccountConfig{BaseURL: m.ym.URL, APIKey: feeds.SecretRef{Env: "YM_API_KEY"},
				BusinessID: demoYMBusiness, CampaignID: demoYMCampaign, StockMethod: "campaign"}},
	}
}

// violations sums the limit violations the simulators counted.
func (m *demoMarkets) violations() int64 {
	var n int64
	for _, v := range []map[string]int64{m.ozonSim.Violations(), m.wbSim.Violations(), m.ymSim.Violations()} {
		for _, c := range v {
			n += c
		}
	}
	return n
}

func (m *demoMarkets) close(ctx context.Context) {
	for _, s := range []*marketsim.Server{m.ozon, m.wb, m.ym} {
		if s != nil {
			s.Close(ctx)
		}
	}
}
