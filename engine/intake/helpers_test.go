package intake_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"stockd/adapters/marketsim"
	"stockd/adapters/ozon/ozonsim"
	"stockd/adapters/wildberries/wbsim"
	"stockd/adapters/yandexmarket/ymsim"
	"stockd/engine/intake"
	"stockd/feeds"
	"stockd/reservation"
)

const (
	wh      = "wh-msk"
	ozonWH  = "22142605386000"
	wbWH    = "507"
	ymCamp  = 20
	ymBiz   = 10
	skuBase = "8f1c0000-0000-4000-8000-00000000000"
)

func sku(n int) string { return fmt.Sprintf("%s%d", skuBase, n) }

// ledgerConfig has the website and the three marketplaces selling from one
// warehouse.
func ledgerConfig() reservation.Config {
	chs := []reservation.ChannelConfig{}
	for _, name := range []string{"site", "ozon", "wildberries", "yandexmarket"} {
		chs = append(chs, reservation.ChannelConfig{Name: name, Warehouses: []string{wh}, Strategy: reservation.StrategyPriority})
	}
	return reservation.Config{Channels: chs, Limits: reservation.DefaultLimits()}
}

// testLedger is the intake's Ledger over a real reservation ledger, as the
// engine provides it: every record is kept in a journal (encoded), and a
// "crash" rebuilds the ledger from that journal. Hold ids are indexed from
// the records, since the ledger lists holds only by id.
type testLedger struct {
	tb  testing.TB
	cfg reservation.Config
	now func() time.Time

	mu        sync.Mutex
	g         *reservation.Guarded
	journal   [][]byte
	ids       []string
	pending   []reservation.ChannelChange
	onChanges func([]reservation.ChannelChange)
	// failAfter, when positive, makes RecordOrder call crash after that
	// many more successful calls (the process dies mid-poll).
	failAfter int
	crash     func()
	seq       uint64
}

var _ intake.Ledger = (*testLedger)(nil)

func newTestLedger(tb testing.TB, now func() time.Time) *testLedger {
	tb.Helper()
	t := &testLedger{tb: tb, cfg: ledgerConfig(), now: now}
	l, err := reservation.New(t.cfg)
	if err != nil {
		tb.Fatal(err)
	}
	t.g = reservation.NewGuarded(l, t.sink)
	return t
}

// sink runs under the Guarded lock: journal and index the records, keep
// the changes for delivery after the lock.
func (t *testLedger) sink(fx *reservation.Effects) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range fx.Records {
		r := &fx.Records[i]
		t.journal = append(t.journal, reservation.MarshalRecord(r))
		if r.Kind == reservation.RecordReserve {
			t.ids = append(t.ids, r.HoldID)
		}
	}
	t.pending = append(t.pending, fx.Changes...)
}

func (t *testLedger) deliver() {
	t.mu.Lock()
	ch, fn := t.pending, t.onChanges
	t.pending = nil
	t.mu.Unlock()
	if fn != nil && len(ch) > 0 {
		fn(ch)
	}
}

// restart rebuilds the ledger from the journal, as recovery does.
func (t *testLedger) restart() *testLedger {
	t.tb.Helper()
	t.mu.Lock()
	journal := append([][]byte(nil), t.journal...)
	t.mu.Unlock()
	n := &testLedger{tb: t.tb, cfg: t.cfg, now: t.now, journal: journal, seq: t.seq}
	l, err := reservation.New(t.cfg)
	if err != nil {
		t.tb.Fatal(err)
	}
	for i, raw := range journal {
		rec, err := reservation.DecodeRecord(raw)
		if err != nil {
			t.tb.Fatalf("journal[%d]: %v", i, err)
		}
		if err := l.ApplyRecord(&rec, nil); err != nil {
			t.tb.Fatalf("journal[%d]: %v", i, err)
		}
		if rec.Kind == reservation.RecordReserve {
			n.ids = append(n.ids, rec.HoldID)
		}
	}
	n.g = reservation.NewGuarded(l, n.sink)
	return n
}

func (t *testLedger) RecordOrder(ctx context.Context, id, channel string, lines []reservation.Line) (reservation.Hold, bool, error) {
	if err := ctx.Err(); err != nil {
		return reservation.Hold{}, false, err
	}
	var h reservation.Hold
	res, err := t.g.Reserve(reservation.ReserveRequest{ID: id, Channel: channel, Lines: lines, Force: true}, t.now(), &h)
	t.deliver()
	if err == nil && t.failAfter > 0 {
		t.failAfter--
		if t.failAfter == 0 {
			t.crash()
		}
	}
	return h, err == nil && !res.Replayed, err
}

