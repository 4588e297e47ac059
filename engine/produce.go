package engine

import (
	"context"
	"fmt"

	kafkago "github.com/segmentio/kafka-go"

	"stockd/adapters/httpapi"
	"stockd/adapters/kafka"
	"stockd/reservation"
)

// eventProducer writes validated 1C events to onec.events, keyed by SKU so
// each SKU's events stay in one partition, in order.
type eventProducer struct {
	w *kafka.Writer
}

var _ httpapi.EventProducer = (*eventProducer)(nil)

func newEventProducer(cfg KafkaConfig) (*eventProducer, error) {
	w, err := kafka.NewWriter(kafka.DefaultWriterConfig(cfg.Brokers, cfg.EventsTopic))
	if err != nil {
		return nil, fmt.Errorf("engine: events writer: %w", err)
	}
	return &eventProducer{w: w}, nil
}

// ProduceEvents implements httpapi.EventProducer.
func (p *eventProducer) ProduceEvents(ctx context.Context, raw [][]byte, events []reservation.Event) error {
	msgs := make([]kafkago.Message, len(raw))
	for i := range raw {
		msgs[i] = kafkago.Message{Key: []byte(EventKey(&events[i])), Value: raw[i]}
	}
	if err := p.w.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("%w: %v", httpapi.ErrEventsUnavailable, err)
	}
	return nil
}

func (p *eventProducer) Close() error { return p.w.Close() }

// EventKey is the Kafka key of an event: its SKU, or for a standalone
// hand-off the reservation id.
func EventKey(ev *reservation.Event) string {
	if ev.SKU != "" {
		return ev.SKU
	}
	return ev.ReservationID
}
