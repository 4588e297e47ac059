package limit

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newBucket(tb testing.TB, cfg Config) *Bucket {
	tb.Helper()
	b, err := New(cfg)
	if err != nil {
		tb.Fatalf("New(%+v): %v", cfg, err)
	}
	return b
}

func TestReserveBurstThenRate(t *testing.T) {
	clk := newFakeClock()
	b := newBucket(t, Config{Rate: 10, Burst: 5, Headroom: 1, Now: clk.Now})
	start := clk.Now()
	for i := range 5 {
		r, err := b.Reserve(1)
		if err != nil {
			t.Fatal(err)
		}
		if !r.At.Equal(start) {
			t.Fatalf("reservation %d at %v, want immediately", i, r.At.Sub(start))
		}
	}
	for i := 1; i <= 3; i++ {
		r, err := b.Reserve(1)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := r.At.Sub(start), time.Duration(i)*100*time.Millisecond; got != want {
			t.Fatalf("reservation %d after the burst at %v, want %v", i, got, want)
		}
	}
}

func TestHeadroomScalesRateAndBurst(t *testing.T) {
	clk := newFakeClock()
	b := newBucket(t, Config{Rate: PerPeriod(300, time.Minute), Burst: 20, Headroom: 0.9, Now: clk.Now})
	if got, want := b.Burst(), 18; got != want {
		t.Fatalf("burst %d, want %d", got, want)
	}
	if got, want := b.Rate(), 4.5; got < want-1e-9 || got > want+1e-9 {
		t.Fatalf("rate %v, want %v", got, want)
	}
	tiny := newBucket(t, Config{Rate: 1, Burst: 1, Headroom: 0.5, Now: clk.Now})
	if got := tiny.Burst(); got != 1 {
		t.Fatalf("burst %d, want at least 1", got)
	}
}

func TestConfigValidate(t *testing.T) {
	clk := newFakeClock()
	for _, cfg := range []Config{
		{Rate: 0, Burst: 1, Headroom: 1, Now: clk.Now},
		{Rate: -1, Burst: 1, Headroom: 1, Now: clk.Now},
		{Rate: 1, Burst: 0, Headroom: 1, Now: clk.Now},
		{Rate: 1, Burst: 1, Headroom: 0, Now: clk.Now},
		{Rate: 1, Burst: 1, Headroom: 1.1, Now: clk.Now},
		{Rate: 1, Burst: 1, Headroom: 1},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted an invalid config", cfg)
		}
	}
}

func TestReserveRejectsBadCost(t *testing.T) {
	clk := newFakeClock()
	b := newBucket(t, Config{Rate: 1, Burst: 1, Headroom: 1, Now: clk.Now})
	for _, cost := range []int{0, -1, MaxCost + 1} {
		if _, err := b.Reserve(cost); !errors.Is(err, ErrCost) {
			t.Errorf("Reserve(%d) = %v, want ErrCost", cost, err)
		}
	}
}

type grant struct {
	at   time.Time
	cost int
}

// checkWindows fails if some window [g_i.at, g_j.at] holds more tokens than
// burst + rate × its length. It holds for costs up to the burst; a larger
// cost is granted once earned, with the cost in place of the burst.
func checkWindows(tb testing.TB, seed uint64, grants []grant, rate, burst float64) {
	tb.Helper()
	for i := range grants {
		sum := 0.0
		for j := i; j < len(grants); j++ {
			if grants[j].at.Before(grants[i].at) {
				continue
			}
			sum += float64(grants[j].cost)
			allowed := burst + rate*grants[j].at.Sub(grants[i].at).Seconds() + 1e-6
			if sum > allowed {
				tb.Fatalf("seed %d: %.0f tokens granted in [%v, %v], allowed %.3f",
					seed, sum, grants[i].at, grants[j].at, allowed)
			}
		}
	}
}

