package limit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
)

// MaxCost is the largest cost one Wait, Reserve or Charge may ask for:
// item-based quotas (Yandex Market counts offers) reach a few thousand a
// request.
const MaxCost = 1 << 20

// ErrCost means a cost outside 1..MaxCost.
var ErrCost = errors.New("limit: cost outside 1..MaxCost")

// Config describes one bucket at the documented limit; the bucket uses
// Headroom of it.
type Config struct {
	Rate     float64          // documented tokens per second; see PerPeriod
	Burst    int              // documented burst (bucket capacity), ≥ 1
	Headroom float64          // share of Rate and Burst used, in (0, 1]; 0.9 = 90 %
	Now      func() time.Time // the clock; time.Now in production
}

// PerPeriod turns "n requests per period" into a rate per second.
func PerPeriod(n int, period time.Duration) float64 {
	return float64(n) / period.Seconds()
}

// Validate reports a config a bucket cannot be built from.
func (c Config) Validate() error {
	switch {
	case !(c.Rate > 0) || math.IsInf(c.Rate, 0):
		return fmt.Errorf("limit: rate %v is not a positive number", c.Rate)
	case c.Burst < 1:
		return fmt.Errorf("limit: burst %d is below 1", c.Burst)
	case !(c.Headroom > 0 && c.Headroom <= 1):
		return fmt.Errorf("limit: headroom %v is outside (0, 1]", c.Headroom)
	case c.Now == nil:
		return errors.New("limit: no clock")
	}
	return nil
}

// Bucket is a token bucket that paces one method group of one marketplace
// account. Tokens refill at Rate×Headroom per second up to
// max(1, ⌊Burst×Headroom⌋).
//
// Reservations may overdraw the bucket: a request for n tokens takes them
// at once, leaving a debt, and is told when the debt is repaid. Grants are
// therefore first come, first served, a cost above the burst is allowed
// (it waits longer), and over any window of length T the tokens granted
// never exceed burst + rate×T. Penalize empties the bucket and stops the
// refill until a given time, as a 429 with Retry-After demands.
//
// Wait sleeps on real timers (time.NewTimer); with an injected clock other
// than time.Now use Reserve, or run under testing/synctest. Safe for
// concurrent use.
type Bucket struct {
	rate  float64 // effective tokens per second
	burst float64 // effective capacity
	now   func() time.Time

	mu     sync.Mutex
	tokens float64   // as of last; negative while reservations are in debt
	last   time.Time // may lie in the future after Penalize
	block  time.Time // nothing is used before it, granted earlier or not
	seq    uint64    // number of the latest reservation
	stats  Stats
}

// Stats are a bucket's counters since it was made, for metrics.
type Stats struct {
	Granted   uint64        `json:"granted"`   // tokens granted by Wait, Reserve and Charge
	Charged   uint64        `json:"charged"`   // of which taken by Charge
	Waits     uint64        `json:"waits"`     // Wait calls that had to sleep
	Waited    time.Duration `json:"waited_ns"` // total time those calls were told to sleep
	Cancelled uint64        `json:"cancelled"` // Wait calls abandoned because ctx ended
	Penalties uint64        `json:"penalties"` // Penalize calls that moved the block later
}

// New makes a full bucket.
func New(cfg Config) (*Bucket, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	burst := math.Floor(float64(cfg.Burst) * cfg.Headroom)
	if burst < 1 {
		burst = 1
	}
	return &Bucket{
		rate:   cfg.Rate * cfg.Headroom,
		burst:  burst,
		now:    cfg.Now,
		tokens: burst,
		last:   cfg.Now(),
	}, nil
}

// Rate is the effective refill rate in tokens per second.
func (b *Bucket) Rate() float64 { return b.rate }

// Burst is the effective capacity.
func (b *Bucket) Burst() int { return int(b.burst) }

// Reservation is a grant of tokens that may be used from At on.
type Reservation struct {
	At   time.Time
	cost int
	seq  uint64
	b    *Bucket
}

// Reserve takes cost tokens now and says when they may be used.
func (b *Bucket) Reserve(cost int) (Reservation, error) {
	if cost < 1 || cost > MaxCost {
		return Reservation{}, ErrCost
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	b.refill(now)
	b.tokens -= float64(cost)
	at := b.last
	if b.tokens < 0 {
		at = b.last.Add(durationFor(-b.tokens, b.rate))
	}
	if at.Before(now) {
		at = now
	}
	b.seq++
	b.stats.Granted += uint64(cost)
	return Reservation{At: at, cost: cost, seq: b.seq, b: b}, nil
}

// Cancel gives the tokens back if no later reservation was made and the
// grant time is still ahead; otherwise it does nothing, which only wastes
// capacity and never exceeds the rate.
func (r Reservation) Cancel() {
	b := r.b
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if r.seq != b.seq || !r.At.After(now) {
		return
	}
	b.refill(now)
	b.tokens = math.Min(b.burst, b.tokens+float64(r.cost))
	b.stats.Granted -= uint64(r.cost)
}

// Wait blocks until cost tokens are granted or ctx ends; then it returns
// ctx's error and the tokens go back where that is safe.
func (b *Bucket) Wait(ctx context.Context, cost int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r, err := b.Reserve(cost)
	if err != nil {
		return err
	}
	b.mu.Lock()
	d := r.At.Sub(b.now())
	if d <= 0 {
		b.mu.Unlock()
		return nil
	}
	b.stats.Waits++
	b.stats.Waited += d
	b.mu.Unlock()
	for d > 0 {
		if err := sleep(ctx, d); err != nil {
			r.Cancel()
			b.mu.Lock()
			b.stats.Cancelled++
			b.mu.Unlock()
			return err
		}
		// A penalty that arrived while we slept holds this grant too.
		b.mu.Lock()
		d = b.block.Sub(b.now())
		b.mu.Unlock()
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Charge takes cost tokens without waiting: a cost learned after the
// request (a Wildberries 409 counts as 10 requests, so charge 9 more).
// Costs outside 1..MaxCost are ignored.
func (b *Bucket) Charge(cost int) {
	if cost < 1 || cost > MaxCost {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(b.now())
	b.tokens -= float64(cost)
	b.stats.Granted += uint64(cost)
	b.stats.Charged += uint64(cost)
}

// Penalize empties the bucket and grants nothing before until: the answer
// to a 429 or 420 with a retry hint. An until in the past only empties
// the bucket of its saved-up burst.
func (b *Bucket) Penalize(until time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(b.now())
	if b.tokens > 0 {
		b.tokens = 0
	}
	if until.After(b.last) {
		b.last = until
	}
	if until.After(b.block) {
		b.block = until
		b.stats.Penalties++
	}
}

// Utilisation is the share of the bucket in use now: 0 when full, 1 when
// empty, above 1 when granted reservations are still waiting for tokens
// (the backlog in bursts).
func (b *Bucket) Utilisation() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(b.now())
	return (b.burst - b.tokens) / b.burst
}

// Stats returns the counters.
func (b *Bucket) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stats
}

// refill adds the tokens earned since last; it does nothing while a
// penalty keeps last in the future.
func (b *Bucket) refill(now time.Time) {
	if !now.After(b.last) {
		return
	}
	b.tokens = math.Min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
}

// durationFor is the time rate needs to earn tokens, to the nearest
// nanosecond (rounding up would turn float noise into a visible 1 ns).
func durationFor(tokens, rate float64) time.Duration {
	return time.Duration(math.Round(tokens / rate * float64(time.Second)))
}
