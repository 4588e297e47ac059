package feeds

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"stockd/adapters/ozon"
	"stockd/reservation"
)

// latencies collects change-to-acknowledgement times per channel; an
// Ozon key changed within the cooldown of its previous acknowledgement is
// counted apart (held back by the cooldown on purpose).
type latencies struct {
	mu      sync.Mutex
	lastAck map[string]time.Time
	samples map[string][]time.Duration
}

func (l *latencies) acked(e AckEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	key := e.Channel + "/" + e.Offer + "/" + e.Warehouse
	name := e.Channel
	if prev, ok := l.lastAck[key]; ok && e.Channel == "ozon" && e.Since.Sub(prev) < ozon.StockCooldown {
		name = "ozon_cooldown"
	}
	l.lastAck[key] = e.At
	if e.Method == MethodStock {
		l.samples[name] = append(l.samples[name], e.At.Sub(e.Since))
	}
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

// BenchmarkPropagationLatency measures, in real time against the three
// simulators at their real limits, the time from a change reported to the
// hub to the marketplace's acknowledgement while changes come slower than
// the limits: Ozon 1 change/s, Wildberries 3/s, Yandex Market 10/s, each
// to a key not touched for a while, plus one Ozon change every 5 s to a
// key acknowledged a few seconds before (held back by the 30 s per-item
// cooldown, reported as ozon_cooldown). Run with -benchtime=1x; one run
// takes about 45 s.
func BenchmarkPropagationLatency(b *testing.B) {
	const run = 12 * time.Second
	const n = 2000
	for range b.N {
		lat := &latencies{lastAck: map[string]time.Time{}, samples: map[string][]time.Duration{}}
		led := newFakeLedger()
		ozSim, wbSim, ymSim := newOzonSim(true), newWBSim(n), newYMSim(true)
		chs := []Channel{ozonChannel(b, ozSim, n, nil), wbChannel(b, wbSim, n), ymChannel(b, ymSim, n)}
		h, err := New(context.Background(), Config{Channels: chs, Source: led, Acks: openFileAcks(b, b.TempDir()),
			Now: time.Now, Seed: 1, Acked: lat.acked})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), run)
		var wg sync.WaitGroup
		drive := func(view string, every time.Duration, key func(i int) int) {
			defer wg.Done()
			t := time.NewTicker(every)
			defer t.Stop()
			for i := 0; ; i++ {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					k := key(i)
					h.OnChanges([]reservation.ChannelChange{led.setQty(sku(k), view, int64(i%40+1))}, nil, time.Now())
				}
			}
		}
		wg.Add(4)
		go drive("ozon", time.Second, func(i int) int { return i })
		go drive("ozon", 5*time.Second, func(i int) int { return 5*(i+1) - 2 }) // acknowledged ~2 s before
		go drive("wb", time.Second/3, func(i int) int { return i })
		go drive("ym", time.Second/10, func(i int) int { return i })
		wg.Wait()
		cancel()
		for _, ch := range []string{"ozon", "wb", "ym"} {
			settleReal(b, h, ch)
		}
		if err := h.Close(context.Background()); err != nil {
			b.Fatal(err)
		}
		for _, name := range []string{"ozon", "ozon_cooldown", "wb", "ym"} {
			d := lat.samples[name]
			b.ReportMetric(float64(percentile(d, 0.5).Microseconds())/1000, name+"_p50_ms")
			b.ReportMetric(float64(percentile(d, 0.99).Microseconds())/1000, name+"_p99_ms")
			b.ReportMetric(float64(len(d)), name+"_changes")
		}
		for name, v := range map[string]map[string]int64{"ozon": ozSim.Violations(), "wb": wbSim.Violations(), "ym": ymSim.Violations()} {
			total := int64(0)
			for _, c := range v {
				total += c
			}
			b.ReportMetric(float64(total), name+"_violations")
		}
	}
}

// burstResult is what TestPropagationBurstVirtual prints for the
// benchmark.
type burstResult struct {
	Channel      string
	Offers       int
	Seconds      float64 // virtual time to acknowledge every offer
	ItemsPerSec  float64
	AllowedPerSc float64 // the documented limit in items per second
	Violations   int64
	Requests     uint64
}