func TestNeverAboveRateOverAnyWindow(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 0))
		clk := newFakeClock()
		cfg := Config{Rate: 1 + rng.Float64()*20, Burst: 1 + rng.IntN(20), Headroom: 0.5 + rng.Float64()/2, Now: clk.Now}
		b := newBucket(t, cfg)
		var grants []grant
		for range 300 {
			switch rng.IntN(10) {
			case 0:
				clk.Advance(time.Duration(rng.IntN(3000)) * time.Millisecond)
			case 1:
				// A charge pays for a request already made: it is
				// debt that delays later grants, not a grant.
				b.Charge(1 + rng.IntN(10))
			case 2:
				b.Penalize(clk.Now().Add(time.Duration(rng.IntN(2000)) * time.Millisecond))
			case 3:
				r, err := b.Reserve(1 + rng.IntN(min(3, b.Burst())))
				if err != nil {
					t.Fatal(err)
				}
				r.Cancel()
				// A cancel that came too late keeps its grant.
				if r.seq != b.seq || !r.At.After(clk.Now()) {
					grants = append(grants, grant{r.At, r.cost})
				}
			default:
				cost := 1 + rng.IntN(min(3, b.Burst()))
				r, err := b.Reserve(cost)
				if err != nil {
					t.Fatal(err)
				}
				grants = append(grants, grant{r.At, cost})
			}
		}
		checkWindows(t, seed, grants, b.Rate(), float64(b.Burst()))
	}
}

func TestChecksWindowsCatchesAnOverdraw(t *testing.T) {
	// The window check above must be able to fail: feed it a schedule
	// that exceeds the rate and expect a failure.
	start := time.Unix(0, 0)
	grants := []grant{{start, 1}, {start, 1}, {start.Add(time.Millisecond), 1}}
	ft := &fakeTB{}
	func() {
		defer func() { _ = recover() }()
		checkWindows(ft, 0, grants, 1, 2)
	}()
	if !ft.failed {
		t.Fatal("checkWindows accepted 3 tokens within 1 ms at burst 2, rate 1/s")
	}
}

type fakeTB struct {
	testing.TB
	failed bool
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(string, ...any) {
	f.failed = true
	panic("fatal")
}

func TestPenalizeBlocksAndDrains(t *testing.T) {
	clk := newFakeClock()
	b := newBucket(t, Config{Rate: 10, Burst: 10, Headroom: 1, Now: clk.Now})
	until := clk.Now().Add(5 * time.Second)
	b.Penalize(until)
	clk.Advance(10 * time.Second) // long after the penalty: the bucket refilled
	r, err := b.Reserve(1)
	if err != nil {
		t.Fatal(err)
	}
	if r.At.After(clk.Now()) {
		t.Fatalf("after the penalty and a refill, granted at +%v, want now", r.At.Sub(clk.Now()))
	}

	clk2 := newFakeClock()
	b2 := newBucket(t, Config{Rate: 10, Burst: 10, Headroom: 1, Now: clk2.Now})
	until2 := clk2.Now().Add(5 * time.Second)
	b2.Penalize(until2)
	first, _ := b2.Reserve(1)
	second, _ := b2.Reserve(1)
	if first.At.Before(until2) {
		t.Fatalf("granted %v before the penalty ends", until2.Sub(first.At))
	}
	if got, want := second.At.Sub(first.At), 100*time.Millisecond; got != want {
		t.Fatalf("after a penalty grants are %v apart, want %v (no saved burst)", got, want)
	}
	if got := b2.Stats().Penalties; got != 1 {
		t.Fatalf("penalties %d, want 1", got)
	}
}

func TestChargeDelaysLaterGrants(t *testing.T) {
	clk := newFakeClock()
	b := newBucket(t, Config{Rate: 1, Burst: 1, Headroom: 1, Now: clk.Now})
	b.Charge(10) // e.g. a 409 that counts as 10 requests
	r, err := b.Reserve(1)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.At.Sub(clk.Now()), 10*time.Second; got != want {
		t.Fatalf("after Charge(10) granted in %v, want %v", got, want)
	}
	if got := b.Stats().Charged; got != 10 {
		t.Fatalf("charged %d, want 10", got)
	}
}

func TestUtilisation(t *testing.T) {
	clk := newFakeClock()
	b := newBucket(t, Config{Rate: 1, Burst: 4, Headroom: 1, Now: clk.Now})
	if got := b.Utilisation(); got != 0 {
		t.Fatalf("full bucket utilisation %v, want 0", got)
	}
	for range 4 {
		if _, err := b.Reserve(1); err != nil {
			t.Fatal(err)
		}
	}
	if got := b.Utilisation(); got != 1 {
		t.Fatalf("empty bucket utilisation %v, want 1", got)
	}
	if _, err := b.Reserve(4); err != nil {
		t.Fatal(err)
	}
	if got := b.Utilisation(); got != 2 {
		t.Fatalf("one burst of backlog: utilisation %v, want 2", got)
	}
	clk.Advance(8 * time.Second)
	if got := b.Utilisation(); got != 0 {
		t.Fatalf("refilled utilisation %v, want 0", got)
	}
}

func TestWaitPacesRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBucket(t, Config{Rate: 2, Burst: 2, Headroom: 1, Now: time.Now})
		start := time.Now()
		for range 6 {
			if err := b.Wait(t.Context(), 1); err != nil {
				t.Fatal(err)
			}
		}
		// 2 at once, then 4 more at 2 per second.
		if got, want := time.Since(start), 2*time.Second; got != want {
			t.Fatalf("6 waits took %v, want %v", got, want)
		}
		if got := b.Stats().Waits; got != 4 {
			t.Fatalf("waits that slept %d, want 4", got)
		}
	})
}

