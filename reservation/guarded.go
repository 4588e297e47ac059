package reservation

import (
	"sync"
	"time"
)

// Guarded shares one Ledger between goroutines behind one mutex. Every
// method takes the lock for the whole command, so a basket is atomic and
// the lock order is trivial (there is one lock). Records and changes of each
// command are handed to Sink under the lock, in Seq order; Sink must not
// call back into the Guarded.
//
// The engine does not need Guarded: it owns the Ledger in one goroutine.
// Guarded is for tools, tests and callers that want simple shared access.
type Guarded struct {
	mu   sync.Mutex
	l    *Ledger
	fx   Effects
	sink func(*Effects)
}

// NewGuarded wraps l; sink may be nil (records are then dropped).
func NewGuarded(l *Ledger, sink func(*Effects)) *Guarded {
	return &Guarded{l: l, sink: sink}
}

func (g *Guarded) flush() {
	if g.sink != nil {
		g.sink(&g.fx)
	}
	g.fx.Reset()
}

// Reserve is Ledger.Reserve; the hold is copied into dst when dst is set.
func (g *Guarded) Reserve(req ReserveRequest, now time.Time, dst *Hold) (ReserveResult, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	res, err := g.l.Reserve(req, now, &g.fx)
	if err == nil && dst != nil {
		g.l.Hold(req.ID, dst)
	}
	g.flush()
	return res, err
}

// Confirm is Ledger.Confirm.
func (g *Guarded) Confirm(id string, ttl time.Duration, now time.Time) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	err := g.l.Confirm(id, ttl, now, &g.fx)
	g.flush()
	return err
}

// Release is Ledger.Release.
func (g *Guarded) Release(id string, now time.Time) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	err := g.l.Release(id, now, &g.fx)
	g.flush()
	return err
}

// Handoff is Ledger.Handoff.
func (g *Guarded) Handoff(id string, now time.Time) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	err := g.l.Handoff(id, now, &g.fx)
	g.flush()
	return err
}

// Expire is Ledger.Expire.
func (g *Guarded) Expire(now time.Time, maxHolds int) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := g.l.Expire(now, maxHolds, &g.fx)
	g.flush()
	return n
}

// ApplyEvent is Ledger.ApplyEvent.
func (g *Guarded) ApplyEvent(ev *Event, src Source) (Outcome, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	out, err := g.l.ApplyEvent(ev, src, &g.fx)
	g.flush()
	return out, err
}

// Available is Ledger.Available.
func (g *Guarded) Available(sku, channel string) (int64, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.l.Available(sku, channel)
}

// Hold is Ledger.Hold.
func (g *Guarded) Hold(id string, dst *Hold) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.l.Hold(id, dst)
}

// Do runs fn with the ledger under the lock, for reads and commands the
// methods above do not cover. fn must not keep the ledger or fx.
func (g *Guarded) Do(fn func(l *Ledger, fx *Effects)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	fn(g.l, &g.fx)
	g.flush()
}
