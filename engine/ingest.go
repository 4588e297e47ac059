package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"stockd/adapters/kafka"
	"stockd/adapters/telemetry"
	"stockd/engine/journal"
	"stockd/reservation"
)

// Ingest bounds.
const (
	// MaxIngestBatch is the most events applied as one journal group.
	MaxIngestBatch = 1024
	// ingestQueue is how many fetched messages wait for the applier (the
	// fetch stage waits beyond).
	ingestQueue = 8192
	// MaxSeqSources bounds the 1C sources whose seq is tracked for gaps
	// (SeqWindow bits each).
	MaxSeqSources = 256
	// MaxIngestInFlight bounds the batches applied and not yet durable.
	MaxIngestInFlight = 8
	// MaxIngestBatchBytes bounds the message bytes of one batch.
	MaxIngestBatchBytes = 1 << 20
	// ingestBackoff is the wait before retrying a batch the journal queue
	// had no room for.
	ingestBackoff = 20 * time.Millisecond
	// seqGapCheckInterval is how often missing seqs are checked for age.
	seqGapCheckInterval = 100 * time.Millisecond
	// DLQReasonHeader carries why a message went to the DLQ.
	DLQReasonHeader = "stockd-dlq-reason"
	// DLQSourceHeader carries where the message was: topic/partition/offset.
	DLQSourceHeader = "stockd-source"
	// DLQTruncatedHeader, on a DLQ message whose copy would not fit in one
	// Kafka message, carries the original value's length in bytes: the
	// value is cut to fit, and the whole message stays in the source topic
	// at DLQSourceHeader's offset (for its retention).
	DLQTruncatedHeader = "stockd-dlq-truncated"
	// MaxDLQReasonBytes bounds the reason header.
	MaxDLQReasonBytes = 1024
)

// IngestStats are the ingest counters, readable while it runs.
type IngestStats struct {
	Applied, Stale, Duplicate, Noop, Rejected, AlreadyApplied, DLQ, SeqGaps, Fractional uint64
}

// ingest consumes onec.events and applies it to the ledger in partition
// order. Its position comes from the ledger (offsets are journaled with
// the effects), so a message seen again after a crash or a rebalance
// changes nothing; group commits only show lag.
type ingest struct {
	core   *core
	gen    uint64 // the core generation this ingest started in
	log    *slog.Logger
	now    func() time.Time
	reader *kafkago.Reader
	dlq    *kafka.Writer
	// dlqMaxBytes bounds one DLQ message (the writer's MaxBatchBytes)
	dlqMaxBytes int64
	maxAhead    time.Duration // kafka.max_event_ahead
	results     []EventResult // the outcomes of the batch being applied, reused batch after batch
	partResults []EventResult // the outcomes of one part of it (up to a rejected event), reused
	resumeSeen  map[int]bool  // partitions (of the one topic) checkResume looked at in this ingest
	topic       string
	group       string
	brokers     []string
	*ingestCounters
}

// ingestCounters outlive one ingest: a restarted ingest keeps counting.
type ingestCounters struct {
	applied, stale, duplicate, noop, rejected, already, dlqCount, gaps, fractional atomic.Uint64

	seq      *seqGaps
	gapMu    sync.Mutex
	lastGaps []SeqGap // the most recent, at most maxRecentGaps

	lag    *lagTracker
	resume resumeChecks
	obs    ingestObs // set by the engine's openTelemetry
}

// ingestObs is what the ingest records its metrics and spans with.
type ingestObs struct {
	inst    *telemetry.Instruments
	tracer  trace.Tracer
	tracing bool
}

const maxRecentGaps = 100

func newIngestCounters(gapTimeout time.Duration) *ingestCounters {
	return &ingestCounters{seq: newSeqGaps(gapTimeout), lag: newLagTracker(),
		resume: resumeChecks{moved: map[reservation.Partition]int64{}}}
}