func TestWaitCancelReturnsTokens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBucket(t, Config{Rate: 1, Burst: 1, Headroom: 1, Now: time.Now})
		if err := b.Wait(t.Context(), 1); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		if err := b.Wait(ctx, 5); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait = %v, want deadline exceeded", err)
		}
		// The abandoned 5 tokens went back: the next token comes one
		// second after the first grant, not six.
		start := time.Now()
		if err := b.Wait(t.Context(), 1); err != nil {
			t.Fatal(err)
		}
		if got, want := time.Since(start), 900*time.Millisecond; got != want {
			t.Fatalf("next grant after %v, want %v", got, want)
		}
		if got := b.Stats().Cancelled; got != 1 {
			t.Fatalf("cancelled %d, want 1", got)
		}
	})
}

func TestWaitHonoursPenaltyArrivingWhileAsleep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBucket(t, Config{Rate: 1, Burst: 1, Headroom: 1, Now: time.Now})
		if err := b.Wait(t.Context(), 1); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		done := make(chan time.Duration)
		go func() {
			if err := b.Wait(context.Background(), 1); err != nil {
				t.Error(err)
			}
			done <- time.Since(start)
		}()
		time.Sleep(500 * time.Millisecond)
		b.Penalize(time.Now().Add(10 * time.Second)) // a 429 seen by another worker
		if got, want := <-done, 10500*time.Millisecond; got != want {
			t.Fatalf("waiter released after %v, want %v", got, want)
		}
	})
}

func TestSet(t *testing.T) {
	clk := newFakeClock()
	s, err := NewSet(map[string]Config{
		"stocks": {Rate: 1, Burst: 1, Headroom: 1, Now: clk.Now},
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Bucket(Key{"acc-1", "stocks"})
	if err != nil {
		t.Fatal(err)
	}
	again, _ := s.Bucket(Key{"acc-1", "stocks"})
	other, _ := s.Bucket(Key{"acc-2", "stocks"})
	if a != again || a == other {
		t.Fatal("Set must return one bucket per (account, group)")
	}
	if _, err := s.Bucket(Key{"acc-1", "prices"}); err == nil {
		t.Fatal("a group without config must fail")
	}
	n := 0
	s.Each(func(Key, *Bucket) { n++ })
	if n != 2 {
		t.Fatalf("Each saw %d buckets, want 2", n)
	}
	if _, err := NewSet(map[string]Config{"bad": {}}); err == nil {
		t.Fatal("NewSet accepted an invalid config")
	}
}

func BenchmarkReserve(b *testing.B) {
	clk := newFakeClock()
	bucket := newBucket(b, Config{Rate: 1e9, Burst: 1 << 20, Headroom: 1, Now: clk.Now})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bucket.Reserve(1); err != nil {
			b.Fatal(err)
		}
	}
}
