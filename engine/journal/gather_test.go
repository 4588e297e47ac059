package journal

import (
	"slices"
	"testing"
	"time"
)

// BenchmarkGatherPrecision: how long a 200 µs gather really waits in a
// process whose Ps are idle (as between the arrivals of a moderate load),
// against a Go timer of the same duration measured in the same run. Each
// wait starts after 1 ms of idleness. Reported: the median, p99 and max of
// each, in µs.
func BenchmarkGatherPrecision(b *testing.B) {
	const wait, idle = 200 * time.Microsecond, time.Millisecond
	c := &Committer{cfg: CommitterConfig{GatherWait: wait}, gatherFull: make(chan struct{}, 1)}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var viaTimer, viaGather []time.Duration
	for b.Loop() {
		time.Sleep(idle)
		start := time.Now()
		timer.Reset(wait)
		<-timer.C
		viaTimer = append(viaTimer, time.Since(start))
		time.Sleep(idle)
		viaGather = append(viaGather, c.gather())
	}
	report := func(name string, d []time.Duration) {
		slices.Sort(d)
		b.ReportMetric(float64(d[len(d)/2].Microseconds()), name+"-p50-µs")
		b.ReportMetric(float64(d[len(d)*99/100].Microseconds()), name+"-p99-µs")
		b.ReportMetric(float64(d[len(d)-1].Microseconds()), name+"-max-µs")
	}
	report("timer", viaTimer)
	report("gather", viaGather)
}

// TestGatherWaitsAndEndsWhenFull: gather waits GatherWait at least, and a
// gatherFull signal ends it at once.
func TestGatherWaitsAndEndsWhenFull(t *testing.T) {
	const wait = 5 * time.Millisecond
	c := &Committer{cfg: CommitterConfig{GatherWait: wait}, gatherFull: make(chan struct{}, 1)}
	if got := c.gather(); got < wait {
		t.Errorf("gather waited %v, want at least %v", got, wait)
	}
	c.gatherFull <- struct{}{}
	if got := c.gather(); got >= wait {
		t.Errorf("gather with a full group signalled waited %v, want less than %v", got, wait)
	}
}
