package engine

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"stockd/adapters/alerts"
	"stockd/adapters/telemetry"
	"stockd/feeds"
	"stockd/reservation"
)

// failingWindow is how far back StockdChannelFailing looks at push calls
// (the Prometheus rule's 10 minutes).
const failingWindow = 10 * time.Minute

// maxFailingSamples bounds the samples kept per channel for failingWindow.
const maxFailingSamples = 1024

// AlertNames are the alerts the engine posts to telemetry.alerts'
// webhook, each named as its rule in deploy/prometheus/alerts.yml.
func AlertNames() []string {
	return []string{"StockdChannelFreshnessOverSLO", "StockdChannelFailing", "StockdPricesQuarantined",
		"StockdChannelDroppingChanges", "StockdDLQGrowing", "StockdSeqGaps", "StockdJournalErrors",
		"StockdShortSKUs", "StockdKafkaLagHigh"}
}

// runAlerts evaluates the conditions of deploy/prometheus/alerts.yml from
// the engine's own state every telemetry.alerts.interval and hands the
// firing ones to the webhook notifier; it returns at once when no webhook
// is configured. The notifier's queue is bounded and Update never blocks,
// so a slow webhook costs the engine nothing.
func (e *Engine) runAlerts(ctx context.Context) {
	cfg := e.cfg.Telemetry.Alerts
	if !cfg.Enabled() {
		return
	}
	transport := newAlertTransport(cfg.Timeout)
	defer transport.CloseIdleConnections()
	n, err := alerts.New(cfg, alerts.Deps{Client: &http.Client{Transport: transport, Timeout: cfg.Timeout},
		Now: e.now, Service: e.cfg.Telemetry.ServiceName})
	if err != nil {
		e.log.Error("alerts are off", "err", err)
		return
	}
	var wg sync.WaitGroup
	wg.Go(func() { n.Run(ctx) })
	defer wg.Wait()
	eval := newAlertEval(cfg)
	tick := time.NewTicker(cfg.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		n.Update(eval.evaluate(e.alertInputs()))
	}
}

// newAlertTransport sets every option that bounds the webhook's
// connections.
func newAlertTransport(timeout time.Duration) *http.Transport {
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:    timeout,
		ResponseHeaderTimeout:  timeout,
		ExpectContinueTimeout:  time.Second,
		MaxIdleConns:           2,
		MaxIdleConnsPerHost:    2,
		MaxConnsPerHost:        2,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
		ForceAttemptHTTP2:      true,
	}
}

// alertInputs is the engine's state the conditions read.
type alertInputs struct {
	now           time.Time
	channels      []feeds.Stats
	ingest        IngestStats
	lag           []telemetry.PartitionLag
	journalErrors uint64
	journalFailed error
	shortSKUs     int
}

func (e *Engine) alertInputs() alertInputs {
	in := alertInputs{now: e.now(), ingest: e.ingest.stats(), lag: e.ingest.lag.partitions(),
		journalErrors: e.obs.journalErrors.Load(), journalFailed: e.core.Failed()}
	e.core.Read(func(l *reservation.Ledger) { in.shortSKUs = len(l.Short(nil)) })
	if e.feeds != nil {
		for _, name := range e.feeds.hub.Channels() {
			if st, err := e.feeds.hub.Stats(name); err == nil {
				in.channels = append(in.channels, st)
			}
		}
	}
	return in
}

// alertEval turns successive alertInputs into the alerts firing now. A
// counter's alert (DLQ, seq gaps, journal errors, dropped changes) fires
// when the counter grew and resolves once it stayed flat for
// ResolveAfter. Not safe for concurrent use.
type alertEval struct {
	cfg     alerts.Config
	last    map[string]uint64    // counter → last value seen
	grewAt  map[string]time.Time // counter → when it last grew
	samples map[string][]pushSample
}

type pushSample struct {
	at             time.Time
	requests, errs uint64
}

func newAlertEval(cfg alerts.Config) *alertEval {
	return &alertEval{cfg: cfg, last: map[string]uint64{}, grewAt: map[string]time.Time{},
		samples: map[string][]pushSample{}}
}

// grew notes a counter's value and reports whether it grew within
// ResolveAfter.
func (a *alertEval) grew(key string, v uint64, now time.Time) bool {
	if v > a.last[key] {
		a.grewAt[key] = now
	}
	a.last[key] = v
	at, ok := a.grewAt[key]
	return ok && now.Sub(at) < a.cfg.ResolveAfter
}

