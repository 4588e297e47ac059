package engine

import (
	"context"
	"sync"
)

// fetchQueue hands fetched messages from the fetch stage to the apply
// stage: the fetcher appends each message under a mutex, the applier
// swaps the whole queue for its own emptied buffer. Per message that is
// one uncontended lock and a wake-up only when the applier waits, where a
// channel cost a locked send and a receive of each message (about a fifth
// of a microsecond per event on two cores, BENCHMARKS.md). Order is kept:
// one writer, one reader, and a take returns the messages in the order
// they were put.
type fetchQueue struct {
	mu    sync.Mutex
	buf   []fetched
	limit int           // messages the queue holds at most
	ready chan struct{} // capacity 1: messages were put since the last take
	space chan struct{} // capacity 1: a take emptied the queue
}

func newFetchQueue(limit int) *fetchQueue {
	return &fetchQueue{
		buf:   make([]fetched, 0, limit),
		limit: limit,
		ready: make(chan struct{}, 1),
		space: make(chan struct{}, 1),
	}
}

// put appends a copy of *f, waiting while the queue is full. It returns
// false when ctx ends first (f is dropped: the stage is stopping).
func (q *fetchQueue) put(ctx context.Context, f *fetched) bool {
	for {
		q.mu.Lock()
		if len(q.buf) < q.limit {
			q.buf = append(q.buf, *f)
			q.mu.Unlock()
			select {
			case q.ready <- struct{}{}:
			default: // a wake-up is already pending
			}
			return true
		}
		q.mu.Unlock()
		select {
		case <-q.space:
		case <-ctx.Done():
			return false
		}
	}
}

// take returns every queued message, oldest first, and keeps spare (its
// contents dropped) as the queue's next buffer; the caller owns the
// returned slice until it passes it back as spare. It does not wait: wait
// on ready first. The result may be empty (a wake-up for messages an
// earlier take already returned).
func (q *fetchQueue) take(spare []fetched) []fetched {
	clear(spare) // drop references to messages already applied
	q.mu.Lock()
	out := q.buf
	q.buf = spare[:0]
	q.mu.Unlock()
	select {
	case q.space <- struct{}{}:
	default:
	}
	return out
}

// empty reports whether nothing is queued.
func (q *fetchQueue) empty() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.buf) == 0
}

// nextBatch returns the first messages of msgs that make one batch: at
// most MaxIngestBatch messages, adding messages while their bytes are
// under MaxIngestBatchBytes (a batch has at least one message).
func nextBatch(msgs []fetched) []fetched {
	n, size := 0, 0
	for n < len(msgs) && n < MaxIngestBatch && (n == 0 || size < MaxIngestBatchBytes) {
		size += len(msgs[n].msg.Value)
		n++
	}
	return msgs[:n]
}
