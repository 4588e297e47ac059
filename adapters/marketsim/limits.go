package marketsim

import (
	"math"
	"sync"
	"time"
)

// The server-side limits a simulator enforces. They model the limit as the
// marketplace documents it, with no headroom, and say how long a refused
// request would have had to wait.

// TokenBucket is Wildberries' documented model: Limit requests per Period,
// one token every Interval (= Period/Limit), at most Burst saved up.
// Safe for concurrent use.
type TokenBucket struct {
	mu     sync.Mutex
	rate   float64 // tokens per second
	burst  float64
	tokens float64
	last   time.Time
}

// NewTokenBucket makes a full bucket of limit requests per period.
func NewTokenBucket(limit int, period time.Duration, burst int, now time.Time) *TokenBucket {
	return &TokenBucket{
		rate:   float64(limit) / period.Seconds(),
		burst:  float64(burst),
		tokens: float64(burst),
		last:   now,
	}
}

// Take spends cost tokens if the bucket holds them; otherwise it spends
// nothing and says how long until it would.
func (b *TokenBucket) Take(now time.Time, cost int) (ok bool, wait time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(now)
	if b.tokens >= float64(cost) {
		b.tokens -= float64(cost)
		return true, 0
	}
	need := float64(cost) - b.tokens
	return false, time.Duration(math.Ceil(need / b.rate * float64(time.Second)))
}

// Charge spends cost tokens whatever the bucket holds (a Wildberries 409
// counts as 10 requests); the bucket may go into debt.
func (b *TokenBucket) Charge(now time.Time, cost int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(now)
	b.tokens -= float64(cost)
}

func (b *TokenBucket) refill(now time.Time) {
	if now.After(b.last) {
		b.tokens = math.Min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
		b.last = now
	}
}

// SlidingWindow allows at most Limit units in any Period: the reading of
// "N requests per second/minute" where nothing more is documented (Ozon).
// Safe for concurrent use.
type SlidingWindow struct {
	mu     sync.Mutex
	limit  int
	period time.Duration
	times  []time.Time // one per unit accepted within the last period, oldest first
}

// NewSlidingWindow allows limit units per period. It keeps one timestamp
// per unit in the window, so it suits limits of up to a few thousand.
func NewSlidingWindow(limit int, period time.Duration) *SlidingWindow {
	return &SlidingWindow{limit: limit, period: period, times: make([]time.Time, 0, min(limit, 1024))}
}

// Take accepts cost units at now if the window has room.
func (w *SlidingWindow) Take(now time.Time, cost int) (ok bool, wait time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	cut := 0
	for cut < len(w.times) && !w.times[cut].After(now.Add(-w.period)) {
		cut++
	}
	w.times = w.times[cut:]
	if len(w.times)+cost <= w.limit {
		for range cost {
			w.times = append(w.times, now)
		}
		return true, 0
	}
	if cost > w.limit {
		return false, w.period
	}
	// Room comes when the oldest units that must leave have left.
	oldest := w.times[len(w.times)+cost-w.limit-1]
	return false, oldest.Add(w.period).Sub(now)
}

// FixedWindow is a quota of Limit units per Period that resets at the end
// of the period that began with its first use: the Yandex Market resource
// limits, reported in X-RateLimit-Resource-* headers. Safe for concurrent
// use.
type FixedWindow struct {
	mu     sync.Mutex
	limit  int64
	period time.Duration
	start  time.Time
	used   int64
}

// NewFixedWindow allows limit units per period.
func NewFixedWindow(limit int64, period time.Duration) *FixedWindow {
	return &FixedWindow{limit: limit, period: period}
}

// Take spends cost units if the quota has them left.
func (w *FixedWindow) Take(now time.Time, cost int64) (ok bool, wait time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.roll(now)
	if w.used+cost <= w.limit {
		w.used += cost
		return true, 0
	}
	return false, w.start.Add(w.period).Sub(now)
}

// State is the quota as the headers report it.
func (w *FixedWindow) State(now time.Time) (limit, remaining int64, until time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.roll(now)
	return w.limit, w.limit - w.used, w.start.Add(w.period)
}

func (w *FixedWindow) roll(now time.Time) {
	if w.start.IsZero() || !now.Before(w.start.Add(w.period)) {
		w.start = now
		w.used = 0
	}
}