func (a *alertEval) evaluate(in alertInputs) []alerts.Alert {
	var out []alerts.Alert
	for i := range in.channels {
		out = append(out, a.channelAlerts(&in.channels[i], in.now)...)
	}
	if a.grew("dlq", in.ingest.DLQ, in.now) {
		out = append(out, alerts.Alert{Name: "StockdDLQGrowing", Severity: "ticket", Value: float64(in.ingest.DLQ),
			Summary: fmt.Sprintf("1C messages went to the dead-letter topic (%d since start)", in.ingest.DLQ)})
	}
	if a.grew("seq_gaps", in.ingest.SeqGaps, in.now) {
		out = append(out, alerts.Alert{Name: "StockdSeqGaps", Severity: "page", Value: float64(in.ingest.SeqGaps),
			Summary: fmt.Sprintf("1C events are missing (%d seq gaps since start); stock may be wrong until the next full snapshot", in.ingest.SeqGaps)})
	}
	if a.grew("journal_errors", in.journalErrors, in.now) || in.journalFailed != nil {
		summary := "a journal write failed; reservations answer 503 until it recovers"
		if in.journalFailed != nil {
			summary = "the journal is failed: " + in.journalFailed.Error()
		}
		out = append(out, alerts.Alert{Name: "StockdJournalErrors", Severity: "page", Value: float64(in.journalErrors), Summary: summary})
	}
	if in.shortSKUs > 0 {
		out = append(out, alerts.Alert{Name: "StockdShortSKUs", Severity: "ticket", Value: float64(in.shortSKUs),
			Summary: fmt.Sprintf("%d SKUs have less 1C free stock than is held", in.shortSKUs)})
	}
	for _, p := range in.lag {
		if a.cfg.MaxKafkaLag > 0 && p.Lag > a.cfg.MaxKafkaLag {
			part := strconv.Itoa(p.Partition)
			out = append(out, alerts.Alert{Name: "StockdKafkaLagHigh", Key: p.Topic + "/" + part, Severity: "page",
				Value: float64(p.Lag), Labels: map[string]string{"topic": p.Topic, "partition": part},
				Summary: fmt.Sprintf("%s partition %s is %d messages behind", p.Topic, part, p.Lag)})
		}
	}
	return out
}

func (a *alertEval) channelAlerts(st *feeds.Stats, now time.Time) []alerts.Alert {
	var out []alerts.Alert
	labels := map[string]string{"channel": st.Channel, "kind": string(st.Kind)}
	add := func(name, severity string, value float64, summary string) {
		out = append(out, alerts.Alert{Name: name, Key: st.Channel, Severity: severity, Value: value, Labels: labels, Summary: summary})
	}
	if slo := a.cfg.SLO(st.Channel); st.Freshness > slo {
		add("StockdChannelFreshnessOverSLO", "page", st.Freshness.Seconds(),
			fmt.Sprintf("channel %s is %s behind, over its freshness objective %s", st.Channel, st.Freshness.Round(time.Second), slo))
	}
	if requests, errs := a.pushWindow(st, now); requests > 0 && 2*errs > requests {
		add("StockdChannelFailing", "page", float64(errs)/float64(requests),
			fmt.Sprintf("%d of %d push calls to %s failed in %s; last error: %s", errs, requests, st.Channel, failingWindow, st.LastError))
	}
	if st.AwaitingApproval > 0 {
		add("StockdPricesQuarantined", "ticket", float64(st.AwaitingApproval),
			fmt.Sprintf("%d prices for %s wait for approval", st.AwaitingApproval, st.Channel))
	}
	if a.grew("dropped/"+st.Channel, st.Dropped, now) {
		add("StockdChannelDroppingChanges", "page", float64(st.Dropped),
			fmt.Sprintf("%s dropped changes: its queue or quarantine is full", st.Channel))
	}
	return out
}

// pushWindow returns the channel's push calls and failed calls within
// failingWindow.
func (a *alertEval) pushWindow(st *feeds.Stats, now time.Time) (requests, errs uint64) {
	cur := pushSample{at: now, requests: st.Stock.Requests + st.Price.Requests,
		errs: st.Stock.RequestErrors + st.Price.RequestErrors}
	s := append(a.samples[st.Channel], cur)
	for len(s) > 1 && (now.Sub(s[0].at) > failingWindow || len(s) > maxFailingSamples) {
		s = s[1:]
	}
	a.samples[st.Channel] = s
	if len(s) == 1 { // the first look: everything since start
		return cur.requests, cur.errs
	}
	return cur.requests - s[0].requests, cur.errs - s[0].errs
}
