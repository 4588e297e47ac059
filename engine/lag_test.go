package engine

import (
	"testing"

	kafkago "github.com/segmentio/kafka-go"
)

// TestLagTrackerCaughtUp: the ingest is caught up only when every
// partition seen was taken up to its high watermark; an empty hand-off
// queue alone does not say so.
func TestLagTrackerCaughtUp(t *testing.T) {
	lt := newLagTracker()
	if !lt.caughtUp() {
		t.Fatal("nothing seen: not caught up")
	}
	batch := func(msgs ...kafkago.Message) []fetched {
		out := make([]fetched, len(msgs))
		for i, m := range msgs {
			out[i].msg = m
		}
		return out
	}
	lt.fetched(batch(
		kafkago.Message{Partition: 0, Offset: 9, HighWaterMark: 10},
		kafkago.Message{Partition: 1, Offset: 4, HighWaterMark: 5000}, // far behind
	))
	if lt.caughtUp() {
		t.Fatal("partition 1 has 4,995 messages waiting: caught up")
	}
	lt.fetched(batch(kafkago.Message{Partition: 1, Offset: 4999, HighWaterMark: 5000}))
	if !lt.caughtUp() {
		t.Fatal("both partitions taken to their high watermark: not caught up")
	}
	lt.fetched(batch(kafkago.Message{Partition: 0, Offset: 10, HighWaterMark: 12}))
	if lt.caughtUp() {
		t.Fatal("partition 0 grew past what was taken: caught up")
	}
}
