package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"stockd/adapters/kafka"
	"stockd/adapters/onec/orders"
	"stockd/adapters/testsvc"
	"stockd/engine/journal"
	"stockd/reservation"
)

// readOrders reads n messages of the orders topic from its start.
func readOrders(tb testing.TB, brokers []string, topic string, n int) []orders.Message {
	tb.Helper()
	r, err := kafka.NewReader(kafka.DefaultReaderConfig(brokers, topic, testsvc.UniqueName(tb, "orders-reader")))
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []orders.Message
	for len(out) < n {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			tb.Fatalf("read %s after %d of %d messages: %v", topic, len(out), n, err)
		}
		var msg orders.Message
		if err := json.Unmarshal(m.Value, &msg); err != nil {
			tb.Fatalf("orders.out message %q: %v", m.Value, err)
		}
		if string(m.Key) != msg.ID {
			tb.Fatalf("key %q, want the order id %q", m.Key, msg.ID)
		}
		out = append(out, msg)
	}
	return out
}

// summary is "id:state" of each message, in order.
func summary(msgs []orders.Message) string {
	var b strings.Builder
	for _, m := range msgs {
		fmt.Fprintf(&b, "%s:%s ", m.ID, m.State)
	}
	return strings.TrimSpace(b.String())
}

func publishConfig(tb testing.TB) Config {
	tb.Helper()
	cfg := testConfig(tb.TempDir() + "/journal")
	cfg.Kafka = uniqueTopics(tb)
	// One partition: the topic's order is the order of publishing.
	cfg.Kafka.Brokers = testsvc.Kfake(tb, 1, cfg.Kafka.EventsTopic, cfg.Kafka.DLQTopic, cfg.Kafka.OrdersTopic)
	cfg.Orders.Publish = true
	return cfg
}

// TestOrdersOutReceivesConfirmedOrders: a website confirm and a recorded
// marketplace order reach orders.out as confirmed messages keyed by the
// order id; an unconfirmed hold does not; releasing a published order
// publishes its cancellation.
func TestOrdersOutReceivesConfirmedOrders(t *testing.T) {
	cfg := publishConfig(t)
	te := startEngine(t, cfg, Deps{})
	setStock(t, te.eng, "sku-1", "wh-msk", 10, 1)
	wantStatus(t, call(t, "POST", te.base+"/v1/reservations", testKey,
		`{"id":"cart-1","channel":"site","lines":[{"sku":"sku-1","qty":1}]}`), 201, "")
	confirmedSiteHold(t, te, "L1", "sku-1", 2)
	waitFor(t, "L1 published", 30*time.Second, func() bool { return te.eng.PublisherStats().Published >= 1 })
	marketOrder(t, te, "ozon:0001-1", "ozon", "sku-1", 1)
	waitFor(t, "ozon order published", 30*time.Second, func() bool { return te.eng.PublisherStats().Published >= 2 })
	// A repeated confirm publishes nothing new.
	wantStatus(t, call(t, "POST", te.base+"/v1/reservations/L1/confirm", testKey, "{}"), 200, "")
	wantStatus(t, call(t, "POST", te.base+"/v1/reservations/L1/release", testKey, ""), 200, "")
	wantStatus(t, call(t, "POST", te.base+"/v1/reservations/cart-1/release", testKey, ""), 200, "")

	msgs := readOrders(t, cfg.Kafka.Brokers, cfg.Kafka.OrdersTopic, 3)
	if got, want := summary(msgs), "L1:confirmed ozon:0001-1:confirmed L1:cancelled"; got != want {
		t.Fatalf("orders.out = %s, want %s", got, want)
	}
	site, ozon := msgs[0], msgs[1]
	if site.Channel != "site" || site.Forced || len(site.Lines) != 1 || site.Lines[0] != (orders.MessageLine{SKU: "sku-1", Qty: 2}) ||
		len(site.Allocations) != 1 || site.Allocations[0].Warehouse != "wh-msk" || site.MarketplaceOrderID != "" {
		t.Errorf("site message = %+v", site)
	}
	if ozon.Channel != "ozon" || !ozon.Forced || ozon.MarketplaceOrderID != "0001-1" {
		t.Errorf("ozon message = %+v", ozon)
	}
	if st := te.eng.PublisherStats(); st.Published != 3 || st.Queued != 0 || st.Dropped != 0 {
		t.Fatalf("publisher stats = %+v, want 3 published, none queued or dropped", st)
	}
}

