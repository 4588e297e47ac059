package loadgen

import (
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// LatencySignificantDigits is the precision of the latency histogram:
// 3 digits keeps every reported quantile within 0.1 %.
const LatencySignificantDigits = 3

// maxLatencyMicros is the largest latency the histogram records; a larger
// one (possible in OpenLoop, measured from the schedule) is recorded as it.
const maxLatencyMicros = int64(MaxRunDuration/time.Microsecond) + int64(MaxRequestTimeout/time.Microsecond)

// HoldCounts counts the answers to POST /v1/reservations.
type HoldCounts struct {
	Created      int64 // 201
	Replayed     int64 // 200
	Insufficient int64 // 409
	Other        int64 // any other status; see Result.OtherStatuses
	Errors       int64 // no answer: connection refused or reset, timeout
}

// ReleaseCounts counts the answers to POST /v1/reservations/{id}/release.
type ReleaseCounts struct {
	OK     int64 // 200
	Other  int64 // any other status
	Errors int64 // no answer
}

// Result is what a run measured.
type Result struct {
	Mode    Mode
	Elapsed time.Duration // from the first send to the last answer
	// Started is the operations sent; Dropped the OpenLoop arrivals that
	// found MaxInFlight operations already admitted and were not sent.
	Started int64
	Dropped int64
	Hold    HoldCounts
	Release ReleaseCounts
	// OtherStatuses counts hold and release answers other than 201, 200
	// and 409, by status code.
	OtherStatuses map[int]int64
	// FirstError is the first transport error met, "" when none.
	FirstError string
	// Latency is the hold latency in microseconds, answered holds only.
	// In OpenLoop it runs from the scheduled send time.
	Latency *hdrhistogram.Histogram
}

// Holds is the holds the target granted: 201 plus 200.
func (r Result) Holds() int64 { return r.Hold.Created + r.Hold.Replayed }

// HoldsPerSec is Holds over Elapsed.
func (r Result) HoldsPerSec() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Holds()) / r.Elapsed.Seconds()
}

// OpsPerSec is Started over Elapsed: the achieved arrival rate.
func (r Result) OpsPerSec() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Started) / r.Elapsed.Seconds()
}

// Failures is every hold or release that did not get 201, 200 or 409.
func (r Result) Failures() int64 {
	return r.Hold.Other + r.Hold.Errors + r.Release.Other + r.Release.Errors
}

// Quantile returns the hold latency at percentile p in [0, 100].
func (r Result) Quantile(p float64) time.Duration {
	if r.Latency == nil {
		return 0
	}
	return time.Duration(r.Latency.ValueAtQuantile(p)) * time.Microsecond
}

// Max returns the largest hold latency.
func (r Result) Max() time.Duration {
	if r.Latency == nil {
		return 0
	}
	return time.Duration(r.Latency.Max()) * time.Microsecond
}

// tally collects a run's counts and latencies from all workers.
type tally struct {
	hold201, hold200, hold409, holdOther, holdErrors atomic.Int64
	release200, releaseOther, releaseErrors          atomic.Int64
	started, dropped                                 atomic.Int64

	mu       sync.Mutex // guards the fields below
	latency  *hdrhistogram.Histogram
	statuses map[int]int64
	firstErr string
}

func newTally() *tally {
	return &tally{
		latency:  hdrhistogram.New(1, maxLatencyMicros, LatencySignificantDigits),
		statuses: make(map[int]int64),
	}
}

func (t *tally) hold(latency time.Duration, status int, err error) {
	switch {
	case err != nil:
		t.holdErrors.Add(1)
		t.noteError(err)
		return
	case status == 201:
		t.hold201.Add(1)
	case status == 200:
		t.hold200.Add(1)
	case status == 409:
		t.hold409.Add(1)
	default:
		t.holdOther.Add(1)
	}
	micros := min(max(latency.Microseconds(), 1), maxLatencyMicros)
	t.mu.Lock()
	// micros is within the histogram's range, so RecordValue cannot fail.
	_ = t.latency.RecordValue(micros)
	if status != 201 && status != 200 && status != 409 {
		t.statuses[status]++
	}
	t.mu.Unlock()
}

func (t *tally) release(status int, err error) {
	switch {
	case err != nil:
		t.releaseErrors.Add(1)
		t.noteError(err)
	case status == 200:
		t.release200.Add(1)
	default:
		t.releaseOther.Add(1)
		t.mu.Lock()
		t.statuses[status]++
		t.mu.Unlock()
	}
}

func (t *tally) noteError(err error) {
	t.mu.Lock()
	if t.firstErr == "" {
		t.firstErr = err.Error()
	}
	t.mu.Unlock()
}

func (t *tally) result(mode Mode, elapsed time.Duration) Result {
	t.mu.Lock()
	defer t.mu.Unlock()
	return Result{
		Mode:    mode,
		Elapsed: elapsed,
		Started: t.started.Load(),
		Dropped: t.dropped.Load(),
		Hold: HoldCounts{
			Created:      t.hold201.Load(),
			Replayed:     t.hold200.Load(),
			Insufficient: t.hold409.Load(),
			Other:        t.holdOther.Load(),
			Errors:       t.holdErrors.Load(),
		},
		Release: ReleaseCounts{
			OK:     t.release200.Load(),
			Other:  t.releaseOther.Load(),
			Errors: t.releaseErrors.Load(),
		},
		OtherStatuses: maps.Clone(t.statuses),
		FirstError:    t.firstErr,
		Latency:       t.latency.Clone(),
	}
}
