package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"stockd/adapters/marketsim"
	"stockd/adapters/yandexmarket/ymsim"
	"stockd/feeds"
	"stockd/feeds/ackstore"
	"stockd/reservation"
)

const (
	adminToken = "admin-token"
	readToken  = "read-token"
)

// adminLedger is the hub's Source: quantities and prices the test sets.
type adminLedger struct {
	mu     sync.Mutex
	qty    map[string]int64
	prices map[string]reservation.Price
}

func (l *adminLedger) ChannelQty(sku, _ string) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.qty[sku], nil
}

func (l *adminLedger) Price(sku, _ string) (reservation.Price, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p, ok := l.prices[sku]
	return p, ok
}

func (l *adminLedger) setPrice(tb testing.TB, sku, amount string) reservation.PriceChange {
	tb.Helper()
	d, err := reservation.ParseDecimal(amount)
	if err != nil {
		tb.Fatal(err)
	}
	p := reservation.Price{Amount: d, Currency: "RUB"}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.prices[sku] = p
	return reservation.PriceChange{SKU: sku, PriceType: "retail", Price: p}
}

func (l *adminLedger) setQty(sku string, qty int64) reservation.ChannelChange {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.qty[sku] = qty
	return reservation.ChannelChange{SKU: sku, Channel: "ym", Qty: qty}
}

type envSecrets map[string]string

func (s envSecrets) LookupEnv(name string) (string, bool) { v, ok := s[name]; return v, ok }
func (s envSecrets) ReadFile(path string) ([]byte, error) { return os.ReadFile(path) }

type adminEnv struct {
	base string
	hub  *feeds.Hub
	led  *adminLedger
	sim  *ymsim.Sim
}

// newAdminEnv serves the API over a real hub whose Yandex Market channel
// "ym" pushes to the simulator; the simulator knows sku-1 and sku-3 only.
func newAdminEnv(tb testing.TB) *adminEnv {
	tb.Helper()
	simCfg := ymsim.DefaultConfig("ACMA:key", 10, 20)
	sim := ymsim.New(simCfg)
	sim.AddOffer("sku-1", "sku-3")
	cfg := feeds.ChannelConfig{Name: "ym", Kind: feeds.KindYandexMarket, Warehouses: []feeds.TargetConfig{{}},
		Stock: feeds.DefaultStockPolicy(), Price: &feeds.PricePolicy{PriceType: "retail", MaxChangePct: 50},
		Account: feeds.AccountConfig{APIKey: feeds.SecretRef{Env: "YM_KEY"}, BusinessID: 10, CampaignID: 20, StockMethod: "campaign"}}
	ch, err := feeds.BuildChannel(cfg, feeds.Deps{Secrets: envSecrets{"YM_KEY": "ACMA:key"}, Now: time.Now,
		Transport: marketsim.HandlerTransport{Handler: sim}})
	if err != nil {
		tb.Fatal(err)
	}
	acks, err := ackstore.OpenFile(ackstore.FileConfig{Path: filepath.Join(tb.TempDir(), "acks.log")})
	if err != nil {
		tb.Fatal(err)
	}
	led := &adminLedger{qty: map[string]int64{}, prices: map[string]reservation.Price{}}
	skus := func(yield func(string) bool) {
		for _, s := range []string{"sku-1", "sku-2", "sku-3"} {
			if !yield(s) {
				return
			}
		}
	}
	hub, err := feeds.New(context.Background(), feeds.Config{Channels: []feeds.Channel{ch}, Source: led, Acks: acks,
		Now: time.Now, Seed: 1, SKUs: skus})
	if err != nil {
		tb.Fatal(err)
	}
	s, err := New(Options{Backend: &echoBackend{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Limits: DefaultLimits(), Feeds: hub, APIKeys: []APIKey{
			{Name: "admin", SHA256: HashToken(adminToken), Scopes: []Scope{ScopeAdmin}},
			{Name: "reader", SHA256: HashToken(readToken), Scopes: []Scope{ScopeRead}}}})
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			tb.Error(err)
		}
		<-done
		if err := hub.Close(ctx); err != nil {
			tb.Error(err)
		}
		acks.Close()
	})
	return &adminEnv{base: "http://" + ln.Addr().String(), hub: hub, led: led, sim: sim}
}

type adminReply struct {
	status int
	body   map[string]any
}

func (e *adminEnv) post(tb testing.TB, path, token, body string) adminReply {
	tb.Helper()
	return e.do(tb, http.MethodPost, path, token, body)
}

func (e *adminEnv) do(tb testing.TB, method, path, token, body string) adminReply {
	tb.Helper()
	req, err := http.NewRequest(method, e.base+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := adminReply{status: resp.StatusCode}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			tb.Fatalf("%s %s: reply %q: %v", method, path, raw, err)
		}
	}
	return r
}