func newIngest(cfg KafkaConfig, c *core, ctr *ingestCounters, log *slog.Logger, now func() time.Time) (*ingest, error) {
	rcfg := kafka.DefaultReaderConfig(cfg.Brokers, cfg.EventsTopic, cfg.GroupID)
	rcfg.SessionTimeout, rcfg.RebalanceTimeout = cfg.SessionTimeout, cfg.RebalanceTimeout
	rcfg.HeartbeatInterval = cfg.SessionTimeout / 3
	reader, err := kafka.NewReader(rcfg)
	if err != nil {
		return nil, fmt.Errorf("engine: ingest reader: %w", err)
	}
	dlqCfg := kafka.DefaultWriterConfig(cfg.Brokers, cfg.DLQTopic)
	dlq, err := kafka.NewWriter(dlqCfg)
	if err != nil {
		reader.Close()
		return nil, fmt.Errorf("engine: DLQ writer: %w", err)
	}
	ctr.lag.setSource(cfg.EventsTopic, cfg.GroupID)
	return &ingest{core: c, gen: c.Generation(), log: log, now: now, reader: reader, dlq: dlq,
		dlqMaxBytes: dlqCfg.MaxBatchBytes, maxAhead: cfg.MaxEventAhead, ingestCounters: ctr,
		resumeSeen: map[int]bool{},
		topic:      cfg.EventsTopic, group: cfg.GroupID, brokers: cfg.Brokers}, nil
}

// fetched is a message with its decoded event (or why it did not decode).
type fetched struct {
	msg kafkago.Message
	ev  SourcedEvent
	err error // why it did not decode (sent to the DLQ before the batch)
	// rejected is why the ledger refused it (sent to the DLQ, then
	// applied as a skip)
	rejected error
}

// applied is a batch handed to the journal, waiting to be durable.
type applied struct {
	p     pending
	msgs  []kafkago.Message
	start time.Time
	span  trace.Span // "onec.events process"; nil when tracing is off
}

// run fetches and applies until ctx ends or a batch cannot be made
// durable (then nothing past it is committed, and the caller starts a new
// ingest once the journal has recovered). Three stages, each one
// goroutine, so decoding, applying and flushing overlap:
//
//	fetch+decode ──(bounded)──▶ apply (batches, one journal enqueue each)
//	            ──(at most MaxIngestInFlight batches)──▶ wait durable, commit offsets
//
// Order is kept: one goroutine per stage, FIFO hand-offs between them (a
// fetchQueue, then a channel of batches).
func (in *ingest) run(ctx context.Context) error {
	if err := in.alignWithLedger(ctx); err != nil {
		if cerr := in.close(); cerr != nil {
			in.log.Warn("close kafka reader and DLQ writer", "err", cerr)
		}
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	msgs := newFetchQueue(ingestQueue)
	acks := make(chan applied, MaxIngestInFlight)
	ackErr := make(chan error, 1)
	var stages sync.WaitGroup
	stages.Add(2)
	go func() {
		defer stages.Done()
		in.fetch(ctx, msgs)
	}()
	go func() {
		defer stages.Done()
		if err := in.acknowledge(ctx, acks); err != nil {
			ackErr <- err
			cancel()
		}
	}()
	err := in.applyLoop(ctx, msgs, acks)
	cancel()
	close(acks)
	stages.Wait()
	if cerr := in.close(); cerr != nil {
		in.log.Warn("close kafka reader and DLQ writer", "err", cerr)
	}
	select {
	case aerr := <-ackErr:
		return aerr
	default:
	}
	return err
}

// applyLoop takes what the fetch stage queued, in batches, and applies
// each batch.
func (in *ingest) applyLoop(ctx context.Context, msgs *fetchQueue, acks chan<- applied) error {
	var taken []fetched
	gapCheck := time.NewTicker(seqGapCheckInterval)
	defer gapCheck.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-gapCheck.C:
			// caught up (nothing queued here, nothing left in Kafka): a
			// hole now is not a partition lagging behind
			if msgs.empty() && in.lag.caughtUp() {
				in.reportGaps(in.seq.expired(in.now()))
			}
			continue
		case <-msgs.ready:
		}
		taken = msgs.take(taken)
		for rest := taken; len(rest) > 0; {
			batch := nextBatch(rest)
			rest = rest[len(batch):]
			a, err := in.applyBatch(ctx, batch)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			select {
			case acks <- a:
			case <-ctx.Done():
				return nil
			}
		}
	}
}

