//go:build !unix

package reservation

import "time"

func processCPU() time.Duration { return 0 }
