package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"stockd/adapters/kafka"
	"stockd/adapters/testsvc"
)

// BenchmarkIngest measures events applied durably per second from the
// real Kafka broker (file journal, fsync on) and, in the same run, a raw
// kafka-go FetchMessage + CommitMessages loop over the same topic: the
// ceiling of the client. Targets ≥ 200,000 events/s and ≥ 70 % of raw.
// One unmeasured round of each warms the broker (its JIT and page cache)
// and this process; then the two alternate for ingestRounds rounds, each
// on a fresh consumer group over the whole topic, and the medians are
// reported, so that a burst of other work on a shared machine does not
// decide the ratio; cpu-µs/event is this process's CPU time per event
// (the broker's excluded), and idle-% the share of the machine's cores
// (from /proc/stat, the broker's included) that stayed idle in each
// phase: whether a phase was bound by the cores or by one of its stages.
// Each round reads ingestEvents events, a few
// seconds' work, so that a rate is not decided by a fraction of a second.
//
//	eval "$(scripts/services.sh env)"
//	go test -run '^$' -bench BenchmarkIngest -benchtime 1x ./engine/
func BenchmarkIngest(b *testing.B) {
	const events, partitions = ingestEvents, 8
	broker := testsvc.KafkaTopics
	if os.Getenv("STOCKD_BENCH_KFAKE") == "1" {
		broker = testsvc.Kfake
	}
	topics := uniqueTopics(b)
	topics.EventsTopic = defaultLengthTopic(b)
	brokers := broker(b, partitions, topics.EventsTopic, topics.DLQTopic)
	produceAdjusts(b, brokers, topics.EventsTopic, events)
	rawFetchRate(b, brokers, topics.EventsTopic, events) // warm-up, not measured
	engineIngestRate(b, brokers, topics, events)
	b.ResetTimer()
	for b.Loop() {
		var raw, applied, rawCPU, appliedCPU, rawIdle, appliedIdle []float64
		for range ingestRounds {
			c0 := processCPU()
			r := rawFetchRate(b, brokers, topics.EventsTopic, events)
			c1 := processCPU()
			a := engineIngestRate(b, brokers, topics, events)
			c2 := processCPU()
			raw, rawIdle = append(raw, r.perSecond), append(rawIdle, r.idle)
			applied, appliedIdle = append(applied, a.perSecond), append(appliedIdle, a.idle)
			rawCPU = append(rawCPU, float64((c1-c0).Microseconds())/events)
			appliedCPU = append(appliedCPU, float64((c2-c1).Microseconds())/events)
		}
		b.ReportMetric(median(raw), "raw-events/s")
		b.ReportMetric(median(applied), "applied-events/s")
		b.ReportMetric(100*median(applied)/median(raw), "%-of-raw")
		b.ReportMetric(median(rawCPU), "raw-cpu-µs/event")
		b.ReportMetric(median(appliedCPU), "applied-cpu-µs/event")
		if m := median(rawIdle); m >= 0 {
			b.ReportMetric(m, "raw-idle-%")
			b.ReportMetric(median(appliedIdle), "applied-idle-%")
		}
		b.Logf("rounds: raw %.0f events/s, applied %.0f events/s", raw, applied)
		b.Logf("rounds: machine idle %.0f %% in raw, %.0f %% in applied", rawIdle, appliedIdle)
	}
}

// Rounds of BenchmarkIngest: events per round (on 10,000 SKUs) and
// measured rounds of each kind.
const (
	ingestEvents = 1_000_000
	ingestRounds = 5
)

// defaultLengthTopic is a fresh topic name as long as the default events
// topic, onec.events: every journal record of an event carries its topic's
// name, so a test's long unique name would make each record longer than a
// seller's.
func defaultLengthTopic(b *testing.B) string {
	defaultEvents := DefaultConfig().Kafka.EventsTopic
	random := make([]byte, (len(defaultEvents)-len("onec."))/2)
	if _, err := rand.Read(random); err != nil {
		b.Fatal(err)
	}
	name := "onec." + hex.EncodeToString(random)
	if len(name) != len(defaultEvents) {
		b.Fatalf("topic %q is not as long as %q", name, defaultEvents)
	}
	return name
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// processCPU is this process's user+system CPU time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// machineCPU is the machine's CPU time in jiffies, all cores together: the
// first line of /proc/stat. ok is false where there is none (not Linux).
type machineCPU struct {
	idle, total uint64
	ok          bool
}

func readMachineCPU() machineCPU {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineCPU{}
	}
	line, _, _ := strings.Cut(string(data), "\n")
	fields := strings.Fields(line)
	if len(fields) < 6 || fields[0] != "cpu" {
		return machineCPU{}
	}
	var m machineCPU
	for i, f := range fields[1:] {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return machineCPU{}
		}
		m.total += v
		if i == 3 || i == 4 { // idle, iowait
			m.idle += v
		}
	}
	m.ok = true
	return m
}