// fetch reads messages and decodes them, in partition order.
func (in *ingest) fetch(ctx context.Context, out *fetchQueue) {
	// the clock an event's date is checked against, read again only when
	// an event fails the check: an older reading can only refuse more,
	// never let a later date through, so a refusal is checked once more
	// with the time now and the clock is not read for every event
	var now time.Time
	for {
		m, err := in.reader.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			in.log.Warn("kafka fetch", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		f := fetched{msg: m}
		f.ev.Source = reservation.Source{Topic: m.Topic, Partition: int32(m.Partition), Offset: m.Offset}
		f.ev.Event, f.err = reservation.DecodeEvent(m.Value)
		if f.err == nil && f.ev.Event.CheckNotAhead(now, in.maxAhead) != nil {
			now = in.now()
			f.err = f.ev.Event.CheckNotAhead(now, in.maxAhead)
		}
		f.ev.Skip = f.err != nil
		if !out.put(ctx, &f) {
			return
		}
	}
}

// acknowledge waits for each batch to be durable, in order, then commits
// offsets to the consumer group — for lag display only: the position that
// counts is in the ledger. Commits are coalesced (the newest message per
// partition) and sent when no durable batch is waiting or once a second.
func (in *ingest) acknowledge(ctx context.Context, acks <-chan applied) error {
	latest := map[int]kafkago.Message{}
	lastCommit := time.Now()
	for a := range acks {
		if err := in.waitDurable(ctx, a); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		for _, m := range a.msgs {
			latest[m.Partition] = m
		}
		if len(acks) > 0 && time.Since(lastCommit) < time.Second {
			continue
		}
		msgs := make([]kafkago.Message, 0, len(latest))
		for _, m := range latest {
			msgs = append(msgs, m)
		}
		if err := in.reader.CommitMessages(ctx, msgs...); err != nil && ctx.Err() == nil {
			in.log.Warn("commit consumer group offsets (lag display only)", "err", err)
		}
		clear(latest)
		lastCommit = time.Now()
	}
	return nil
}

// waitDurable waits for a's batch inside its span, so the ledger's
// changes reach the push hub with the batch's span context; then it
// records the batch's time and moves the lag on.
func (in *ingest) waitDurable(ctx context.Context, a applied) error {
	if a.span != nil {
		ctx = trace.ContextWithSpan(ctx, a.span)
	}
	err := a.p.wait(ctx)
	if err == nil {
		in.lag.durable(a.msgs)
		if in.obs.inst != nil {
			in.obs.inst.BatchProcessed(ctx, in.topic, time.Since(a.start))
		}
	}
	if a.span != nil {
		if err != nil {
			a.span.SetStatus(codes.Error, err.Error())
		}
		a.span.End()
	}
	return err
}

// applyBatch sends undecodable messages to the DLQ, then applies the batch
// (skips included) as one journal group without waiting for it.
func (in *ingest) applyBatch(ctx context.Context, batch []fetched) (applied, error) {
	if err := in.checkResume(ctx, batch); err != nil {
		return applied{}, err
	}
	start := time.Now()
	in.lag.fetched(batch)
	in.countConsumed(ctx, batch)
	var bad []kafkago.Message
	// Of the messages, what is acknowledged later is each partition's
	// position: its last message in the batch.
	var msgs []kafkago.Message
	var rawBytes int64
	for i := range batch {
		f := &batch[i]
		msgs = lastPerPartition(msgs, f.msg)
		rawBytes += int64(len(f.msg.Value))
		if f.err != nil {
			bad = append(bad, dlqMessage(f.msg, f.err, in.dlqMaxBytes))
		}
	}
	if len(bad) > 0 {
		// The DLQ has the message before its offset advances: a crash in
		// between sends it to the DLQ again, never loses it.
		if err := in.dlq.WriteMessages(ctx, bad...); err != nil {
			return applied{}, fmt.Errorf("write %d messages to the DLQ: %w", len(bad), err)
		}
		in.dlqCount.Add(uint64(len(bad)))
	}
	sctx, span := in.startBatchSpan(ctx, batch)
	results, p, err := in.applyTraced(sctx, batch, rawBytes)
	if err != nil {
		if span != nil {
			span.SetStatus(codes.Error, err.Error())
			span.End()
		}
		return applied{}, err
	}
	in.count(batch, results)
	return applied{p: p, msgs: msgs, start: start, span: span}, nil
}

// lastPerPartition keeps in msgs the message of m's partition with the
// highest offset.
func lastPerPartition(msgs []kafkago.Message, m kafkago.Message) []kafkago.Message {
	for i := range msgs {
		if msgs[i].Partition == m.Partition {
			if m.Offset > msgs[i].Offset {
				msgs[i] = m
			}
			return msgs
		}
	}
	return append(msgs, m)
}

// beginWithBackpressure applies the batch, waiting while the journal
// queue is full (nothing was applied then) instead of dropping it. An
// event the ledger rejects (a limit such as MaxSKUs, a kit rule) goes to
// the DLQ as an undecodable one does, before its offset advances: the
// events before it are applied, the DLQ gets it, and the rest of the
// batch is applied with it as a skip. A crash in between can send it to
// the DLQ again, never lose it; the results are one per event of batch.
func (in *ingest) beginWithBackpressure(ctx context.Context, batch []fetched, rawBytes int64) ([]EventResult, pending, error) {
	all := in.results[:0]
	for start := 0; ; {
		rest := batch[start:]
		results, p, stopped, err := in.beginPart(ctx, rest, rawBytes)
		if err != nil {
			return nil, pending{}, err
		}
		all = append(all, results...)
		if stopped < 0 {
			in.results = all
			return all, p, nil
		}
		// the ledger is as if the rejected event had not been offered
		f := &rest[stopped]
		reason := results[stopped].Err
		if err := in.dlq.WriteMessages(ctx, dlqMessage(f.msg, reason, in.dlqMaxBytes)); err != nil {
			return nil, pending{}, fmt.Errorf("write a rejected event to the DLQ: %w", err)
		}
		in.dlqCount.Add(1)
		f.ev.Skip, f.rejected = true, reason
		all = all[:len(all)-1] // applied again below, as a skip
		for i := range stopped {
			rawBytes -= int64(len(rest[i].msg.Value))
		}
		start += stopped
	}
}

// beginPart applies part of a batch (up to its first rejected event),
// waiting while the journal queue is full.
func (in *ingest) beginPart(ctx context.Context, part []fetched, rawBytes int64) ([]EventResult, pending, int, error) {
	at := func(i int) *SourcedEvent { return &part[i].ev }
	for {
		results, p, stopped, err := in.core.beginEventsAt(in.gen, len(part), at, rawBytes, true, in.partResults)
		in.partResults = results
		if !errors.Is(err, journal.ErrQueueFull) {
			return results, p, stopped, err
		}
		select {
		case <-ctx.Done():
			return nil, pending{}, -1, ctx.Err()
		case <-time.After(ingestBackoff):
		}
	}
}

// dlqMessage is m's copy for the DLQ: its key, value and headers, with
// the reason (at most MaxDLQReasonBytes) and the source position added.
// A copy that would pass maxBytes (the DLQ writer's bound on one message,
// as kafka-go counts it) keeps a cut value and says so in
// DLQTruncatedHeader: a bad message near the broker's size limit must not
// make a DLQ write that fails on every retry and stops the ingest.
func dlqMessage(m kafkago.Message, reason error, maxBytes int64) kafkago.Message {
	headers := append([]kafkago.Header(nil), m.Headers...)
	headers = append(headers,
		kafkago.Header{Key: DLQReasonHeader, Value: []byte(cutUTF8(reason.Error(), MaxDLQReasonBytes))},
		kafkago.Header{Key: DLQSourceHeader, Value: fmt.Appendf(nil, "%s/%d/%d", m.Topic, m.Partition, m.Offset)})
	out := kafkago.Message{Key: m.Key, Value: m.Value, Headers: headers}
	if over := messageSize(out) - maxBytes; over > 0 {
		cut := max(int64(len(m.Value))-over-dlqTruncateSlack, 0)
		out.Headers = append(out.Headers, kafkago.Header{Key: DLQTruncatedHeader, Value: strconv.AppendInt(nil, int64(len(m.Value)), 10)})
		out.Value = m.Value[:cut]
		if messageSize(out) > maxBytes {
			// the key and headers alone are too large: only stockd's
			// headers stay, the source position says where the rest is
			out = kafkago.Message{Headers: append(headers[len(m.Headers):len(headers):len(headers)], out.Headers[len(out.Headers)-1])}
		}
	}
	return out
}

// dlqTruncateSlack covers the truncation header and varint widths.
const dlqTruncateSlack = 64

// messageSize is a message's size as kafka-go's writer counts it against
// its BatchBytes (key, value and headers with their length fields, the
// record's fixed fields), rounded up: every length field counted at its
// widest.
func messageSize(m kafkago.Message) int64 {
	n := int64(4+1+1+8) + 4 + int64(len(m.Key)) + 4 + int64(len(m.Value)) + 5
	for _, h := range m.Headers {
		n += 5 + int64(len(h.Key)) + 5 + int64(len(h.Value))
	}
	return n
}

// cutUTF8 returns s cut to at most n bytes at a character boundary, with
// "…" when it was cut (the ellipsis counted in n).
func cutUTF8(s string, n int) string {
	const ellipsis = "…"
	if len(s) <= n {
		return s
	}
	return reservation.CutText(s, n-len(ellipsis)) + ellipsis
}

// count adds a batch's outcomes to the counters (once per batch, not per
// event) and tracks each source's seq.
func (in *ingest) count(batch []fetched, results []EventResult) {
	var applied, stale, duplicate, noop, rejected, already, fractional uint64
	now := in.now()
	for i, r := range results {
		ev := &batch[i].ev
		if err := batch[i].rejected; err != nil {
			rejected++
			in.log.Warn("1C event rejected: sent to the DLQ", "id", ev.Event.ID, "type", ev.Event.Type.String(),
				"sku", ev.Event.SKU, "offset", ev.Source.Offset, "err", err)
			in.reportGaps(in.seq.observe(ev.Event.Source, ev.Event.Seq, now)) // its seq arrived
			continue
		}
		if ev.Skip {
			continue
		}
		switch r.Outcome {
		case reservation.OutcomeApplied:
			applied++
		case reservation.OutcomeStale:
			stale++
		case reservation.OutcomeDuplicate:
			duplicate++
		case reservation.OutcomeNoop:
			noop++
		case reservation.OutcomeRejected:
			rejected++
			in.log.Warn("1C event rejected", "id", ev.Event.ID, "type", ev.Event.Type.String(), "sku", ev.Event.SKU, "err", r.Err)
		case reservation.OutcomeAlreadyApplied:
			already++
			continue
		}
		if ev.Event.Fractional {
			fractional++
		}
		in.reportGaps(in.seq.observe(ev.Event.Source, ev.Event.Seq, now))
	}
	for _, c := range []struct {
		ctr interface{ Add(uint64) uint64 }
		n   uint64
	}{{&in.applied, applied}, {&in.stale, stale}, {&in.duplicate, duplicate}, {&in.noop, noop},
		{&in.rejected, rejected}, {&in.already, already}, {&in.fractional, fractional}} {
		if c.n > 0 {
			c.ctr.Add(c.n)
		}
	}
	if applied > 0 && in.obs.inst != nil {
		in.obs.inst.LedgerOperation(context.Background(), telemetry.OpApply, int64(applied))
	}
}

// reportGaps counts and logs gaps (events lost or reordered upstream);
// the next full snapshot from 1C heals them.
func (in *ingest) reportGaps(gaps []SeqGap) {
	if len(gaps) == 0 {
		return
	}
	in.gapMu.Lock()
	defer in.gapMu.Unlock()
	for _, g := range gaps {
		in.gaps.Add(1)
		in.log.Warn("1C seq gap", "source", g.Source, "after", g.After, "missing", g.Missing)
		in.lastGaps = append(in.lastGaps, g)
	}
	if n := len(in.lastGaps); n > maxRecentGaps {
		in.lastGaps = append(in.lastGaps[:0], in.lastGaps[n-maxRecentGaps:]...)
	}
}

// recentGaps returns a copy of the most recent gaps.
func (c *ingestCounters) recentGaps() []SeqGap {
	c.gapMu.Lock()
	defer c.gapMu.Unlock()
	return append([]SeqGap(nil), c.lastGaps...)
}

// stats returns the counters.
func (c *ingestCounters) stats() IngestStats {
	return IngestStats{Applied: c.applied.Load(), Stale: c.stale.Load(), Duplicate: c.duplicate.Load(),
		Noop: c.noop.Load(), Rejected: c.rejected.Load(), AlreadyApplied: c.already.Load(),
		DLQ: c.dlqCount.Load(), SeqGaps: c.gaps.Load(), Fractional: c.fractional.Load()}
}

func (in *ingest) close() error {
	return errors.Join(in.reader.Close(), in.dlq.Close())
}
