package telemetry

import (
	"context"
	"math"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// Sources are read at every collection (a Prometheus scrape, an OTLP
// export) from the collecting goroutine. Each must be cheap, safe to call
// concurrently with the component's own work, and do no I/O: it reads
// counters and sizes the component keeps anyway. A nil source is skipped.
//
// Counts a component already keeps (the ingest counters, a channel's
// Stats) are observed here rather than recorded at the event, so the hot
// path pays nothing for them.
type Sources struct {
	Ledger     func() LedgerState
	Ingest     func() IngestCounts
	KafkaLag   func() []PartitionLag
	Channels   func() []ChannelState
	Violations func() []Violation
}

// LedgerState is the ledger's size.
type LedgerState struct {
	Holds     []StateCount // by state: held, confirmed, …
	SKUs      int64
	ShortSKUs int64
}

// StateCount is the number of holds in one state.
type StateCount struct {
	State string
	Holds int64
}

// IngestCounts are the ingest loop's counters since start.
type IngestCounts struct {
	Events     []ResultCount // by result: applied, stale, duplicate, …
	DLQ        uint64
	SeqGaps    uint64
	Fractional uint64
}

// ResultCount is the number of events with one result.
type ResultCount struct {
	Result string
	Events uint64
}

// PartitionLag is how far the ledger is behind one partition: the high
// watermark of the last fetch minus the next offset to apply.
type PartitionLag struct {
	Topic     string
	Group     string
	Partition int
	Lag       int64
}

// ChannelState is one marketplace channel's push side.
type ChannelState struct {
	Channel string
	Kind    string // ozon, wildberries, yandexmarket, site
	// Freshness is the age of the oldest change not yet acknowledged.
	Freshness time.Duration
	// FreshnessSLO is the channel's objective; 0 observes none.
	FreshnessSLO time.Duration
	Stock, Price PushState
	// Quarantined offers by reason.
	Invalid, AwaitingApproval, MappingErrors int64
	Dropped                                  uint64
	Limiters                                 []LimiterState
}

// PushState is one push worker (stock or price): its queue and counters
// since start.
type PushState struct {
	ToZero, Decrease, Increase, PriceChange int64 // ready offers by priority
	InFlight                                int64
	Requests, RequestErrors                 uint64
	Acked, Rejected, Skipped, Retries       uint64
}

// LimiterState is one rate-limit bucket.
type LimiterState struct {
	Name        string
	Waits       uint64
	Waited      time.Duration
	Utilization float64
}

// Violation is a marketplace simulator's count of one broken rule.
type Violation struct {
	Marketplace string
	Rule        string
	Count       int64
}

// observables are the instruments read by callbacks.
type observables struct {
	holds, skus, shortSKUs                   metric.Int64ObservableGauge
	lag                                      metric.Int64ObservableGauge
	events, dlq, gaps, fractional            metric.Int64ObservableCounter
	freshness, freshnessSLO, limiterUse      metric.Float64ObservableGauge
	queueDepth, inFlight, quarantined        metric.Int64ObservableGauge
	requests, items, retries, dropped, waits metric.Int64ObservableCounter
	waitTime                                 metric.Float64ObservableCounter
	violations                               metric.Int64ObservableCounter
}

func newObservables(b *builder) observables {
	return observables{
		holds:        b.i64Gauge(MetricLedgerHolds),
		skus:         b.i64Gauge(MetricLedgerSKUs),
		shortSKUs:    b.i64Gauge(MetricLedgerShortSKUs),
		lag:          b.i64Gauge(MetricKafkaLag),
		events:       b.i64ObservableCounter(MetricIngestEvents),
		dlq:          b.i64ObservableCounter(MetricIngestDLQ),
		gaps:         b.i64ObservableCounter(MetricIngestSeqGaps),
		fractional:   b.i64ObservableCounter(MetricIngestFractional),
		freshness:    b.f64Gauge(MetricChannelFreshness),
		freshnessSLO: b.f64Gauge(MetricChannelFreshnessSLO),
		queueDepth:   b.i64Gauge(MetricChannelQueueDepth),
		inFlight:     b.i64Gauge(MetricChannelInFlight),
		quarantined:  b.i64Gauge(MetricChannelQuarantined),
		requests:     b.i64ObservableCounter(MetricChannelPushRequests),
		items:        b.i64ObservableCounter(MetricChannelPushItems),
		retries:      b.i64ObservableCounter(MetricChannelPushRetries),
		dropped:      b.i64ObservableCounter(MetricChannelDropped),
		waits:        b.i64ObservableCounter(MetricChannelLimiterWaits),
		waitTime:     b.f64ObservableCounter(MetricChannelLimiterWaitTime),
		limiterUse:   b.f64Gauge(MetricChannelLimiterUse),
		violations:   b.i64ObservableCounter(MetricMarketsimViolations),
	}
}

// Observe registers src's callbacks; call Unregister on the result when
// the component stops. Register each source once: two registrations of
// the same source report its series twice.
func (in *Instruments) Observe(src Sources) (metric.Registration, error) {
	o := &in.obs
	var insts []metric.Observable
	if src.Ledger != nil {
		insts = append(insts, o.holds, o.skus, o.shortSKUs)
	}
	if src.Ingest != nil {
		insts = append(insts, o.events, o.dlq, o.gaps, o.fractional)
	}
	if src.KafkaLag != nil {
		insts = append(insts, o.lag)
	}
	if src.Channels != nil {
		insts = append(insts, o.freshness, o.freshnessSLO, o.queueDepth, o.inFlight, o.quarantined,
			o.requests, o.items, o.retries, o.dropped, o.waits, o.waitTime, o.limiterUse)
	}
	if src.Violations != nil {
		insts = append(insts, o.violations)
	}
	return in.meter.RegisterCallback(func(_ context.Context, obs metric.Observer) error {
		if src.Ledger != nil {
			o.observeLedger(obs, src.Ledger())
		}
		if src.Ingest != nil {
			o.observeIngest(obs, src.Ingest())
		}
		if src.KafkaLag != nil {
			for _, p := range src.KafkaLag() {
				obs.ObserveInt64(o.lag, p.Lag, metric.WithAttributes(semconv.MessagingSystemKafka,
					semconv.MessagingDestinationNameKey.String(p.Topic),
					semconv.MessagingDestinationPartitionIDKey.String(strconv.Itoa(p.Partition)),
					semconv.MessagingConsumerGroupNameKey.String(p.Group)))
			}
		}
		if src.Channels != nil {
			for _, ch := range src.Channels() {
				o.observeChannel(obs, ch)
			}
		}
		if src.Violations != nil {
			for _, v := range src.Violations() {
				obs.ObserveInt64(o.violations, v.Count, metric.WithAttributes(
					attribute.String("marketplace", v.Marketplace), attribute.String("rule", v.Rule)))
			}
		}
		return nil
	}, insts...)
}

func (o *observables) observeLedger(obs metric.Observer, st LedgerState) {
	for _, s := range st.Holds {
		obs.ObserveInt64(o.holds, s.Holds, metric.WithAttributes(attribute.String("state", s.State)))
	}
	obs.ObserveInt64(o.skus, st.SKUs)
	obs.ObserveInt64(o.shortSKUs, st.ShortSKUs)
}

func (o *observables) observeIngest(obs metric.Observer, c IngestCounts) {
	for _, r := range c.Events {
		obs.ObserveInt64(o.events, clampInt64(r.Events), metric.WithAttributes(attribute.String("result", r.Result)))
	}
	obs.ObserveInt64(o.dlq, clampInt64(c.DLQ))
	obs.ObserveInt64(o.gaps, clampInt64(c.SeqGaps))
	obs.ObserveInt64(o.fractional, clampInt64(c.Fractional))
}

func (o *observables) observeChannel(obs metric.Observer, ch ChannelState) {
	channel, kind := attribute.String("channel", ch.Channel), attribute.String("kind", ch.Kind)
	base := metric.WithAttributes(channel, kind)
	obs.ObserveFloat64(o.freshness, ch.Freshness.Seconds(), base)
	if ch.FreshnessSLO > 0 {
		obs.ObserveFloat64(o.freshnessSLO, ch.FreshnessSLO.Seconds(), base)
	}
	for _, q := range [...]labelled{{"invalid", ch.Invalid}, {"price_approval", ch.AwaitingApproval}, {"mapping", ch.MappingErrors}} {
		obs.ObserveInt64(o.quarantined, q.n, metric.WithAttributes(channel, kind, attribute.String("reason", q.label)))
	}
	obs.ObserveInt64(o.dropped, clampInt64(ch.Dropped), base)
	for _, m := range [...]struct {
		name string
		st   *PushState
	}{{"stock", &ch.Stock}, {"price", &ch.Price}} {
		o.observePush(obs, channel, kind, attribute.String("method", m.name), m.st)
	}
	for _, l := range ch.Limiters {
		opt := metric.WithAttributes(channel, kind, attribute.String("limiter", l.Name))
		obs.ObserveInt64(o.waits, clampInt64(l.Waits), opt)
		obs.ObserveFloat64(o.waitTime, l.Waited.Seconds(), opt)
		obs.ObserveFloat64(o.limiterUse, l.Utilization, opt)
	}
}

func (o *observables) observePush(obs metric.Observer, channel, kind, method attribute.KeyValue, p *PushState) {
	with := func(key, value string) metric.ObserveOption {
		return metric.WithAttributes(channel, kind, method, attribute.String(key, value))
	}
	for _, q := range [...]labelled{{"to_zero", p.ToZero}, {"decrease", p.Decrease}, {"increase", p.Increase}, {"price", p.PriceChange}} {
		obs.ObserveInt64(o.queueDepth, q.n, with("priority", q.label))
	}
	obs.ObserveInt64(o.inFlight, p.InFlight, metric.WithAttributes(channel, kind, method))
	errs := min(p.RequestErrors, p.Requests)
	obs.ObserveInt64(o.requests, clampInt64(p.Requests-errs), with("result", "ok"))
	obs.ObserveInt64(o.requests, clampInt64(errs), with("result", "error"))
	obs.ObserveInt64(o.items, clampInt64(p.Acked), with("result", "acked"))
	obs.ObserveInt64(o.items, clampInt64(p.Rejected), with("result", "rejected"))
	obs.ObserveInt64(o.items, clampInt64(p.Skipped), with("result", "skipped"))
	obs.ObserveInt64(o.retries, clampInt64(p.Retries), metric.WithAttributes(channel, kind, method))
}

// labelled is one value of an attribute and its count.
type labelled struct {
	label string
	n     int64
}

func clampInt64(n uint64) int64 {
	if n > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(n)
}
