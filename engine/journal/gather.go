package journal

import (
	"time"

	"golang.org/x/sys/unix"
)

// gatherSlice is the longest the flusher sleeps at a time while a group
// gathers: between slices it checks whether GatherTickets are queued, so a
// full group ends its gather at most this late.
const gatherSlice = 100 * time.Microsecond

// gatherTimerSlack is the timer slack the flusher's thread asks the kernel
// for while it gathers (Linux's default, 50 µs, would stretch every slice
// by that much).
const gatherTimerSlack = 5 * time.Microsecond

// gather waits GatherWait for company, less once Enqueue signals that
// GatherTickets are queued, and returns how long it waited.
//
// It sleeps in the kernel (nanosleep, on the flusher's own thread) rather
// than on a Go timer: when every P is idle, as between the arrivals of a
// moderate load, the Go runtime waits for its next timer in epoll_wait,
// whose timeout is in whole milliseconds, so a 200 µs timer fires after
// about 1 ms. Measured on the reserve benchmark's open loop at 13,500
// holds/s: 7–8 % of 200 µs gathers took over 1 ms on a timer, 0.8 % in
// nanosleep slices (BENCHMARKS.md, Journal group commit). A slice costs the
// flusher one system call.
func (c *Committer) gather() time.Duration {
	start := time.Now()
	deadline := start.Add(c.cfg.GatherWait)
	// The goroutine may run on another thread each gather: the slack is
	// set on the current one (it stays set there, which only makes that
	// thread's timed waits more precise).
	_ = unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(gatherTimerSlack.Nanoseconds()), 0, 0, 0)
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
		ts := unix.NsecToTimespec(int64(min(left, gatherSlice)))
		// EINTR (a signal) only ends the slice early; the loop goes on.
		_ = unix.Nanosleep(&ts, nil)
	}
}
