package journaltest

import (
	"context"
	"errors"
	"sync"

	"stockd/engine/journal"
)

// gatedBackend holds every WriteBatch until release is closed or the
// write's context ends.
type gatedBackend struct {
	journal.Backend
	release chan struct{}
}

func newGatedBackend(b journal.Backend) *gatedBackend {
	return &gatedBackend{Backend: b, release: make(chan struct{})}
}

func (g *gatedBackend) WriteBatch(ctx context.Context, firstLSN uint64, recs [][]byte) error {
	select {
	case <-g.release:
		return g.Backend.WriteBatch(ctx, firstLSN, recs)
	case <-ctx.Done():
		return ctx.Err()
	}
}

var errFault = errors.New("journaltest: injected write failure")

// faultyBackend fails one chosen WriteBatch, either before writing or after
// the wrapped backend wrote the records (a sync error on durable data).
type faultyBackend struct {
	journal.Backend

	mu         sync.Mutex
	armed      bool
	afterWrite bool
	failed     bool
	laterCalls int
}

func newFaultyBackend(b journal.Backend) *faultyBackend { return &faultyBackend{Backend: b} }

func (f *faultyBackend) failNext(afterWrite bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.armed, f.afterWrite = true, afterWrite
}

func (f *faultyBackend) writesAfterFailure() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.laterCalls
}

func (f *faultyBackend) WriteBatch(ctx context.Context, firstLSN uint64, recs [][]byte) error {
	f.mu.Lock()
	if f.failed {
		f.laterCalls++
	}
	armed, afterWrite := f.armed, f.afterWrite
	f.armed = false
	f.failed = f.failed || armed
	f.mu.Unlock()
	if !armed {
		return f.Backend.WriteBatch(ctx, firstLSN, recs)
	}
	if afterWrite {
		if err := f.Backend.WriteBatch(ctx, firstLSN, recs); err != nil {
			return err
		}
	}
	return errFault
}