func (e *adminEnv) want(tb testing.TB, r adminReply, status int, code string) {
	tb.Helper()
	if r.status != status || (code != "" && r.body["error"] != code) {
		tb.Fatalf("got %d %v, want %d %s", r.status, r.body, status, code)
	}
}

// waitStats polls the channel's stats until ok holds (bounded).
func (e *adminEnv) waitStats(tb testing.TB, what string, ok func(feeds.Stats) bool) feeds.Stats {
	tb.Helper()
	for range 200 {
		s, err := e.hub.Stats("ym")
		if err != nil {
			tb.Fatal(err)
		}
		if ok(s) {
			return s
		}
		time.Sleep(25 * time.Millisecond)
	}
	s, _ := e.hub.Stats("ym")
	tb.Fatalf("%s never came: %+v", what, s)
	return s
}

func TestChannelApprove(t *testing.T) {
	e := newAdminEnv(t)
	e.hub.OnChanges(nil, []reservation.PriceChange{e.led.setPrice(t, "sku-1", "1000.00")}, time.Now())
	e.waitStats(t, "the first price acked", func(s feeds.Stats) bool { return s.Price.Acked == 1 })
	e.hub.OnChanges(nil, []reservation.PriceChange{e.led.setPrice(t, "sku-1", "2000.00")}, time.Now())
	e.waitStats(t, "the jump awaiting approval", func(s feeds.Stats) bool { return s.AwaitingApproval == 1 })

	e.want(t, e.post(t, "/v1/channels/ym/prices/sku-1:approve", readToken, ""), 403, "forbidden")
	e.want(t, e.post(t, "/v1/channels/ym/prices/sku-1:approve", "", ""), 401, "unauthorized")
	e.want(t, e.do(t, http.MethodGet, "/v1/channels/ym/prices/sku-1:approve", adminToken, ""), 405, "method_not_allowed")
	e.want(t, e.post(t, "/v1/channels/nope/prices/sku-1:approve", adminToken, ""), 404, "channel_not_found")
	e.want(t, e.post(t, "/v1/channels/ym/prices/sku-9:approve", adminToken, ""), 404, "not_quarantined")
	r := e.post(t, "/v1/channels/ym/prices/sku-1:approve", adminToken, "")
	e.want(t, r, 200, "")
	if r.body["channel"] != "ym" || r.body["action"] != "approve" || r.body["offer"] != "sku-1" {
		t.Fatalf("reply %v", r.body)
	}
	e.waitStats(t, "the approved price acked", func(s feeds.Stats) bool { return s.Price.Acked == 2 && s.AwaitingApproval == 0 })
	if p, _ := e.sim.Price("sku-1"); p.Value != "2000" {
		t.Fatalf("marketplace price %+v, want 2000", p)
	}
}

func TestChannelReleaseQuarantine(t *testing.T) {
	e := newAdminEnv(t)
	e.hub.OnChanges([]reservation.ChannelChange{e.led.setQty("sku-1", 4), e.led.setQty("sku-2", 5)}, nil, time.Now())
	e.waitStats(t, "sku-2 quarantined", func(s feeds.Stats) bool { return s.Quarantined == 1 && s.Stock.Acked == 1 })

	for _, c := range []struct {
		body   string
		status int
		code   string
	}{
		{`{"method":"stock","offer":"sku-2"`, 400, "malformed_json"},
		{`{"method":"stocks","offer":"sku-2"}`, 422, "invalid_request"},
		{`{"method":"stock","offer":""}`, 422, "invalid_request"},
		{`{"method":"price","offer":"sku-2","warehouse":"1"}`, 422, "invalid_request"},
		{`{"method":"stock","offer":"sku-2","wh":""}`, 422, "invalid_request"},
		{`{"method":"stock","offer":"sku-1","warehouse":""}`, 404, "not_quarantined"},
	} {
		r := e.post(t, "/v1/channels/ym/quarantine:release", adminToken, c.body)
		if r.status != c.status || r.body["error"] != c.code {
			t.Errorf("body %s: got %d %v, want %d %s", c.body, r.status, r.body, c.status, c.code)
		}
	}
	e.want(t, e.post(t, "/v1/channels/nope/quarantine:release", adminToken, `{"method":"stock","offer":"sku-2"}`),
		404, "channel_not_found")
	e.sim.AddOffer("sku-2") // the operator fixed the cabinet
	r := e.post(t, "/v1/channels/ym/quarantine:release", adminToken, `{"method":"stock","offer":"sku-2","warehouse":""}`)
	e.want(t, r, 200, "")
	if r.body["action"] != "release" || r.body["method"] != "stock" || r.body["offer"] != "sku-2" {
		t.Fatalf("reply %v", r.body)
	}
	e.waitStats(t, "sku-2 acked", func(s feeds.Stats) bool { return s.Quarantined == 0 && s.Stock.Acked == 2 })
	if got, _ := e.sim.Stock("sku-2", "20"); got != 5 {
		t.Fatalf("marketplace stock %d, want 5", got)
	}
}

