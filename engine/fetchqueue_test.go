package engine

import (
	"context"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

func ptr[T any](v T) *T { return &v }

func fetchedAt(offset int64, size int) fetched {
	return fetched{msg: kafkago.Message{Offset: offset, Value: make([]byte, size)}}
}

// TestFetchQueueKeepsOrderAndBound: a writer faster than its reader never
// queues more than the limit, and the reader gets every message once, in
// order.
func TestFetchQueueKeepsOrderAndBound(t *testing.T) {
	const limit, total = 8, 1000
	q := newFetchQueue(limit)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	go func() {
		for i := range total {
			if !q.put(ctx, ptr(fetchedAt(int64(i), 1))) {
				return
			}
		}
	}()
	var taken []fetched
	next := int64(0)
	for next < total {
		select {
		case <-q.ready:
		case <-ctx.Done():
			t.Fatalf("stuck after %d messages", next)
		}
		taken = q.take(taken)
		if len(taken) > limit {
			t.Fatalf("took %d messages, limit %d", len(taken), limit)
		}
		for _, f := range taken {
			if f.msg.Offset != next {
				t.Fatalf("got offset %d, want %d", f.msg.Offset, next)
			}
			next++
		}
	}
	if !q.empty() {
		t.Fatal("queue not empty after every message was taken")
	}
}

func TestFetchQueuePutStopsWithContext(t *testing.T) {
	q := newFetchQueue(1)
	if !q.put(t.Context(), ptr(fetchedAt(0, 1))) {
		t.Fatal("put into an empty queue failed")
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan bool)
	go func() { done <- q.put(ctx, ptr(fetchedAt(1, 1))) }()
	select {
	case <-done:
		t.Fatal("put into a full queue returned before a take or the end of its context")
	case <-time.After(20 * time.Millisecond):
	}
	cancel()
	if <-done {
		t.Fatal("put reported success after its context ended")
	}
	if got := q.take(nil); len(got) != 1 || got[0].msg.Offset != 0 {
		t.Fatalf("take = %v, want the one message put", got)
	}
}

func TestNextBatchBounds(t *testing.T) {
	many := make([]fetched, MaxIngestBatch+5)
	for i := range many {
		many[i] = fetchedAt(int64(i), 10)
	}
	if got := len(nextBatch(many)); got != MaxIngestBatch {
		t.Errorf("batch of small messages has %d, want MaxIngestBatch %d", got, MaxIngestBatch)
	}
	big := []fetched{fetchedAt(0, MaxIngestBatchBytes/2), fetchedAt(1, MaxIngestBatchBytes/2), fetchedAt(2, 1)}
	if got := len(nextBatch(big)); got != 2 {
		t.Errorf("batch stops after %d messages, want 2 (the bytes reach MaxIngestBatchBytes)", got)
	}
	huge := []fetched{fetchedAt(0, 2*MaxIngestBatchBytes), fetchedAt(1, 1)}
	if got := len(nextBatch(huge)); got != 1 {
		t.Errorf("a message over MaxIngestBatchBytes makes a batch of %d, want 1", got)
	}
}
