package orders_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"stockd/adapters/kafka"
	"stockd/adapters/onec/orders"
	"stockd/adapters/testsvc"
	"stockd/reservation"
)

// TestPublisherWritesOrdersToKafka publishes through the real writer to
// an in-process Kafka-protocol broker and reads the messages back.
func TestPublisherWritesOrdersToKafka(t *testing.T) {
	const topic = "orders.out"
	brokers := testsvc.Kfake(t, 3, topic)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w, err := kafka.NewWriter(kafka.DefaultWriterConfig(brokers, topic))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	pub, err := orders.NewPublisher(orders.PublisherConfig{Writer: w, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- pub.Run(runCtx) }()

	l := twoOrders(t)
	if err := pub.Confirmed(l.hold("ozon:40000001-0001-1")); err != nil {
		t.Fatal(err)
	}
	if err := pub.Confirmed(l.hold("L1042")); err != nil {
		t.Fatal(err)
	}
	if err := pub.Cancelled(l.hold("ozon:40000001-0001-1"), false); err != nil {
		t.Fatal(err)
	}

	rcfg := kafka.DefaultReaderConfig(brokers, topic, testsvc.UniqueName(t, "orders"))
	r, err := kafka.NewReader(rcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	byKey := map[string][]orders.Message{}
	for range 3 {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("fetch: %v (publisher %+v)", err, pub.Stats())
		}
		var msg orders.Message
		if err := json.Unmarshal(m.Value, &msg); err != nil {
			t.Fatal(err)
		}
		if string(m.Key) != msg.ID {
			t.Errorf("key %q, message id %q", m.Key, msg.ID)
		}
		byKey[msg.ID] = append(byKey[msg.ID], msg)
	}
	// The messages are in Kafka; the publisher learns it when its write returns.
	for deadline := time.Now().Add(10 * time.Second); pub.Stats().Published < 3; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("publisher never saw its write succeed: %+v", pub.Stats())
		}
	}
	stop()
	if err := <-done; err != nil {
		t.Error(err)
	}
	oz := byKey["ozon:40000001-0001-1"]
	if len(oz) != 2 || oz[0].State != orders.StateConfirmed || oz[1].State != orders.StateCancelled {
		t.Fatalf("ozon order messages: %+v, want confirmed then cancelled", oz)
	}
	want := orders.Message{V: 1, ID: "ozon:40000001-0001-1", State: "confirmed", Channel: "ozon",
		MarketplaceOrderID: "40000001-0001-1", Forced: true, CreatedAt: t0.Add(2 * time.Minute), At: t0,
		Lines:       []orders.MessageLine{{SKU: sku(2), Qty: 1}},
		Allocations: []orders.MessageAllocation{{Line: 0, SKU: sku(2), Warehouse: wh, Qty: 1}}}
	gotJSON, _ := json.Marshal(oz[0])
	wantJSON, _ := json.Marshal(want)
	if string(gotJSON) != string(wantJSON) {
		t.Errorf("message:\n got %s\nwant %s", gotJSON, wantJSON)
	}
	if site := byKey["L1042"]; len(site) != 1 || site[0].MarketplaceOrderID != "" || site[0].Forced {
		t.Errorf("website order message: %+v", site)
	}
	if st := pub.Stats(); st.Published != 3 || st.Queued != 0 || st.Dropped != 0 {
		t.Errorf("stats: %+v", st)
	}
}

func TestPublisherQueueIsBounded(t *testing.T) {
	w, err := kafka.NewWriter(kafka.DefaultWriterConfig([]string{"127.0.0.1:1"}, "orders.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	pub, err := orders.NewPublisher(orders.PublisherConfig{Writer: w, MaxQueued: 2})
	if err != nil {
		t.Fatal(err)
	}
	h := reservation.Hold{ID: "L1", Channel: "site", State: reservation.HoldConfirmed}
	for range 2 {
		if err := pub.Confirmed(h); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.Confirmed(h); !errors.Is(err, orders.ErrQueueFull) {
		t.Fatalf("third message: %v, want ErrQueueFull", err)
	}
	if st := pub.Stats(); st.Queued != 2 || st.Dropped != 1 {
		t.Errorf("stats: %+v", st)
	}
}

// batchWriter is a Writer that records batches and fails the first write.
type batchWriter struct {
	mu      sync.Mutex
	fails   int
	batches [][]kafkago.Message
}

func (w *batchWriter) WriteMessages(_ context.Context, msgs ...kafkago.Message) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fails > 0 {
		w.fails--
		return errors.New("broker unavailable")
	}
	w.batches = append(w.batches, append([]kafkago.Message(nil), msgs...))
	return nil
}

// TestPublisherAcksWrittenBatchesInOrder: a failed write is retried with
// the same batch; Acked sees each written batch once, in queue order, and
// Queued is true until the order's message is written.
func TestPublisherAcksWrittenBatchesInOrder(t *testing.T) {
	w := &batchWriter{fails: 1}
	acked := make(chan []string, 10)
	pub, err := orders.NewPublisher(orders.PublisherConfig{Writer: w, MaxBatch: 2, RetryBase: time.Millisecond,
		RetryCap: time.Millisecond, Acked: func(_ context.Context, msgs []orders.Message) error {
			var ids []string
			for _, m := range msgs {
				ids = append(ids, m.ID+":"+m.State)
			}
			acked <- ids
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"L1", "L2", "L3"} {
		if err := pub.Confirmed(reservation.Hold{ID: id, Channel: "site", State: reservation.HoldConfirmed}); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.Cancelled(reservation.Hold{ID: "L1", Channel: "site"}, false); err != nil {
		t.Fatal(err)
	}
	if !pub.Queued("L3") || pub.Queued("L9") {
		t.Fatal("Queued before Run: want L3 queued, L9 not")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- pub.Run(ctx) }()
	var got []string
	for len(got) < 4 {
		select {
		case ids := <-acked:
			got = append(got, ids...)
		case <-time.After(10 * time.Second):
			t.Fatalf("acked so far %v", got)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if want := "L1:confirmed L2:confirmed L3:confirmed L1:cancelled"; strings.Join(got, " ") != want {
		t.Fatalf("acked %v, want %s", got, want)
	}
	if pub.Queued("L1") || pub.Queued("L3") {
		t.Fatal("Queued after the messages were written")
	}
	if st := pub.Stats(); st.Published != 4 || st.WriteErrors != 1 || st.Queued != 0 || len(w.batches) != 2 {
		t.Fatalf("stats %+v, %d batches; want 4 published in 2 batches after 1 write error", st, len(w.batches))
	}
}
