package telemetry

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// Reservation outcomes, the outcome attribute of stockd.reservation.outcomes.
const (
	OutcomeCreated             = "created"              // 201
	OutcomeReplayed            = "replayed"             // 200, an exact replay
	OutcomeInsufficientStock   = "insufficient_stock"   // 409
	OutcomeIdempotencyConflict = "idempotency_conflict" // 422, same id, another body
	OutcomeInvalid             = "invalid"              // 400, 413, 422 validation
	OutcomeOverloaded          = "overloaded"           // 429
	OutcomeUnavailable         = "unavailable"          // 503, journal down
)

// Ledger operations, the operation attribute of stockd.ledger.operations.
const (
	OpHold    = "hold"
	OpConfirm = "confirm"
	OpRelease = "release"
	OpExpire  = "expire"
	OpHandoff = "handoff"
	OpApply   = "apply" // a 1C event applied
)

// Journal operations, the operation attribute of stockd.journal.errors.
const (
	JournalOpAppend   = "append"
	JournalOpSync     = "sync"
	JournalOpSnapshot = "snapshot"
	JournalOpReopen   = "reopen"
)

// Histogram bucket boundaries (explicit advice to the SDK). The latency
// buckets start at 100 µs: a reserve answers in tens of microseconds plus
// the journal's group commit.
func latencyBuckets() []float64 {
	return []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
		0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
}

func flushLatencyBuckets() []float64 {
	return []float64{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
		0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}
}

func flushRecordBuckets() []float64 {
	return []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192}
}

func flushByteBuckets() []float64 {
	return []float64{256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20}
}

// Instruments are the metrics stockd records, built once from a Meter and
// shared by every component. The synchronous ones are recorded where the
// event happens, through the helpers below (which reuse attribute sets, so
// a record allocates nothing); the observable ones are read at collection
// from the Sources registered with Observe.
type Instruments struct {
	HTTPServerDuration   metric.Float64Histogram
	ReserveOutcomes      metric.Int64Counter
	LedgerOperations     metric.Int64Counter
	MessagingConsumed    metric.Int64Counter
	MessagingSent        metric.Int64Counter
	MessagingProcess     metric.Float64Histogram
	JournalFlushRecords  metric.Int64Histogram
	JournalFlushSize     metric.Int64Histogram
	JournalFlushDuration metric.Float64Histogram
	JournalErrors        metric.Int64Counter

	meter metric.Meter
	obs   observables

	httpSets    *attrCache[httpKey]
	reserveSets *attrCache[[2]string]
	opSets      *attrCache[string]
	topicSets   *attrCache[string]
	consumeSets *attrCache[consumeKey]
	sentSets    *attrCache[[2]string]
	backendSets *attrCache[string]
	jerrSets    *attrCache[[2]string]
}

type httpKey struct {
	method, route string
	status        int
}

type consumeKey struct {
	topic, group string
	partition    int
}

// NewInstruments creates every instrument of Specs on meter.
func NewInstruments(meter metric.Meter) (*Instruments, error) {
	specs := make(map[string]InstrumentSpec)
	for _, s := range Specs() {
		specs[s.Name] = s
	}
	b := builder{meter: meter, specs: specs}
	in := &Instruments{meter: meter}
	in.HTTPServerDuration = b.f64Histogram(MetricHTTPServerDuration, latencyBuckets())
	in.ReserveOutcomes = b.i64Counter(MetricReserveOutcomes)
	in.LedgerOperations = b.i64Counter(MetricLedgerOperations)
	in.MessagingConsumed = b.i64Counter(MetricMessagingConsumed)
	in.MessagingSent = b.i64Counter(MetricMessagingSent)
	in.MessagingProcess = b.f64Histogram(MetricMessagingProcess, latencyBuckets())
	in.JournalFlushRecords = b.i64Histogram(MetricJournalFlushRecords, flushRecordBuckets())
	in.JournalFlushSize = b.i64Histogram(MetricJournalFlushSize, flushByteBuckets())
	in.JournalFlushDuration = b.f64Histogram(MetricJournalFlushDuration, flushLatencyBuckets())
	in.JournalErrors = b.i64Counter(MetricJournalErrors)
	in.obs = newObservables(&b)
	if b.err != nil {
		return nil, b.err
	}
	in.newCaches()
	return in, nil
}

