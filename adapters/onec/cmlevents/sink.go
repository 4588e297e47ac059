package cmlevents

import (
	"context"

	kafkago "github.com/segmentio/kafka-go"
)

// Message is one event ready for Kafka: Key is the SKU, Value the event's JSON.
type Message struct {
	Key   []byte
	Value []byte
}

// Sink receives the events of an import, one bounded batch at a time. Publish returns
// once the batch is durable (for Kafka: acknowledged by every in-sync replica); it must
// not keep msgs after it returns.
type Sink interface {
	Publish(ctx context.Context, msgs []Message) error
}

// MessageWriter is the part of a Kafka writer a WriterSink uses; *kafka.Writer (and
// kafka-go's *Writer) implement it.
type MessageWriter interface {
	WriteMessages(ctx context.Context, msgs ...kafkago.Message) error
}

// WriterSink publishes to Kafka through a synchronous writer (adapters/kafka.NewWriter,
// acks=all), keyed by SKU.
type WriterSink struct {
	W MessageWriter
}

var _ Sink = WriterSink{}

// Publish writes msgs and returns once the writer has them acknowledged.
func (s WriterSink) Publish(ctx context.Context, msgs []Message) error {
	out := make([]kafkago.Message, len(msgs))
	for i, m := range msgs {
		out[i] = kafkago.Message{Key: m.Key, Value: m.Value}
	}
	return s.W.WriteMessages(ctx, out...)
}

// DiscardSink counts what it is given and publishes nothing (a dry run).
type DiscardSink struct{}

var _ Sink = DiscardSink{}

// Publish does nothing.
func (DiscardSink) Publish(context.Context, []Message) error { return nil }