const burstEnv = "STOCKD_FEEDS_BURST_OFFERS"

// TestPropagationBurstVirtual drains a burst of changed offers through
// each simulator in virtual time and prints the figures. It runs only
// when BenchmarkPropagationBurst starts it (synctest needs a *testing.T).
func TestPropagationBurstVirtual(t *testing.T) {
	var n int
	if _, err := fmt.Sscan(os.Getenv(burstEnv), &n); err != nil || n <= 0 {
		t.Skip("run by BenchmarkPropagationBurst")
	}
	for _, kind := range []Kind{KindOzon, KindWildberries, KindYandexMarket} {
		synctest.Test(t, func(t *testing.T) {
			led := newFakeLedger()
			var ch Channel
			var violations func() map[string]int64
			var allowed float64
			var view string
			switch kind {
			case KindOzon:
				sim := newOzonSim(true)
				ch, violations, view = ozonChannel(t, sim, n, nil), sim.Violations, "ozon"
				allowed = float64(ozon.StocksPerMinute*ozon.MaxStockBatch) / 60
			case KindWildberries:
				sim := newWBSim(n)
				ch, violations, view = wbChannel(t, sim, n), sim.Violations, "wb"
				allowed = 300.0 * 1000 / 60
			default:
				sim := newYMSim(true)
				ch, violations, view = ymChannel(t, sim, n), sim.Violations, "ym"
				allowed = 100000.0 / 60
			}
			ch.Price = nil // stock only: the figure is the stock method's rate
			h := newHub(t, led, openFileAcks(t, t.TempDir()), ch)
			changes := make([]reservation.ChannelChange, n)
			for i := range n {
				changes[i] = led.setQty(sku(i), view, int64(i%100+1))
			}
			start := time.Now()
			h.OnChanges(changes, nil, start)
			for pending(h, view) > 0 {
				time.Sleep(250 * time.Millisecond)
			}
			took := time.Since(start)
			s, err := h.Stats(view)
			if err != nil {
				t.Fatal(err)
			}
			closeHub(t, h)
			var total int64
			for _, c := range violations() {
				total += c
			}
			res := burstResult{Channel: view, Offers: n, Seconds: took.Seconds(), ItemsPerSec: float64(n) / took.Seconds(),
				AllowedPerSc: allowed, Violations: total, Requests: s.Stock.Requests}
			out, _ := json.Marshal(res)
			fmt.Printf("BURST %s\n", out)
		})
	}
}

// BenchmarkPropagationBurst drains a burst of 100,000 changed offers per
// marketplace through its simulator at the real limits, in virtual time
// (testing/synctest, in a child test process), and reports the drain rate
// as a share of the documented limit and the violations. Run with
// -benchtime=1x.
func BenchmarkPropagationBurst(b *testing.B) {
	const offers = 100000
	for range b.N {
		cmd := exec.Command(os.Args[0], "-test.run=^TestPropagationBurstVirtual$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", burstEnv, offers))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			b.Fatalf("burst run: %v\n%s", err, out.String())
		}
		found := 0
		sc := bufio.NewScanner(&out)
		for sc.Scan() {
			line, ok := strings.CutPrefix(sc.Text(), "BURST ")
			if !ok {
				continue
			}
			var r burstResult
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				b.Fatal(err)
			}
			found++
			b.ReportMetric(r.Seconds, r.Channel+"_drain_s")
			b.ReportMetric(r.ItemsPerSec/r.AllowedPerSc, r.Channel+"_rate_share")
			b.ReportMetric(float64(r.Violations), r.Channel+"_violations")
		}
		if found != 3 {
			b.Fatalf("%d burst results, want 3:\n%s", found, out.String())
		}
	}
}

// pending counts a channel's keys waiting or in flight, without the scan
// Stats makes for freshness.
func pending(h *Hub, channel string) int {
	st := h.channels[channel]
	st.mu.Lock()
	defer st.mu.Unlock()
	n := 0
	for m := range numMethods {
		n += st.dirty[m].Len() + len(st.inflight[m])
	}
	return n
}
