package orders_test

import (
	"context"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"stockd/adapters/onec/cmlevents"
	"stockd/adapters/onec/exchange"
	"stockd/adapters/onec/orders"
	"stockd/reservation"
)

// noEvents is the exchange's event sink of a sale-only exchange: nothing
// is imported, so nothing is published.
type noEvents struct{}

func (noEvents) Publish(context.Context, []cmlevents.Message) error { return nil }

// serveExchange runs the real exchange handler with src on 127.0.0.1.
func serveExchange(tb testing.TB, src exchange.OrderSource) string {
	tb.Helper()
	cfg := exchange.DefaultConfig(filepath.Join(tb.TempDir(), "exchange"))
	cfg.Accounts = []exchange.Account{{Login: account, PasswordHash: exchange.HashPasswordSHA256("secret"),
		Events: cmlevents.DefaultConfig(account), OrdersContainer: true, OrdersSchemaVersion: "3.1"}}
	h, err := exchange.New(exchange.Options{Config: cfg, Sink: noEvents{}, Store: cmlevents.NewMemoryStore(0, 1000),
		Orders: src, Now: func() time.Time { return t0 }})
	if err != nil {
		tb.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: h.Handle, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second,
		IdleTimeout: 10 * time.Second, MaxRequestBodySize: 1 << 20, Concurrency: 16, CloseOnShutdown: true}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.ShutdownWithContext(ctx)
		<-done
		_ = h.Close(ctx)
	})
	return "http://" + ln.Addr().String() + "/1c/exchange"
}

// oneC plays 1C's side of type=sale.
type oneC struct {
	tb     testing.TB
	base   string
	client *http.Client
	cookie string
}

func (c *oneC) get(mode string) []byte {
	c.tb.Helper()
	req, err := http.NewRequest(http.MethodGet, c.base+"?"+url.Values{"type": {"sale"}, "mode": {mode}}.Encode(), nil)
	if err != nil {
		c.tb.Fatal(err)
	}
	if mode == "checkauth" {
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(account+":secret")))
	} else {
		req.Header.Set("Cookie", c.cookie)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		c.tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		c.tb.Fatalf("%s: %d %v %s", mode, resp.StatusCode, err, body)
	}
	if mode == "checkauth" {
		lines := strings.Split(string(body), "\n")
		if lines[0] != "success" || len(lines) < 3 {
			c.tb.Fatalf("checkauth: %q", body)
		}
		c.cookie = lines[1] + "=" + lines[2]
	}
	return body
}

func TestExchangeQueryAndSuccessHandOff(t *testing.T) {
	l := twoOrders(t)
	src := newSource(t, l, openStore(t, filepath.Join(t.TempDir(), "x.log")), func(c *orders.SourceConfig) {
		c.HandoffOnSuccess = true
	})
	c := &oneC{tb: t, base: serveExchange(t, src), client: &http.Client{Timeout: 10 * time.Second}}
	c.get("checkauth")
	c.get("init")
	doc := c.get("query")
	got := readBack(t, doc)
	if len(got) != 2 || got[0].ID != "L1042" || got[1].ID != "ozon:40000001-0001-1" {
		t.Fatalf("query: %d orders %v", len(got), got)
	}
	if body := string(c.get("success")); !strings.HasPrefix(body, "success") {
		t.Fatalf("success: %q", body)
	}
	for _, id := range []string{"L1042", "ozon:40000001-0001-1"} {
		if st := l.hold(id).State; st != reservation.HoldHandedOff {
			t.Errorf("%s after success: %v, want handed_off", id, st)
		}
	}
	if again := readBack(t, c.get("query")); len(again) != 0 {
		t.Errorf("second query: %d orders, want none", len(again))
	}
}
