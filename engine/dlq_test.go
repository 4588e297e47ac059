package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	kafkago "github.com/segmentio/kafka-go"

	"stockd/adapters/kafka"
	"stockd/adapters/testsvc"
)

func headerMap(m kafkago.Message) map[string]string {
	h := map[string]string{}
	for _, kv := range m.Headers {
		h[kv.Key] = string(kv.Value)
	}
	return h
}

// TestDLQMessageBounds: the DLQ copy keeps the message whole when it fits,
// cuts a long reason at a character boundary, and cuts the value of a copy
// that would pass the bound, saying so.
func TestDLQMessageBounds(t *testing.T) {
	src := kafkago.Message{Topic: "onec.events", Partition: 3, Offset: 41, Key: []byte("sku-a"),
		Value: []byte(`{"v":1}`), Headers: []kafkago.Header{{Key: "traceparent", Value: []byte("00-abc")}}}
	const bound = 1 << 20

	m := dlqMessage(src, errors.New("type: required"), bound)
	h := headerMap(m)
	if string(m.Value) != `{"v":1}` || string(m.Key) != "sku-a" || h["traceparent"] != "00-abc" ||
		h[DLQReasonHeader] != "type: required" || h[DLQSourceHeader] != "onec.events/3/41" || h[DLQTruncatedHeader] != "" {
		t.Fatalf("small copy = %q %q %v", m.Key, m.Value, h)
	}

	m = dlqMessage(src, errors.New(strings.Repeat("ж", 600_000)), bound)
	r := headerMap(m)[DLQReasonHeader]
	if len(r) > MaxDLQReasonBytes || !utf8.ValidString(r) || !strings.HasSuffix(r, "…") {
		t.Fatalf("long reason: %d bytes, valid UTF-8 %v", len(r), utf8.ValidString(r))
	}

	big := src
	big.Value = []byte(strings.Repeat("x", bound-100))
	m = dlqMessage(big, errors.New("unknown type"), bound)
	h = headerMap(m)
	if messageSize(m) > bound || h[DLQTruncatedHeader] != "1048476" || len(m.Value) < bound-4096 || string(m.Key) != "sku-a" {
		t.Fatalf("big copy: %d bytes counted, value %d, headers %v", messageSize(m), len(m.Value), h)
	}

	huge := src
	huge.Key = []byte(strings.Repeat("k", bound))
	m = dlqMessage(huge, errors.New("unknown type"), bound)
	h = headerMap(m)
	if messageSize(m) > bound || len(m.Key) != 0 || len(m.Value) != 0 || h[DLQSourceHeader] != "onec.events/3/41" || h[DLQReasonHeader] == "" {
		t.Fatalf("huge-key copy: %d bytes counted, key %d, value %d, headers %v", messageSize(m), len(m.Key), len(m.Value), h)
	}
}

// TestMessageSizeCoversKafkaGo: messageSize is never below kafka-go's own
// count: a writer whose bound is exactly messageSize(m) takes m.
func TestMessageSizeCoversKafkaGo(t *testing.T) {
	topic := testsvc.UniqueName(t, "size")
	brokers := testsvc.Kfake(t, 1, topic)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, m := range []kafkago.Message{
		{Value: []byte("v")},
		{Key: []byte("k"), Value: []byte(strings.Repeat("x", 300))},
		{Key: []byte(strings.Repeat("k", 200)), Value: []byte(strings.Repeat("x", 70_000)),
			Headers: []kafkago.Header{{Key: "a", Value: []byte("b")}, {Key: strings.Repeat("h", 130), Value: []byte(strings.Repeat("v", 20_000))}}},
	} {
		cfg := kafka.DefaultWriterConfig(brokers, topic)
		cfg.MaxBatchBytes = messageSize(m)
		w, err := kafka.NewWriter(cfg)
		if err != nil {
			t.Fatal(err)
		}
		err = w.WriteMessages(ctx, m)
		w.Close()
		if err != nil {
			t.Fatalf("a %d-byte bound (messageSize) refused the message: %v", cfg.MaxBatchBytes, err)
		}
		if cfg.MaxBatchBytes = messageSize(m) - 32; cfg.MaxBatchBytes < 1 {
			continue // the count is at most 32 bytes generous for these
		}
		if w, err = kafka.NewWriter(cfg); err != nil {
			t.Fatal(err)
		}
		err = w.WriteMessages(ctx, m)
		w.Close()
		var tooLarge kafkago.MessageTooLargeError
		if !errors.As(err, &tooLarge) {
			t.Fatalf("a bound 32 bytes under messageSize took the message (err %v): the count is looser than it says", err)
		}
	}
}
