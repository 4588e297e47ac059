package engine

import (
	"context"
	"fmt"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"stockd/adapters/httpapi"
	"stockd/adapters/kafka"
	"stockd/adapters/onec/cmlevents"
	"stockd/adapters/telemetry"
	"stockd/reservation"
)

// eventProducer writes validated 1C events to onec.events, keyed by SKU so
// each SKU's events stay in one partition, in order. Every write is an
// "onec.events publish" producer span whose context each message carries
// in its traceparent header.
type eventProducer struct {
	w        *kafka.Writer
	topic    string
	now      func() time.Time       // the engine's clock
	maxAhead time.Duration          // kafka.max_event_ahead
	tracer   trace.Tracer           // nil: no span (context still passes on)
	inst     *telemetry.Instruments // nil: not counted
}

var (
	_ httpapi.EventProducer   = (*eventProducer)(nil)
	_ httpapi.EventChecker    = (*eventProducer)(nil)
	_ cmlevents.MessageWriter = (*eventProducer)(nil)
)

func newEventProducer(cfg KafkaConfig, now func() time.Time) (*eventProducer, error) {
	w, err := kafka.NewWriter(kafka.DefaultWriterConfig(cfg.Brokers, cfg.EventsTopic))
	if err != nil {
		return nil, fmt.Errorf("engine: events writer: %w", err)
	}
	return &eventProducer{w: w, topic: cfg.EventsTopic, now: now, maxAhead: cfg.MaxEventAhead}, nil
}

// ProduceEvents implements httpapi.EventProducer.
func (p *eventProducer) ProduceEvents(ctx context.Context, raw [][]byte, events []reservation.Event) error {
	msgs := make([]kafkago.Message, len(raw))
	for i := range raw {
		msgs[i] = kafkago.Message{Key: []byte(EventKey(&events[i])), Value: raw[i]}
	}
	if err := p.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("%w: %v", httpapi.ErrEventsUnavailable, err)
	}
	return nil
}

var producerSpanKind = trace.WithSpanKind(trace.SpanKindProducer)

// WriteMessages writes msgs (POST /v1/events, the 1C exchange's imports)
// inside a publish span, with the span's traceparent in every message.
func (p *eventProducer) WriteMessages(ctx context.Context, msgs ...kafkago.Message) error {
	span := trace.SpanFromContext(ctx)
	if p.tracer != nil {
		ctx, span = p.tracer.Start(ctx, telemetry.SpanEventsPublish, producerSpanKind)
		defer span.End()
	}
	for i := range msgs {
		msgs[i].Headers = telemetry.InjectKafka(ctx, msgs[i].Headers)
	}
	err := p.w.WriteMessages(ctx, msgs...)
	if span.IsRecording() {
		span.SetAttributes(semconv.MessagingSystemKafka, semconv.MessagingDestinationName(p.topic),
			semconv.MessagingOperationTypeSend, semconv.MessagingBatchMessageCount(len(msgs)))
		if err != nil {
			span.SetStatus(codes.Error, err.Error())
		}
	}
	if p.inst != nil {
		errType := ""
		if err != nil {
			errType = "write"
		}
		p.inst.KafkaSent(ctx, p.topic, int64(len(msgs)), errType)
	}
	return err
}

func (p *eventProducer) Close() error { return p.w.Close() }

// CheckEvent implements httpapi.EventChecker: an event dated more than
// kafka.max_event_ahead after this server's clock is refused (422), as
// the ingest would send it to the DLQ.
func (p *eventProducer) CheckEvent(ev *reservation.Event) error {
	return ev.CheckNotAhead(p.now(), p.maxAhead)
}

// EventKey is the Kafka key of an event: its SKU, or for a standalone
// hand-off the reservation id.
func EventKey(ev *reservation.Event) string {
	if ev.SKU != "" {
		return ev.SKU
	}
	return ev.ReservationID
}
