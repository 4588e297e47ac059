// Package finesleep sleeps for short durations with microsecond precision.
//
// A Go timer (time.Sleep, time.Timer) is precise while the process is busy,
// but when every P is idle the runtime waits for the next timer in
// epoll_wait, whose timeout is in whole milliseconds: a 200 µs sleep then
// lasts about 1 ms. On Linux, Sleep instead sleeps in the kernel
// (nanosleep) on the calling goroutine's thread, with a timer slack of
// TimerSlack set on that thread; elsewhere it is time.Sleep.
//
// The thread is blocked for the sleep, as in any system call: the runtime
// hands its P to other goroutines if the sleep outlasts a scheduler tick.
// Use it for sleeps well under a millisecond, in a loop that checks for
// work between them.
package finesleep

import "time"

// TimerSlack is the timer slack Sleep asks the kernel for on the calling
// thread (Linux's default, 50 µs, would stretch every short sleep by that
// much).
const TimerSlack = 5 * time.Microsecond