func TestChannelResyncAndReconcile(t *testing.T) {
	e := newAdminEnv(t)
	e.hub.OnChanges([]reservation.ChannelChange{e.led.setQty("sku-1", 4)}, nil, time.Now())
	e.waitStats(t, "sku-1 acked", func(s feeds.Stats) bool { return s.Stock.Acked == 1 })
	e.led.setQty("sku-3", 7) // a change the hub never heard of

	e.want(t, e.post(t, "/v1/channels/ym:resync", readToken, ""), 403, "forbidden")
	e.want(t, e.post(t, "/v1/channels/nope:resync", adminToken, ""), 404, "channel_not_found")
	e.want(t, e.post(t, "/v1/channels/ym:unknown", adminToken, ""), 404, "not_found")
	r := e.post(t, "/v1/channels/ym:resync", adminToken, "")
	e.want(t, r, 200, "")
	if r.body["marked"] != float64(2) { // sku-3's 7 and sku-2's 0, never sent
		t.Fatalf("resync reply %v, want 2 keys marked", r.body)
	}
	e.waitStats(t, "the resynced keys sent", func(s feeds.Stats) bool { return s.Stock.Pending == 0 && s.Stock.InFlight == 0 })
	if got, _ := e.sim.Stock("sku-3", "20"); got != 7 {
		t.Fatalf("marketplace stock %d, want 7", got)
	}

	e.want(t, e.post(t, "/v1/channels/nope:reconcile", adminToken, ""), 404, "channel_not_found")
	e.want(t, e.post(t, "/v1/channels/ym:reconcile", adminToken, ""), 202, "")
	s := e.waitStats(t, "the reconcile pass", func(s feeds.Stats) bool { return !s.Reconcile.FinishedAt.IsZero() })
	if s.Reconcile.Error != "" || s.Reconcile.Result.Read == 0 {
		t.Fatalf("reconcile %+v", s.Reconcile)
	}
	got := e.do(t, http.MethodGet, "/v1/channels/ym", readToken, "")
	e.want(t, got, 200, "")
}

func TestParseChannelAction(t *testing.T) {
	for _, c := range []struct {
		raw  string
		want channelAction
		ok   bool
	}{
		{"/v1/channels/ozon:resync", channelAction{channel: "ozon", action: "resync"}, true},
		{"/v1/channels/ozon:reconcile", channelAction{channel: "ozon", action: "reconcile"}, true},
		{"/v1/channels/ozon/quarantine:release", channelAction{channel: "ozon", action: "release"}, true},
		{"/v1/channels/ym/prices/%D0%9A%D0%A0-7%2F2:approve", channelAction{channel: "ym", action: "approve", offer: "КР-7/2"}, true},
		{"/v1/channels/ym/prices/A:B:approve", channelAction{channel: "ym", action: "approve", offer: "A:B"}, true},
		{"/v1/channels/ym/prices/:approve", channelAction{}, false},
		{"/v1/channels/ym/prices/x:release", channelAction{}, false},
		{"/v1/channels/ym:approve", channelAction{}, false},
		{"/v1/channels/:resync", channelAction{}, false},
		{"/v1/channels/ym/quarantine/x:release", channelAction{}, false},
		{"/v1/channels/ym%zz:resync", channelAction{}, false},
	} {
		got, ok := parseChannelAction(c.raw)
		if ok != c.ok || got != c.want {
			t.Errorf("parseChannelAction(%q) = %+v, %v; want %+v, %v", c.raw, got, ok, c.want, c.ok)
		}
	}
}

func TestChannelAdminErrorsMapToStatuses(t *testing.T) {
	s := &Server{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, c := range []struct {
		err    error
		status int
		code   string
	}{
		{fmt.Errorf("%w: %q", feeds.ErrReconcileRunning, "ym"), 409, "reconcile_running"},
		{feeds.ErrNoReadBack, 409, "reconcile_unsupported"},
		{feeds.ErrPushDisabled, 409, "push_disabled"},
		{feeds.ErrNoSKUs, 503, "channels_unavailable"},
		{feeds.ErrClosed, 503, "channels_unavailable"},
		{feeds.ErrNotQuarantined, 404, "not_quarantined"},
		{feeds.ErrUnknownChannel, 404, "channel_not_found"},
	} {
		var ctx fasthttp.RequestCtx
		s.writeChannelError(&ctx, c.err)
		var body map[string]any
		if err := json.Unmarshal(ctx.Response.Body(), &body); err != nil {
			t.Fatal(err)
		}
		if got := ctx.Response.StatusCode(); got != c.status || body["error"] != c.code {
			t.Errorf("%v: %d %v, want %d %s", c.err, got, body["error"], c.status, c.code)
		}
	}
}