// idleSince is the percentage of the cores' time idle between before and
// m, or -1 when either reading failed.
func (m machineCPU) idleSince(before machineCPU) float64 {
	if !m.ok || !before.ok || m.total <= before.total {
		return -1
	}
	return 100 * float64(m.idle-before.idle) / float64(m.total-before.total)
}

func produceAdjusts(b *testing.B, brokers []string, topic string, n int) {
	b.Helper()
	w, err := kafka.NewWriter(kafka.DefaultWriterConfig(brokers, topic))
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	batch := make([]kafkago.Message, 0, 5000)
	for i := range n {
		sku := fmt.Sprintf("sku-%d", i%10000)
		v := fmt.Sprintf(`{"v":1,"id":"adj-%d","source":"bench","seq":%d,"at":"2026-11-22T10:00:00Z","type":"stock.adjust","sku":%q,"warehouse":"wh-msk","delta":1}`, i, i+1, sku)
		batch = append(batch, kafkago.Message{Key: []byte(sku), Value: []byte(v)})
		if len(batch) == cap(batch) || i == n-1 {
			if err := w.WriteMessages(ctx, batch...); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
}

// phaseRate is one round's measurement of a phase: events per second, and
// the percentage of the machine's cores idle meanwhile (-1: unknown).
type phaseRate struct{ perSecond, idle float64 }

// rawFetchRate reads n messages with a fresh group: FetchMessage, and a
// CommitMessages every 1024 messages as the ingest does per batch.
func rawFetchRate(b *testing.B, brokers []string, topic string, n int) phaseRate {
	b.Helper()
	r, err := kafka.NewReader(kafka.DefaultReaderConfig(brokers, topic, testsvc.UniqueName(b, "raw")))
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	m, err := r.FetchMessage(ctx) // group join is not part of the rate
	if err != nil {
		b.Fatal(err)
	}
	start, cpu := time.Now(), readMachineCPU()
	pending := []kafkago.Message{m}
	for got := 1; got < n; got++ {
		if m, err = r.FetchMessage(ctx); err != nil {
			b.Fatal(err)
		}
		if pending = append(pending, m); len(pending) == MaxIngestBatch {
			if err := r.CommitMessages(ctx, pending...); err != nil {
				b.Fatal(err)
			}
			pending = pending[:0]
		}
	}
	return phaseRate{float64(n-1) / time.Since(start).Seconds(), readMachineCPU().idleSince(cpu)}
}

// engineIngestRate runs the engine on the topic with a fresh group and a
// file journal, and times applying every event durably.
func engineIngestRate(b *testing.B, brokers []string, topics KafkaConfig, n int) phaseRate {
	b.Helper()
	cfg := testConfig(b.TempDir())
	cfg.Kafka = topics
	cfg.Kafka.Brokers = brokers
	cfg.Kafka.GroupID = testsvc.UniqueName(b, "ingest")
	te := startEngine(b, cfg, Deps{})
	defer te.stop()
	deadline := time.Now().Add(5 * time.Minute)
	var start time.Time
	var cpu machineCPU
	for {
		st := te.eng.IngestStats()
		if start.IsZero() && st.Applied > 0 {
			start, cpu = time.Now(), readMachineCPU() // first batch applied: the group has joined
		}
		if int(st.Applied) >= n {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("applied %d of %d within 5 minutes", st.Applied, n)
		}
		time.Sleep(2 * time.Millisecond)
	}
	if got := siteAvailableB(b, te, "sku-0"); got != int64(n/10000) {
		b.Fatalf("sku-0 available %d, want %d", got, n/10000)
	}
	return phaseRate{float64(n) / time.Since(start).Seconds(), readMachineCPU().idleSince(cpu)}
}

func siteAvailableB(b *testing.B, te *testEngine, sku string) int64 {
	av, err := te.eng.Availability(sku, "site")
	if err != nil || !strings.EqualFold(av.Channels[0].Channel, "site") {
		b.Fatal(err)
	}
	return av.Channels[0].Available
}