func (t *testLedger) Release(ctx context.Context, id string) (reservation.Hold, error) {
	if err := ctx.Err(); err != nil {
		return reservation.Hold{}, err
	}
	err := t.g.Release(id, t.now())
	t.deliver()
	if err != nil {
		return reservation.Hold{}, err
	}
	return t.Hold(ctx, id)
}

func (t *testLedger) Hold(_ context.Context, id string) (reservation.Hold, error) {
	var h reservation.Hold
	if !t.g.Hold(id, &h) {
		return h, fmt.Errorf("%w: %q", reservation.ErrHoldNotFound, id)
	}
	return h, nil
}

func (t *testLedger) OpenHolds(_ context.Context, channel, prefix string, maxIDs int) ([]string, error) {
	t.mu.Lock()
	ids := append([]string(nil), t.ids...)
	t.mu.Unlock()
	var out []string
	var h reservation.Hold
	for _, id := range ids {
		if len(out) == maxIDs {
			break
		}
		if strings.HasPrefix(id, prefix) && t.g.Hold(id, &h) && h.State.Active() && h.Channel == channel {
			out = append(out, id)
		}
	}
	return out, nil
}

// setStock applies a stock.set from 1C.
func (t *testLedger) setStock(sku string, qty int64, handoff ...string) {
	t.tb.Helper()
	t.seq++
	ev := reservation.Event{V: 1, ID: fmt.Sprintf("ev-%d", t.seq), Source: "ut11", Seq: t.seq, At: t.now(),
		Type: reservation.EventStockSet, SKU: sku, Warehouse: wh, Qty: qty, Handoff: handoff}
	if _, err := t.g.ApplyEvent(&ev, reservation.Source{}); err != nil {
		t.tb.Fatalf("stock.set %s: %v", sku, err)
	}
	t.deliver()
}

func (t *testLedger) avail(sku, channel string) int64 {
	t.tb.Helper()
	n, err := t.g.Available(sku, channel)
	if err != nil {
		t.tb.Fatal(err)
	}
	return n
}

func (t *testLedger) hold(id string) reservation.Hold {
	t.tb.Helper()
	h, err := t.Hold(context.Background(), id)
	if err != nil {
		t.tb.Fatal(err)
	}
	return h
}

func (t *testLedger) activeHolds() int {
	n := 0
	t.g.Do(func(l *reservation.Ledger, _ *reservation.Effects) { n = l.ActiveHolds() })
	return n
}

// reserveRecords counts the reserve records of id in the journal.
func (t *testLedger) reserveRecords(id string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, raw := range t.journal {
		rec, err := reservation.DecodeRecord(raw)
		if err == nil && rec.Kind == reservation.RecordReserve && rec.HoldID == id {
			n++
		}
	}
	return n
}

// secrets answers every secret reference with a fixed value.
type secrets struct{}

func (secrets) LookupEnv(string) (string, bool) { return "secret", true }
func (secrets) ReadFile(string) ([]byte, error) { return []byte("secret"), nil }

// sims are the three marketplace simulators of a test.
type sims struct {
	ozon *ozonsim.Sim
	wb   *wbsim.Sim
	ym   *ymsim.Sim
}

func newSims(now func() time.Time) sims {
	oc := ozonsim.DefaultConfig("secret", "secret")
	oc.Now = now
	wc := wbsim.DefaultConfig("secret")
	wc.Now = now
	wc.AutoCreateSizes = true
	yc := ymsim.DefaultConfig("secret", ymBiz, ymCamp)
	yc.Now = now
	yc.AutoCreateOffers = true
	return sims{ozon: ozonsim.New(oc), wb: wbsim.New(wc), ym: ymsim.New(yc)}
}

// offer ids of SKU n on each marketplace.
func ozonOffer(n int) string { return fmt.Sprintf("OF-%d", n) }
func wbChrt(n int) string    { return fmt.Sprintf("%d", 700000+n) }
func ymOffer(n int) string   { return fmt.Sprintf("YM-%d", n) }

// mappingFiles maps SKUs 1..n on every marketplace.
func mappingFiles(n int) map[string][]byte {
	var oz, wb, ym strings.Builder
	oz.WriteString("sku,offer_id\n")
	wb.WriteString("sku,chrt_id,nm_id\n")
	ym.WriteString("sku,offer_id\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&oz, "%s,%s\n", sku(i), ozonOffer(i))
		fmt.Fprintf(&wb, "%s,%s,%d\n", sku(i), wbChrt(i), 900000+i)
		fmt.Fprintf(&ym, "%s,%s\n", sku(i), ymOffer(i))
	}
	return map[string][]byte{"ozon.csv": []byte(oz.String()), "wb.csv": []byte(wb.String()), "ym.csv": []byte(ym.String())}
}

