package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"

	kafkago "github.com/segmentio/kafka-go"

	"stockd/adapters/kafka"
	"stockd/reservation"
)

// errResumeBehind stops an ingest whose consumer group was ahead of the
// ledger on a partition; the next ingest starts where the ledger is.
var errResumeBehind = errors.New("engine: the consumer group was ahead of the ledger")

// resumeChecks remembers, across ingest restarts, the partitions whose
// group offset was moved back to the ledger's, and where Kafka then began:
// if it begins there again, the messages between are gone from Kafka (its
// retention) and moving back again would not bring them.
type resumeChecks struct {
	mu    sync.Mutex
	moved map[reservation.Partition]int64 // the first offset Kafka gave before the move
}

// alignWithLedger moves the consumer group back, before anything is
// fetched, on every partition where its committed offset is past the
// ledger's next one (see checkResume, which catches the same case on the
// first message when the group's offsets cannot be read). The commit goes
// through the reader, under its group generation; the ingest then stops
// (errResumeBehind) and the next one reads from the ledger's offsets.
func (in *ingest) alignWithLedger(ctx context.Context) error {
	var offsets []reservation.Source
	in.core.Read(func(l *reservation.Ledger) { offsets = l.Offsets(nil) })
	ledger := map[int]int64{}
	var parts []int
	for _, o := range offsets {
		if o.Topic == in.topic {
			ledger[int(o.Partition)] = o.Offset
			parts = append(parts, int(o.Partition))
		}
	}
	if len(parts) == 0 {
		return nil
	}
	committed, err := kafka.CommittedOffsets(ctx, in.brokers, in.group, in.topic, parts)
	if err != nil {
		in.log.Warn("1C ingest: the consumer group's offsets could not be compared with the ledger's; "+
			"the first message of each partition is checked instead", "err", err)
		return nil
	}
	var back []kafkago.Message
	for _, p := range parts {
		if next, ok := committed[p]; ok && next > ledger[p]+1 {
			// kafka-go commits the message's offset + 1: the next to read
			back = append(back, kafkago.Message{Topic: in.topic, Partition: p, Offset: ledger[p]})
			in.log.Warn("1C ingest: the consumer group is ahead of the ledger (a journal restored from a backup?); moving it back",
				"topic", in.topic, "partition", p, "group_next", next, "ledger_next", ledger[p]+1)
		}
	}
	if len(back) == 0 {
		return nil
	}
	if err := in.reader.CommitMessages(ctx, back...); err != nil {
		return fmt.Errorf("move the consumer group back to the ledger's offsets: %w", err)
	}
	return fmt.Errorf("%w on %d partition(s) of %s: moved back to the ledger's offsets", errResumeBehind, len(back), in.topic)
}

// checkResume makes consumption resume from the ledger's offsets, not the
// consumer group's. Offsets are journaled with the effects and the group's
// commits trail them, so the group is behind or equal after any crash; it
// is ahead only when the journal went back (restored from a backup), and
// then the messages between would never be applied. For each partition's
// first message in this ingest, when the ledger has applied an earlier
// offset than the one before it, the group's offset is committed back to
// the ledger's and the ingest stops (errResumeBehind) before applying
// anything of it; the next one fetches from there.
func (in *ingest) checkResume(ctx context.Context, batch []fetched) error {
	prev := -1
	for i := range batch {
		m := &batch[i].msg
		if m.Partition == prev {
			continue // one look per run of a partition's messages
		}
		prev = m.Partition
		if in.resumeSeen[prev] {
			continue // and once per ingest
		}
		in.resumeSeen[prev] = true
		p := reservation.Partition{Topic: m.Topic, Partition: int32(m.Partition)}
		var last int64
		var known bool
		in.core.Read(func(l *reservation.Ledger) { last, known = l.Offset(p.Topic, p.Partition) })
		if !known || m.Offset <= last+1 {
			continue
		}
		rc := &in.resume
		rc.mu.Lock()
		first, movedBefore := rc.moved[p]
		if !movedBefore || first != m.Offset {
			rc.moved[p] = m.Offset
		}
		rc.mu.Unlock()
		if movedBefore && first == m.Offset {
			in.log.Error("1C ingest: messages the ledger never applied are no longer in Kafka (its retention); "+
				"the next full snapshot from 1C heals the stock", "topic", p.Topic, "partition", p.Partition,
				"ledger_offset", last, "first_in_kafka", m.Offset, "missing", m.Offset-last-1)
			continue
		}
		// kafka-go commits the message's offset + 1: the next to read
		if err := in.reader.CommitMessages(ctx, kafkago.Message{Topic: p.Topic, Partition: m.Partition, Offset: last}); err != nil {
			return fmt.Errorf("move the consumer group back to the ledger on %s/%d: %w", p.Topic, p.Partition, err)
		}
		return fmt.Errorf("%w on %s/%d: it gave offset %d, the ledger has applied through %d; "+
			"the group now resumes at %d", errResumeBehind, p.Topic, p.Partition, m.Offset, last, last+1)
	}
	return nil
}