func (in *Instruments) newCaches() {
	kafka := semconv.MessagingSystemKafka
	in.httpSets = newAttrCache(func(k httpKey) attribute.Set {
		return attribute.NewSet(semconv.HTTPRequestMethodKey.String(k.method),
			semconv.HTTPRouteKey.String(k.route), semconv.HTTPResponseStatusCodeKey.Int(k.status))
	})
	in.reserveSets = newAttrCache(func(k [2]string) attribute.Set {
		return attribute.NewSet(attribute.String("channel", k[0]), attribute.String("outcome", k[1]))
	})
	in.opSets = newAttrCache(func(op string) attribute.Set { return attribute.NewSet(attribute.String("operation", op)) })
	in.topicSets = newAttrCache(func(topic string) attribute.Set {
		return attribute.NewSet(kafka, semconv.MessagingDestinationNameKey.String(topic))
	})
	in.consumeSets = newAttrCache(func(k consumeKey) attribute.Set {
		return attribute.NewSet(kafka, semconv.MessagingDestinationNameKey.String(k.topic),
			semconv.MessagingDestinationPartitionIDKey.String(strconv.Itoa(k.partition)),
			semconv.MessagingConsumerGroupNameKey.String(k.group))
	})
	in.sentSets = newAttrCache(func(k [2]string) attribute.Set {
		if k[1] == "" {
			return attribute.NewSet(kafka, semconv.MessagingDestinationNameKey.String(k[0]))
		}
		return attribute.NewSet(kafka, semconv.MessagingDestinationNameKey.String(k[0]), semconv.ErrorTypeKey.String(k[1]))
	})
	in.backendSets = newAttrCache(func(backend string) attribute.Set {
		return attribute.NewSet(attribute.String("backend", backend))
	})
	in.jerrSets = newAttrCache(func(k [2]string) attribute.Set {
		return attribute.NewSet(attribute.String("backend", k[0]), attribute.String("operation", k[1]))
	})
}

// RecordHTTP records one HTTP request. route is the route template
// ("/v1/reservations/{id}/confirm"), never the raw path, so the series
// stay few. Pass the request's ctx: a sampled span in it becomes the
// latency bucket's exemplar.
func (in *Instruments) RecordHTTP(ctx context.Context, method, route string, status int, elapsed time.Duration) {
	in.HTTPServerDuration.Record(ctx, elapsed.Seconds(), in.httpSets.get(httpKey{method, route, status}).record...)
}

// ReserveOutcome counts one answer to POST /v1/reservations.
func (in *Instruments) ReserveOutcome(ctx context.Context, channel, outcome string) {
	in.ReserveOutcomes.Add(ctx, 1, in.reserveSets.get([2]string{channel, outcome}).add...)
}

// LedgerOperation counts n durable ledger changes of one operation (Op*).
func (in *Instruments) LedgerOperation(ctx context.Context, op string, n int64) {
	in.LedgerOperations.Add(ctx, n, in.opSets.get(op).add...)
}

// KafkaConsumed counts n messages fetched from one partition.
func (in *Instruments) KafkaConsumed(ctx context.Context, topic string, partition int, group string, n int64) {
	in.MessagingConsumed.Add(ctx, n, in.consumeSets.get(consumeKey{topic, group, partition}).add...)
}

// KafkaSent counts n messages produced to topic; errorType is "" on
// success, otherwise a short class of the failure ("timeout", "unavailable").
func (in *Instruments) KafkaSent(ctx context.Context, topic string, n int64, errorType string) {
	in.MessagingSent.Add(ctx, n, in.sentSets.get([2]string{topic, errorType}).add...)
}

