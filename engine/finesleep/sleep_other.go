//go:build !linux

package finesleep

import "time"

// Sleep blocks for d (nothing when d <= 0).
func Sleep(d time.Duration) { time.Sleep(d) }