// TestOrdersOutRepublishesAfterRestart: confirmations acknowledged while
// nothing published them (publishing off, or lost with the process's
// queue) are published at the next start; published ones are not again.
func TestOrdersOutRepublishesAfterRestart(t *testing.T) {
	cfg := publishConfig(t)
	cfg.Orders.Publish = false
	te := startEngine(t, cfg, Deps{})
	setStock(t, te.eng, "sku-1", "wh-msk", 10, 1)
	confirmedSiteHold(t, te, "L1", "sku-1", 1)
	marketOrder(t, te, "yandexmarket:55", "yandexmarket", "sku-1", 1)
	te.stop()

	cfg.Orders.Publish = true
	te = startEngine(t, cfg, Deps{})
	msgs := readOrders(t, cfg.Kafka.Brokers, cfg.Kafka.OrdersTopic, 2)
	got := map[string]string{}
	for _, m := range msgs {
		got[m.ID] = m.State
	}
	if got["L1"] != orders.StateConfirmed || got["yandexmarket:55"] != orders.StateConfirmed {
		t.Fatalf("after restart orders.out = %s, want both confirmed orders", summary(msgs))
	}
	waitFor(t, "both recorded as published", 30*time.Second, func() bool { return te.eng.PublisherStats().Published == 2 })
	te.stop()

	te = startEngine(t, cfg, Deps{})
	confirmedSiteHold(t, te, "L2", "sku-1", 1)
	waitFor(t, "L2 published", 30*time.Second, func() bool { return te.eng.PublisherStats().Published >= 1 })
	time.Sleep(300 * time.Millisecond) // a repeated L1 would be written by now
	if st := te.eng.PublisherStats(); st.Published != 1 || st.Queued != 0 {
		t.Fatalf("third start: %+v, want only L2 published", st)
	}
	msgs = readOrders(t, cfg.Kafka.Brokers, cfg.Kafka.OrdersTopic, 3)
	if got := msgs[2]; got.ID != "L2" || got.State != orders.StateConfirmed {
		t.Fatalf("third message = %s, want L2 confirmed", summary(msgs))
	}
	var h reservation.Hold
	te.eng.core.Read(func(l *reservation.Ledger) { l.Hold("L2", &h) })
	if h.State != reservation.HoldConfirmed {
		t.Fatalf("L2 = %v", h.State)
	}
}

func TestOrderConfigRejects(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, wantErr string }{
		"publish without kafka": {"orders:\n  publish: true\n", "orders.publish needs kafka.brokers"},
		"negative queue":        {"orders:\n  max_publish_queue: -1\n", "orders.max_publish_queue -1"},
		"poll unknown channel":  {"orders:\n  poll_intervals: {ozon: 10s}\n", `orders.poll_intervals: "ozon" is not one of channels`},
		"handoff no exchange":   {"onec:\n  handoff_on_success: true\n", "onec.handoff_on_success needs onec.exchange.accounts"},
		"orders unknown channel": {"onec:\n  exchange:\n    accounts: [{login: ut, password_hash: \"sha256:" + strings.Repeat("ab", 32) + "\"}]\n" +
			"  orders:\n    channels: [ozon]\n", `onec.orders.channels: "ozon" is not one of channels`},
		"bad currency": {"onec:\n  exchange:\n    accounts: [{login: ut, password_hash: \"sha256:" + strings.Repeat("ab", 32) + "\"}]\n" +
			"  orders:\n    currency: руб\n", "onec.orders.currency"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseConfig([]byte(minimalYAML + tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("ParseConfig: %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestOrdersOutPublishesAConfirmWhoseCallerTimedOut: a confirm whose
// caller stopped waiting (its deadline passed while the journal wrote) may
// be durable all the same; the next sweep publishes it, and only once it
// is durable.
func TestOrdersOutPublishesAConfirmWhoseCallerTimedOut(t *testing.T) {
	cfg := publishConfig(t)
	mem := journal.NewMemBackend(journal.DefaultMemOptions())
	te := startEngine(t, cfg, Deps{Journal: mem})
	setStock(t, te.eng, "sku-1", "wh-msk", 10, 1)
	wantStatus(t, call(t, "POST", te.base+"/v1/reservations", testKey,
		`{"id":"L1","channel":"site","lines":[{"sku":"sku-1","qty":1}]}`), 201, "")
	out := te.eng.handoff.out
	waitFor(t, "the start's sweep done", 10*time.Second, func() bool { return !out.behind.Load() })

	mem.SetSyncLatency(300 * time.Millisecond) // the confirm's write outlasts its caller
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	_, err := te.eng.Confirm(ctx, "L1", 0)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("confirm with a 50 ms deadline and a 300 ms write: %v, want DeadlineExceeded", err)
	}
	if !out.behind.Load() {
		t.Fatal("a confirm of unknown outcome does not make the sweep look")
	}
	n, err := te.eng.requeueOrdersOut(context.Background(), out) // waits until the confirm is durable
	if err != nil || n != 1 {
		t.Fatalf("sweep: %d queued, %v; want L1", n, err)
	}
	msgs := readOrders(t, cfg.Kafka.Brokers, cfg.Kafka.OrdersTopic, 1)
	if got := summary(msgs); got != "L1:confirmed" {
		t.Fatalf("orders.out = %s, want L1 confirmed", got)
	}
}
