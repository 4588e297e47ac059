package journal

import (
	"time"

	"stockd/engine/finesleep"
)

// gatherSlice is the longest the flusher sleeps at a time while a group
// gathers: between slices it checks whether GatherTickets are queued, so a
// full group ends its gather at most this late.
const gatherSlice = 100 * time.Microsecond

// gather waits GatherWait for company, less once Enqueue signals that
// GatherTickets are queued, and returns how long it waited.
//
// It sleeps in slices of finesleep.Sleep rather than on a Go timer: when
// every P is idle, as between the arrivals of a moderate load, a 200 µs Go
// timer fires after about 1 ms. Measured on the reserve benchmark's open
// loop at 13,500 holds/s: 7–8 % of 200 µs gathers took over 1 ms on a
// timer, 0.8 % in slices (BENCHMARKS.md, Journal group commit). A slice
// costs the flusher one system call.
func (c *Committer) gather() time.Duration {
	start := time.Now()
	deadline := start.Add(c.cfg.GatherWait)
	for {
		select {
		case <-c.gatherFull:
			return time.Since(start)
		default:
		}
		left := time.Until(deadline)
		if left <= 0 {
			return time.Since(start)
		}
		finesleep.Sleep(min(left, gatherSlice))
	}
}
