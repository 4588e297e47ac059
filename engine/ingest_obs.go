package engine

import (
	"context"
	"sort"
	"strconv"
	"sync"

	kafkago "github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"stockd/adapters/telemetry"
)

// MaxLagPartitions bounds the partitions whose lag is tracked.
const MaxLagPartitions = 1024

// lagTracker is the Kafka consumer lag per partition: the high watermark
// of the latest fetch minus the next offset to make durable. The fetch
// side notes high watermarks as batches are applied, the acknowledge side
// the offsets made durable; a scrape reads both.
type lagTracker struct {
	mu           sync.Mutex
	topic, group string
	parts        map[int]*partitionLag
}

type partitionLag struct {
	hwm     int64 // high watermark of the latest fetched message
	next    int64 // next offset to make durable
	fetched int64 // next offset to fetch
}

func newLagTracker() *lagTracker { return &lagTracker{parts: make(map[int]*partitionLag)} }

func (t *lagTracker) setSource(topic, group string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.topic != topic || t.group != group {
		clear(t.parts)
	}
	t.topic, t.group = topic, group
}

// fetched notes the high watermark of each fetched message's partition;
// a partition seen for the first time starts at the first message.
func (t *lagTracker) fetched(batch []fetched) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range batch {
		m := &batch[i].msg
		p, ok := t.parts[m.Partition]
		if !ok {
			if len(t.parts) >= MaxLagPartitions {
				continue
			}
			p = &partitionLag{next: m.Offset}
			t.parts[m.Partition] = p
		}
		p.hwm = max(p.hwm, m.HighWaterMark, m.Offset+1)
		p.fetched = max(p.fetched, m.Offset+1)
	}
}

// caughtUp reports whether every partition seen was fetched up to its
// latest high watermark: nothing known to be waiting in Kafka. A missing
// 1C seq is a gap only then; before, it may be in a partition behind.
func (t *lagTracker) caughtUp() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, p := range t.parts {
		if p.fetched < p.hwm {
			return false
		}
	}
	return true
}

// durable moves each partition's next offset past the durable messages.
func (t *lagTracker) durable(msgs []kafkago.Message) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range msgs {
		if p, ok := t.parts[msgs[i].Partition]; ok {
			p.next = max(p.next, msgs[i].Offset+1)
		}
	}
}

// partitions is the telemetry source of stockd.kafka.consumer.lag.
func (t *lagTracker) partitions() []telemetry.PartitionLag {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]telemetry.PartitionLag, 0, len(t.parts))
	for id, p := range t.parts {
		out = append(out, telemetry.PartitionLag{Topic: t.topic, Group: t.group, Partition: id, Lag: max(p.hwm-p.next, 0)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Partition < out[j].Partition })
	return out
}

// countConsumed counts the batch's messages per partition.
func (in *ingest) countConsumed(ctx context.Context, batch []fetched) {
	if in.obs.inst == nil {
		return
	}
	for i := 0; i < len(batch); {
		part, j := batch[i].msg.Partition, i+1
		for j < len(batch) && batch[j].msg.Partition == part {
			j++
		}
		in.obs.inst.KafkaConsumed(ctx, in.topic, part, in.group, int64(j-i))
		i = j
	}
}

var consumerSpanKind = trace.WithSpanKind(trace.SpanKindConsumer)

// startBatchSpan starts the batch's "onec.events process" span: a batch of
// one message continues that message's trace; a larger batch is a root
// span with a link per traced message (sampled ones first, at most
// MaxLinksPerSpan). It returns a nil span when tracing is off.
func (in *ingest) startBatchSpan(ctx context.Context, batch []fetched) (context.Context, trace.Span) {
	if !in.obs.tracing {
		return ctx, nil
	}
	parent := ctx
	opts := []trace.SpanStartOption{consumerSpanKind}
	dropped := 0
	if len(batch) == 1 {
		parent = telemetry.ExtractKafka(ctx, batch[0].msg.Headers)
	} else {
		var links []trace.Link
		links, dropped = batchLinks(batch)
		opts = append(opts, trace.WithNewRoot(), trace.WithLinks(links...))
	}
	sctx, span := in.obs.tracer.Start(parent, telemetry.SpanEventsProcess, opts...)
	if span.IsRecording() {
		span.SetAttributes(semconv.MessagingSystemKafka, semconv.MessagingDestinationName(in.topic),
			semconv.MessagingConsumerGroupName(in.group), semconv.MessagingOperationTypeProcess,
			semconv.MessagingBatchMessageCount(len(batch)))
		if part, ok := onePartition(batch); ok {
			span.SetAttributes(semconv.MessagingDestinationPartitionID(strconv.Itoa(part)))
		}
		if dropped > 0 {
			span.SetAttributes(attribute.Int(telemetry.AttrLinksDropped, dropped))
		}
	}
	return sctx, span
}

// batchLinks are the links to the batch's traced messages, sampled ones
// first, at most MaxLinksPerSpan; dropped counts the traced ones left out.
func batchLinks(batch []fetched) (links []trace.Link, dropped int) {
	var unsampled []trace.Link
	for i := range batch {
		l, ok := telemetry.KafkaLink(batch[i].msg.Headers)
		switch {
		case !ok:
		case l.SpanContext.IsSampled() && len(links) < telemetry.MaxLinksPerSpan:
			links = append(links, l)
		case !l.SpanContext.IsSampled() && len(unsampled) < telemetry.MaxLinksPerSpan:
			unsampled = append(unsampled, l)
		default:
			dropped++
		}
	}
	room := telemetry.MaxLinksPerSpan - len(links)
	if len(unsampled) > room {
		dropped += len(unsampled) - room
		unsampled = unsampled[:room]
	}
	return append(links, unsampled...), dropped
}

func onePartition(batch []fetched) (int, bool) {
	part := batch[0].msg.Partition
	for i := range batch {
		if batch[i].msg.Partition != part {
			return 0, false
		}
	}
	return part, true
}

// applyTraced applies the events inside a "ledger apply" span, a child of
// the batch's span (when tracing).
func (in *ingest) applyTraced(ctx context.Context, batch []fetched, rawBytes int64) ([]EventResult, pending, error) {
	if !in.obs.tracing {
		return in.beginWithBackpressure(ctx, batch, rawBytes)
	}
	_, span := in.obs.tracer.Start(ctx, telemetry.SpanLedgerApply)
	results, p, err := in.beginWithBackpressure(ctx, batch, rawBytes)
	if span.IsRecording() {
		span.SetAttributes(attribute.Int(telemetry.AttrEventsApplied, len(results)))
	}
	span.End()
	return results, p, err
}
