package marketsim

import (
	"context"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
)

// FaultKind is what a simulator does to a request instead of, or before,
// answering it properly.
type FaultKind uint8

// The faults.
const (
	FaultNone        FaultKind = iota
	FaultServerError           // answer Status (a 5xx) in the marketplace's error shape
	FaultHang                  // answer nothing until the client gives up or Delay passes, then 504
	FaultSlow                  // wait Delay, then answer properly
)

func (k FaultKind) String() string {
	switch k {
	case FaultNone:
		return "none"
	case FaultServerError:
		return "server_error"
	case FaultHang:
		return "hang"
	case FaultSlow:
		return "slow"
	}
	return "unknown"
}

// Fault is one injected fault.
type Fault struct {
	Kind   FaultKind
	Status int           // FaultServerError: the status to answer
	Delay  time.Duration // FaultHang: the bound; FaultSlow: the delay
}

// MaxHang bounds every hang, whatever a plan says.
const MaxHang = 30 * time.Second

// FaultPlan draws faults at random from a seeded generator, so a run can be
// replayed from its seed. Rates are shares of requests in [0, 1].
type FaultPlan struct {
	Seed        uint64
	ErrorRate   float64       // share answered with ErrorStatus
	ErrorStatus int           // e.g. 500 or 503
	HangRate    float64       // share that hang for up to HangFor
	HangFor     time.Duration // capped at MaxHang
	SlowRate    float64       // share delayed by SlowFor
	SlowFor     time.Duration
	Paths       []string // path prefixes the plan applies to; empty: all
}

// Faults decides the fault for each request: first the queued ones, in
// order, then the plan's draw. The zero value injects nothing. Safe for
// concurrent use.
type Faults struct {
	mu       sync.Mutex
	plan     FaultPlan
	rng      *rand.Rand
	queue    []Fault
	injected map[FaultKind]int64
}

// SetPlan replaces the plan and reseeds the generator.
func (f *Faults) SetPlan(p FaultPlan) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p.HangFor > MaxHang || p.HangFor <= 0 {
		p.HangFor = MaxHang
	}
	f.plan = p
	f.rng = rand.New(rand.NewPCG(p.Seed, p.Seed^0x9e3779b97f4a7c15))
}

// Queue makes the next requests get these faults, one each, in order.
func (f *Faults) Queue(faults ...Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queue = append(f.queue, faults...)
}

// Injected is the number of faults of kind injected so far.
func (f *Faults) Injected(kind FaultKind) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.injected[kind]
}

// Next decides the fault for a request to path.
func (f *Faults) Next(path string) Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	fault := f.draw(path)
	if fault.Kind != FaultNone {
		if f.injected == nil {
			f.injected = make(map[FaultKind]int64)
		}
		f.injected[fault.Kind]++
	}
	return fault
}

func (f *Faults) draw(path string) Fault {
	if len(f.queue) > 0 {
		fault := f.queue[0]
		f.queue = f.queue[1:]
		return fault
	}
	if f.rng == nil || !f.applies(path) {
		return Fault{}
	}
	x := f.rng.Float64()
	p := f.plan
	switch {
	case x < p.ErrorRate:
		return Fault{Kind: FaultServerError, Status: p.ErrorStatus}
	case x < p.ErrorRate+p.HangRate:
		return Fault{Kind: FaultHang, Delay: p.HangFor}
	case x < p.ErrorRate+p.HangRate+p.SlowRate:
		return Fault{Kind: FaultSlow, Delay: p.SlowFor}
	}
	return Fault{}
}

func (f *Faults) applies(path string) bool {
	if len(f.plan.Paths) == 0 {
		return true
	}
	for _, prefix := range f.plan.Paths {
		if strings.HasPrefix(path, prefix) {
			return true
		}
	}
	return false
}

// Pause waits d (bounded by MaxHang) or until ctx ends, and reports
// whether the client is still there.
func Pause(ctx context.Context, d time.Duration) bool {
	if d > MaxHang {
		d = MaxHang
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