// feedConfigs are the marketplace channels, each pushing one warehouse.
func feedConfigs(disabled bool) []feeds.ChannelConfig {
	push := feeds.PushConfig{Disabled: disabled}
	return []feeds.ChannelConfig{
		{Name: "ozon", Kind: feeds.KindOzon, Warehouses: []feeds.TargetConfig{{ID: ozonWH}},
			Offers: feeds.MappingConfig{File: "ozon.csv"}, Stock: feeds.StockPolicy{Percent: 100, Buffer: 1}, Push: push,
			Account: feeds.AccountConfig{ClientID: feeds.SecretRef{Env: "OZ_ID"}, APIKey: feeds.SecretRef{Env: "OZ_KEY"}}},
		{Name: "wildberries", Kind: feeds.KindWildberries, Warehouses: []feeds.TargetConfig{{ID: wbWH}},
			Offers: feeds.MappingConfig{File: "wb.csv"}, Stock: feeds.StockPolicy{Percent: 100, Buffer: 1}, Push: push,
			Account: feeds.AccountConfig{Token: feeds.SecretRef{Env: "WB_TOKEN"}}},
		{Name: "yandexmarket", Kind: feeds.KindYandexMarket, Warehouses: []feeds.TargetConfig{{}},
			Offers: feeds.MappingConfig{File: "ym.csv"}, Stock: feeds.StockPolicy{Percent: 100, Buffer: 1}, Push: push,
			Account: feeds.AccountConfig{APIKey: feeds.SecretRef{Env: "YM_KEY"}, BusinessID: ymBiz, CampaignID: ymCamp}},
	}
}

// hostRouter sends each marketplace host to its simulator.
type hostRouter struct{ s sims }

func (r hostRouter) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Body == nil { // a client GET has none; a server request always has one
		req.Body = http.NoBody
	}
	switch {
	case strings.Contains(req.URL.Host, "ozon"):
		r.s.ozon.ServeHTTP(w, req)
	case strings.Contains(req.URL.Host, "wildberries"):
		r.s.wb.ServeHTTP(w, req)
	default:
		r.s.ym.ServeHTTP(w, req)
	}
}

// buildChannels builds the marketplace channels the way the engine does,
// reaching the simulators in process.
func buildChannels(tb testing.TB, s sims, now func() time.Time, disabled bool) []feeds.Channel {
	tb.Helper()
	files := mappingFiles(20)
	cfgs := feedConfigs(disabled)
	cfgs[0].Account.BaseURL = "http://ozon.sim"
	cfgs[1].Account.BaseURL, cfgs[1].Account.PricesURL = "http://wildberries.sim", "http://prices.wildberries.sim"
	cfgs[2].Account.BaseURL = "http://ym.sim"
	chs, err := feeds.BuildChannels(cfgs, feeds.Deps{Secrets: secrets{}, Now: now,
		Transport: marketsim.HandlerTransport{Handler: hostRouter{s}},
		ReadFile: func(name string) ([]byte, error) {
			if b, ok := files[name]; ok {
				return b, nil
			}
			return nil, errors.New("no such file")
		}})
	if err != nil {
		tb.Fatal(err)
	}
	return chs
}

// newIntake makes an intake over every marketplace channel.
func newIntake(tb testing.TB, l intake.Ledger, chs []feeds.Channel, now func() time.Time, onCancelled func(reservation.Hold, bool)) *intake.Intake {
	tb.Helper()
	in, err := intake.New(intake.Config{Channels: intake.FromFeeds(chs, nil), Ledger: l, Now: now, OnCancelled: onCancelled})
	if err != nil {
		tb.Fatal(err)
	}
	return in
}

func poll(tb testing.TB, in *intake.Intake, channel string) {
	tb.Helper()
	if err := in.PollOnce(context.Background(), channel); err != nil {
		tb.Fatalf("poll %s: %v", channel, err)
	}
}

func statsOf(tb testing.TB, in *intake.Intake, channel string) intake.Stats {
	tb.Helper()
	for _, st := range in.Stats() {
		if st.Channel == channel {
			return st
		}
	}
	tb.Fatalf("no stats for %s", channel)
	return intake.Stats{}
}
