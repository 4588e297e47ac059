package telemetry

import (
	"strings"
)

// The OTel names of the instruments stockd records. OTel semantic
// conventions are followed where one exists (http.*, messaging.*); the rest
// are stockd.*.
const (
	MetricHTTPServerDuration     = "http.server.request.duration"
	MetricReserveOutcomes        = "stockd.reservation.outcomes"
	MetricLedgerOperations       = "stockd.ledger.operations"
	MetricLedgerHolds            = "stockd.ledger.holds"
	MetricLedgerSKUs             = "stockd.ledger.skus"
	MetricLedgerShortSKUs        = "stockd.ledger.short_skus"
	MetricMessagingConsumed      = "messaging.client.consumed.messages"
	MetricMessagingSent          = "messaging.client.sent.messages"
	MetricMessagingProcess       = "messaging.process.duration"
	MetricKafkaLag               = "stockd.kafka.consumer.lag"
	MetricIngestEvents           = "stockd.ingest.events"
	MetricIngestDLQ              = "stockd.ingest.dlq.messages"
	MetricIngestSeqGaps          = "stockd.ingest.seq.gaps"
	MetricIngestFractional       = "stockd.ingest.fractional_quantities"
	MetricJournalFlushRecords    = "stockd.journal.flush.records"
	MetricJournalFlushSize       = "stockd.journal.flush.size"
	MetricJournalFlushDuration   = "stockd.journal.flush.duration"
	MetricJournalErrors          = "stockd.journal.errors"
	MetricChannelFreshness       = "stockd.channel.freshness"
	MetricChannelFreshnessSLO    = "stockd.channel.freshness.slo"
	MetricChannelQueueDepth      = "stockd.channel.queue.depth"
	MetricChannelInFlight        = "stockd.channel.in_flight"
	MetricChannelQuarantined     = "stockd.channel.quarantined"
	MetricChannelPushRequests    = "stockd.channel.push.requests"
	MetricChannelPushItems       = "stockd.channel.push.items"
	MetricChannelPushRetries     = "stockd.channel.push.retries"
	MetricChannelDropped         = "stockd.channel.dropped"
	MetricChannelLimiterWaits    = "stockd.channel.limiter.waits"
	MetricChannelLimiterWaitTime = "stockd.channel.limiter.wait.time"
	MetricChannelLimiterUse      = "stockd.channel.limiter.utilization"
	MetricMarketsimViolations    = "stockd.marketsim.violations"
)

// InstrumentKind is how an instrument is recorded and exported.
type InstrumentKind string

// The instrument kinds, named by their Prometheus metric type.
const (
	KindCounter   InstrumentKind = "counter"
	KindGauge     InstrumentKind = "gauge"
	KindHistogram InstrumentKind = "histogram"
)

// InstrumentSpec describes one instrument: the one place its name, unit
// and attributes are written, read by NewInstruments, the tests, the docs
// and the dashboards' test.
type InstrumentSpec struct {
	Name       string
	Kind       InstrumentKind
	Unit       string // UCUM; {thing} annotations carry no Prometheus suffix
	Observable bool   // recorded by a callback at collection, not at the event
	Attributes []string
	Help       string
}

