package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"stockd/adapters/httpapi"
	"stockd/adapters/marketsim"
	"stockd/adapters/yandexmarket/ymsim"
	"stockd/engine"
	"stockd/feeds"
	"stockd/reservation"
)

type mapSecrets map[string]string

func (m mapSecrets) LookupEnv(name string) (string, bool) { v, ok := m[name]; return v, ok }
func (m mapSecrets) ReadFile(path string) ([]byte, error) { return os.ReadFile(path) }

// startStockdWithMarket runs an engine whose "yandexmarket" channel pushes
// to sim, with sku-1 in stock.
func startStockdWithMarket(tb testing.TB, sim *ymsim.Sim) string {
	tb.Helper()
	cfg := engine.DefaultConfig()
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Journal.Dir = tb.TempDir()
	cfg.Channels = engine.DemoChannels()
	cfg.HTTP.APIKeys = []httpapi.APIKey{{Name: "ctl", SHA256: httpapi.HashToken(ctlKey), Scopes: []httpapi.Scope{httpapi.ScopeAdmin}}}
	cfg.Feeds = []feeds.ChannelConfig{{Name: "yandexmarket", Kind: feeds.KindYandexMarket, Warehouses: []feeds.TargetConfig{{}},
		Stock: feeds.DefaultStockPolicy(), Account: feeds.AccountConfig{APIKey: feeds.SecretRef{Env: "YM_KEY"},
			BusinessID: 10, CampaignID: 20, StockMethod: "campaign"}}}
	eng, err := engine.Open(context.Background(), cfg, engine.Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Secrets: mapSecrets{"YM_KEY": "ACMA:key"}, MarketTransport: marketsim.HandlerTransport{Handler: sim}})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	tb.Cleanup(func() { cancel(); <-done })
	ev := reservation.Event{V: 1, ID: "e1", Source: "t", Seq: 1, At: time.Unix(1_700_000_000, 0), Type: reservation.EventStockSet,
		SKU: "sku-1", Warehouse: "wh-msk", Qty: 9}
	if _, err := eng.ApplyEvents(ctx, []engine.SourcedEvent{{Event: ev}}); err != nil {
		tb.Fatal(err)
	}
	return "http://" + eng.HTTPAddr()
}

// waitOutput runs stockctl until its output contains want (bounded).
func waitOutput(tb testing.TB, base, want string, args ...string) string {
	tb.Helper()
	return waitFor(tb, base, func(out string) bool { return strings.Contains(out, want) }, fmt.Sprintf("%q", want), args...)
}

// waitFor runs stockctl until its output satisfies ok (bounded): what a
// channel shows settles over a few reads (a refused push is listed in
// quarantine before its counters move from in flight to rejected).
func waitFor(tb testing.TB, base string, ok func(string) bool, what string, args ...string) string {
	tb.Helper()
	var out string
	for range 200 {
		var err error
		if out, err = ctl(tb, base, args...); err == nil && ok(out) {
			return out
		}
		time.Sleep(25 * time.Millisecond)
	}
	tb.Fatalf("stockctl %v never printed %s; last output:\n%s", args, what, out)
	return out
}

func TestStockctlChannelCommands(t *testing.T) {
	sim := ymsim.New(ymsim.DefaultConfig("ACMA:key", 10, 20)) // knows no offer: sku-1 is refused
	base := startStockdWithMarket(t, sim)

	const refused = "stock: pending 0, in flight 0, acked 0, rejected 1"
	waitFor(t, base, func(out string) bool { return strings.Contains(out, "Offer not found") && hasRow(out, refused) },
		"the refused push in quarantine and counted", "channel", "yandexmarket")
	out, err := ctl(t, base, "channels")
	if err != nil || !strings.Contains(out, "yandexmarket") {
		t.Fatalf("channels: %v\n%s", err, out)
	}
	sim.AddOffer("sku-1")
	out, err = ctl(t, base, "channel", "yandexmarket", "release", "stock", "sku-1")
	if err != nil || !strings.Contains(out, "released") {
		t.Fatalf("release: %v\n%s", err, out)
	}
	waitOutput(t, base, "nothing quarantined", "channel", "yandexmarket")
	// The released key goes back to pending and is pushed with the next
	// batch: wait (bounded) for the marketplace to have it before resync
	// compares what it acknowledged.
	waitFor(t, base, func(out string) bool {
		got, _ := sim.Stock("sku-1", "20")
		return got == 9 && strings.Contains(out, "in flight 0, acked 1,")
	},
		"the released push acknowledged with stock 9", "channel", "yandexmarket")
	if out, err = ctl(t, base, "channel", "yandexmarket", "resync"); err != nil || !strings.Contains(out, "0 keys differ") {
		t.Fatalf("resync: %v\n%s", err, out)
	}
	if out, err = ctl(t, base, "channel", "yandexmarket", "reconcile"); err != nil || !strings.Contains(out, "reconcile started") {
		t.Fatalf("reconcile: %v\n%s", err, out)
	}
	if _, err = ctl(t, base, "channel", "yandexmarket", "approve", "sku-1"); err == nil || !strings.Contains(err.Error(), "not_quarantined") {
		t.Fatalf("approve of a price not held: %v, want not_quarantined", err)
	}
	if _, err = ctl(t, base, "channel", "nope"); err == nil || !strings.Contains(err.Error(), "channel_not_found") {
		t.Fatalf("unknown channel: %v, want channel_not_found", err)
	}
	if _, err = ctl(t, base, "channel", "yandexmarket", "shout"); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Fatalf("unknown action: %v, want the usage", err)
	}
}
