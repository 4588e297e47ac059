package engine

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"stockd/adapters/telemetry"
	"stockd/engine/journal"
	"stockd/feeds"
	"stockd/reservation"
)

// observability is the engine's tracing and alerting state beside the
// instruments: the tracer of its own spans and the counts the alerts read.
type observability struct {
	tracer trace.Tracer
	// tracing is false when spans are not recorded: the ingest then skips
	// building its batch spans' links.
	tracing bool
	// journalErrors counts failed journal writes (the alerts read it).
	journalErrors atomic.Uint64
}

// openTelemetry builds the instruments and registers the gauges read at
// scrape time (ledger size, ingest counters, Kafka lag, channel state), so
// the hot paths pay nothing for them.
func (e *Engine) openTelemetry(tel *telemetry.Telemetry) error {
	if tel == nil {
		tel = telemetry.Nop()
	}
	inst, err := telemetry.NewInstruments(tel.Meter("stockd"))
	if err != nil {
		return fmt.Errorf("engine: telemetry instruments: %w", err)
	}
	reg, err := inst.Observe(telemetry.Sources{Ledger: e.ledgerState, Ingest: e.ingestCounts,
		KafkaLag: e.ingest.lag.partitions, Channels: e.channelStates})
	if err != nil {
		return fmt.Errorf("engine: telemetry gauges: %w", err)
	}
	e.tel, e.inst, e.telReg = tel, inst, reg
	e.obs = &observability{tracer: tel.Tracer(telemetry.ScopeEngine), tracing: tel.TracingEnabled()}
	e.ingest.obs = ingestObs{inst: inst, tracer: e.obs.tracer, tracing: e.obs.tracing}
	inst.StartJournal(context.Background(), string(e.cfg.Journal.Kind))
	return nil
}

// httpTracing is the tracer and root sampler the HTTP API records its
// server spans with; nil, nil when tracing is off.
func (e *Engine) httpTracing() (trace.Tracer, func() bool) {
	if !e.tel.TracingEnabled() {
		return nil, nil
	}
	return e.tel.Tracer(telemetry.ScopeHTTP), e.tel.SampleRoot
}

// pushTracer is the tracer of the push hub's batch spans; nil when
// tracing is off.
func (e *Engine) pushTracer() trace.Tracer {
	if !e.obs.tracing {
		return nil
	}
	return e.tel.Tracer(telemetry.ScopeFeeds)
}

// recordGroup is the committer's OnGroup: journal flush size and latency,
// and a "journal flush" span per group (a root span: the group carries
// many requests' records; sampled by the ratio).
func (e *Engine) recordGroup(s journal.GroupStats) {
	backend := string(e.cfg.Journal.Kind)
	if s.Err != nil {
		e.obs.journalErrors.Add(1)
		e.inst.JournalError(context.Background(), backend, telemetry.JournalOpAppend)
	} else {
		e.inst.JournalFlush(context.Background(), backend, s.Records, s.Bytes, s.Duration)
	}
	if !e.obs.tracing || s.Records == 0 {
		return
	}
	_, span := e.obs.tracer.Start(context.Background(), telemetry.SpanJournalFlush,
		trace.WithTimestamp(s.Start), trace.WithSpanKind(trace.SpanKindInternal))
	if span.IsRecording() {
		span.SetAttributes(attribute.String(telemetry.AttrJournalBackend, backend),
			attribute.Int(telemetry.AttrJournalRecords, s.Records), attribute.Int64(telemetry.AttrJournalBytes, s.Bytes),
			attribute.Int(telemetry.AttrJournalTickets, s.Tickets),
			attribute.Int64(telemetry.AttrJournalFirstLSN, int64(s.FirstLSN)))
		if s.Err != nil {
			span.SetStatus(codes.Error, s.Err.Error())
		}
	}
	span.End(trace.WithTimestamp(s.Start.Add(s.Duration)))
}

// countOp counts n durable ledger changes of one operation.
func (e *Engine) countOp(ctx context.Context, op string, n int) {
	if n > 0 {
		e.inst.LedgerOperation(ctx, op, int64(n))
	}
}

// changesTraced hands durable ledger changes to the push hub with the span
// context of what made them (a reserve request, an applied Kafka batch),
// when it is sampled, so the push batch that carries them links to it.
func (e *Engine) changesTraced(ctx context.Context, hub *feeds.Hub, ch []reservation.ChannelChange, pr []reservation.PriceChange) {
	hub.OnChangesTraced(telemetry.SampledSpanContext(ctx), ch, pr, e.now())
}

func (e *Engine) ledgerState() telemetry.LedgerState {
	var st telemetry.LedgerState
	e.core.Read(func(l *reservation.Ledger) {
		st.Holds = []telemetry.StateCount{{State: "active", Holds: int64(l.ActiveHolds())}}
		st.SKUs = int64(l.SKUCount())
		st.ShortSKUs = int64(len(l.Short(nil)))
	})
	return st
}

func (e *Engine) ingestCounts() telemetry.IngestCounts {
	st := e.ingest.stats()
	return telemetry.IngestCounts{
		Events: []telemetry.ResultCount{{Result: "applied", Events: st.Applied}, {Result: "stale", Events: st.Stale},
			{Result: "duplicate", Events: st.Duplicate}, {Result: "noop", Events: st.Noop},
			{Result: "rejected", Events: st.Rejected}, {Result: "already_applied", Events: st.AlreadyApplied}},
		DLQ: st.DLQ, SeqGaps: st.SeqGaps, Fractional: st.Fractional,
	}
}

func (e *Engine) channelStates() []telemetry.ChannelState {
	if e.feeds == nil {
		return nil
	}
	var out []telemetry.ChannelState
	for _, name := range e.feeds.hub.Channels() {
		st, err := e.feeds.hub.Stats(name)
		if err != nil {
			continue
		}
		out = append(out, channelState(st, e.cfg.Telemetry.Alerts.SLO(name)))
	}
	return out
}

// channelState is a channel's Stats in the instruments' terms; slo is its
// freshness objective (telemetry.alerts).
func channelState(st feeds.Stats, slo time.Duration) telemetry.ChannelState {
	invalid := max(st.Quarantined-st.AwaitingApproval-st.MappingErrors, 0)
	cs := telemetry.ChannelState{Channel: st.Channel, Kind: string(st.Kind), Freshness: st.Freshness, FreshnessSLO: slo,
		Stock: pushState(st.Stock), Price: pushState(st.Price),
		Invalid: int64(invalid), AwaitingApproval: int64(st.AwaitingApproval), MappingErrors: int64(st.MappingErrors),
		Dropped: st.Dropped}
	for _, l := range st.Limiters {
		cs.Limiters = append(cs.Limiters, telemetry.LimiterState{Name: l.Name, Waits: l.Waits, Waited: l.Waited,
			Utilization: l.Utilisation})
	}
	return cs
}

func pushState(m feeds.MethodStats) telemetry.PushState {
	return telemetry.PushState{ToZero: int64(m.Ready.ToZero), Decrease: int64(m.Ready.Decrease),
		Increase: int64(m.Ready.Increase), PriceChange: int64(m.Ready.Price), InFlight: int64(m.InFlight),
		Requests: m.Requests, RequestErrors: m.RequestErrors, Acked: m.Acked, Rejected: m.Rejected,
		Skipped: m.Skipped, Retries: m.Retries}
}

// closeTelemetry unregisters the gauges (the provider is the caller's).
func (e *Engine) closeTelemetry() {
	if e.telReg != nil {
		e.telReg.Unregister()
	}
}