// Specs lists every instrument NewInstruments creates, in a fresh slice.
func Specs() []InstrumentSpec {
	route := []string{"http.request.method", "http.route", "http.response.status_code"}
	kafka := []string{"messaging.system", "messaging.destination.name"}
	partition := append(kafka[:2:2], "messaging.destination.partition.id", "messaging.consumer.group.name")
	ch := []string{"channel", "kind"}
	chm := []string{"channel", "kind", "method"}
	lim := []string{"channel", "kind", "limiter"}
	return []InstrumentSpec{
		{MetricHTTPServerDuration, KindHistogram, "s", false, route, "Duration of HTTP requests, by route template and status"},
		{MetricReserveOutcomes, KindCounter, "{reservation}", false, []string{"channel", "outcome"}, "POST /v1/reservations answers by outcome"},
		{MetricLedgerOperations, KindCounter, "{operation}", false, []string{"operation"}, "Ledger changes made durable, by operation"},
		{MetricLedgerHolds, KindGauge, "{hold}", true, []string{"state"}, "Holds in the ledger by state"},
		{MetricLedgerSKUs, KindGauge, "{sku}", true, nil, "SKUs in the ledger"},
		{MetricLedgerShortSKUs, KindGauge, "{sku}", true, nil, "SKUs whose 1C free stock is below what is held"},
		{MetricMessagingConsumed, KindCounter, "{message}", false, partition, "Kafka messages fetched by the ingest loop"},
		{MetricMessagingSent, KindCounter, "{message}", false, append(kafka[:2:2], "error.type"), "Kafka messages produced (error.type set when the write failed)"},
		{MetricMessagingProcess, KindHistogram, "s", false, kafka, "Duration of applying one fetched batch, journal flush included"},
		{MetricKafkaLag, KindGauge, "{message}", true, partition, "Messages in a partition not yet applied (high watermark minus next offset)"},
		{MetricIngestEvents, KindCounter, "{event}", true, []string{"result"}, "1C events by what applying them did"},
		{MetricIngestDLQ, KindCounter, "{message}", true, nil, "Messages sent to the dead-letter topic"},
		{MetricIngestSeqGaps, KindCounter, "{gap}", true, nil, "1C seq numbers found missing past the gap timeout"},
		{MetricIngestFractional, KindCounter, "{event}", true, nil, "Stock figures with a fractional quantity, floored"},
		{MetricJournalFlushRecords, KindHistogram, "{record}", false, []string{"backend"}, "Records per journal flush (group commit size)"},
		{MetricJournalFlushSize, KindHistogram, "By", false, []string{"backend"}, "Bytes per journal flush"},
		{MetricJournalFlushDuration, KindHistogram, "s", false, []string{"backend"}, "Duration of one journal flush, write and sync"},
		{MetricJournalErrors, KindCounter, "{error}", false, []string{"backend", "operation"}, "Journal operations that failed"},
		{MetricChannelFreshness, KindGauge, "s", true, ch, "Age of the oldest change not yet acknowledged by the channel; 0 when none"},
		{MetricChannelFreshnessSLO, KindGauge, "s", true, ch, "The channel's freshness objective"},
		{MetricChannelQueueDepth, KindGauge, "{offer}", true, append(chm[:3:3], "priority"), "Offers ready to push, by priority"},
		{MetricChannelInFlight, KindGauge, "{offer}", true, chm, "Offers sent and not yet answered"},
		{MetricChannelQuarantined, KindGauge, "{offer}", true, append(ch[:2:2], "reason"), "Offers not pushed: invalid, price awaiting approval, bad mapping"},
		{MetricChannelPushRequests, KindCounter, "{request}", true, append(chm[:3:3], "result"), "Push calls to the marketplace, by result"},
		{MetricChannelPushItems, KindCounter, "{item}", true, append(chm[:3:3], "result"), "Pushed items by result: acked, rejected, skipped"},
		{MetricChannelPushRetries, KindCounter, "{item}", true, chm, "Items put back after a retriable failure"},
		{MetricChannelDropped, KindCounter, "{change}", true, ch, "Changes lost to a full queue or quarantine"},
		{MetricChannelLimiterWaits, KindCounter, "{wait}", true, lim, "Rate-limiter waits that had to sleep"},
		{MetricChannelLimiterWaitTime, KindCounter, "s", true, lim, "Time rate-limiter waits were told to sleep"},
		{MetricChannelLimiterUse, KindGauge, "1", true, lim, "Rate-limiter use: 0 idle, 1 all tokens taken, above 1 backlog"},
		{MetricMarketsimViolations, KindCounter, "{violation}", true, []string{"marketplace", "rule"}, "Limit violations a marketplace simulator saw (demo)"},
	}
}

// PrometheusName is the metric name the Prometheus exporter gives the
// instrument: dots to underscores, the unit's suffix, _total on counters.
func (s InstrumentSpec) PrometheusName() string {
	name := strings.ReplaceAll(s.Name, ".", "_")
	if suffix := unitSuffix(s.Unit, s.Kind); suffix != "" && !strings.HasSuffix(name, "_"+suffix) {
		name += "_" + suffix
	}
	if s.Kind == KindCounter {
		name += "_total"
	}
	return name
}

// PrometheusSeries are the series names the instrument appears as:
// _bucket, _sum and _count for a histogram, its name otherwise.
func (s InstrumentSpec) PrometheusSeries() []string {
	name := s.PrometheusName()
	if s.Kind == KindHistogram {
		return []string{name + "_bucket", name + "_sum", name + "_count"}
	}
	return []string{name}
}

func unitSuffix(unit string, kind InstrumentKind) string {
	switch {
	case strings.HasPrefix(unit, "{"):
		return ""
	case unit == "1":
		if kind == KindGauge {
			return "ratio"
		}
		return ""
	}
	switch unit {
	case "s":
		return "seconds"
	case "ms":
		return "milliseconds"
	case "By":
		return "bytes"
	}
	return unit
}

// PrometheusNames lists the metric names of every instrument, the one
// list tests, alert rules and dashboards are checked against.
func PrometheusNames() []string {
	specs := Specs()
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.PrometheusName()
	}
	return names
}

// PrometheusSeriesNames lists every series name the instruments appear as
// (histograms as _bucket, _sum and _count).
func PrometheusSeriesNames() []string {
	var names []string
	for _, s := range Specs() {
		names = append(names, s.PrometheusSeries()...)
	}
	return names
}

// RuntimeSeriesNames are series of the Go runtime and process collectors
// (metrics.runtime) that the dashboards use.
func RuntimeSeriesNames() []string {
	return []string{
		"go_goroutines",
		"go_memstats_heap_inuse_bytes",
		"go_gc_duration_seconds",
		"process_cpu_seconds_total",
		"process_resident_memory_bytes",
		"process_open_fds",
	}
}
