package finesleep

import (
	"testing"
	"time"
)

// TestSleepWaitsAtLeast: Sleep never returns before its duration has
// passed, and a non-positive duration returns at once.
func TestSleepWaitsAtLeast(t *testing.T) {
	for _, d := range []time.Duration{50 * time.Microsecond, 200 * time.Microsecond, 2 * time.Millisecond} {
		start := time.Now()
		Sleep(d)
		if got := time.Since(start); got < d {
			t.Errorf("Sleep(%v) returned after %v", d, got)
		}
	}
	start := time.Now()
	Sleep(-time.Second)
	Sleep(0)
	if got := time.Since(start); got > 100*time.Millisecond {
		t.Errorf("Sleep of nothing took %v", got)
	}
}
