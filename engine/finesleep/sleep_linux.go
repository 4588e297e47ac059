package finesleep

import (
	"time"

	"golang.org/x/sys/unix"
)

// Sleep blocks for d (nothing when d <= 0), in the kernel.
func Sleep(d time.Duration) {
	if d <= 0 {
		return
	}
	// The goroutine may run on another thread each call: the slack is set
	// on the current one (it stays set there, which only makes that
	// thread's timed waits more precise).
	_ = unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(TimerSlack.Nanoseconds()), 0, 0, 0)
	ts := unix.NsecToTimespec(d.Nanoseconds())
	// EINTR (a signal) ends the sleep early; callers loop until their
	// deadline.
	_ = unix.Nanosleep(&ts, nil)
}