// BatchProcessed records the time to apply one fetched batch of topic,
// from the fetch to the journal flush that made it durable.
func (in *Instruments) BatchProcessed(ctx context.Context, topic string, elapsed time.Duration) {
	in.MessagingProcess.Record(ctx, elapsed.Seconds(), in.topicSets.get(topic).record...)
}

// JournalFlush records one group-commit flush of the backend ("file",
// "postgres").
func (in *Instruments) JournalFlush(ctx context.Context, backend string, records int, bytes int64, elapsed time.Duration) {
	opts := in.backendSets.get(backend).record
	in.JournalFlushRecords.Record(ctx, int64(records), opts...)
	in.JournalFlushSize.Record(ctx, bytes, opts...)
	in.JournalFlushDuration.Record(ctx, elapsed.Seconds(), opts...)
}

// StartJournal makes the backend's error series exist at zero, so an
// alert on their increase sees the first error.
func (in *Instruments) StartJournal(ctx context.Context, backend string) {
	for _, op := range [...]string{JournalOpAppend, JournalOpSync, JournalOpSnapshot, JournalOpReopen} {
		in.JournalErrors.Add(ctx, 0, in.jerrSets.get([2]string{backend, op}).add...)
	}
}

// JournalError counts one failed journal operation (JournalOp*).
func (in *Instruments) JournalError(ctx context.Context, backend, op string) {
	in.JournalErrors.Add(ctx, 1, in.jerrSets.get([2]string{backend, op}).add...)
}

// builder creates instruments from their specs, keeping the first error.
type builder struct {
	meter metric.Meter
	specs map[string]InstrumentSpec
	err   error
}

func (b *builder) spec(name string) InstrumentSpec {
	s, ok := b.specs[name]
	if !ok {
		panic(fmt.Sprintf("telemetry: instrument %q has no spec", name))
	}
	return s
}

func (b *builder) fail(name string, err error) {
	if err != nil && b.err == nil {
		b.err = fmt.Errorf("telemetry: instrument %s: %w", name, err)
	}
}

func (b *builder) f64Histogram(name string, buckets []float64) metric.Float64Histogram {
	s := b.spec(name)
	h, err := b.meter.Float64Histogram(name, metric.WithUnit(s.Unit), metric.WithDescription(s.Help),
		metric.WithExplicitBucketBoundaries(buckets...))
	b.fail(name, err)
	return h
}

func (b *builder) i64Histogram(name string, buckets []float64) metric.Int64Histogram {
	s := b.spec(name)
	h, err := b.meter.Int64Histogram(name, metric.WithUnit(s.Unit), metric.WithDescription(s.Help),
		metric.WithExplicitBucketBoundaries(buckets...))
	b.fail(name, err)
	return h
}

func (b *builder) i64Counter(name string) metric.Int64Counter {
	s := b.spec(name)
	c, err := b.meter.Int64Counter(name, metric.WithUnit(s.Unit), metric.WithDescription(s.Help))
	b.fail(name, err)
	return c
}

func (b *builder) i64ObservableCounter(name string) metric.Int64ObservableCounter {
	s := b.spec(name)
	c, err := b.meter.Int64ObservableCounter(name, metric.WithUnit(s.Unit), metric.WithDescription(s.Help))
	b.fail(name, err)
	return c
}

func (b *builder) f64ObservableCounter(name string) metric.Float64ObservableCounter {
	s := b.spec(name)
	c, err := b.meter.Float64ObservableCounter(name, metric.WithUnit(s.Unit), metric.WithDescription(s.Help))
	b.fail(name, err)
	return c
}

func (b *builder) i64Gauge(name string) metric.Int64ObservableGauge {
	s := b.spec(name)
	g, err := b.meter.Int64ObservableGauge(name, metric.WithUnit(s.Unit), metric.WithDescription(s.Help))
	b.fail(name, err)
	return g
}

func (b *builder) f64Gauge(name string) metric.Float64ObservableGauge {
	s := b.spec(name)
	g, err := b.meter.Float64ObservableGauge(name, metric.WithUnit(s.Unit), metric.WithDescription(s.Help))
	b.fail(name, err)
	return g
}
