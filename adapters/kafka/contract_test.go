package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"stockd/adapters/kafka"
	"stockd/adapters/testsvc"
)

// Sizes of the contract run.
const (
	contractPartitions = 4
	contractKeys       = 50
	contractMessages   = 2000 // contractMessages/contractKeys messages per key
	contractWriteBatch = 100  // messages per WriteMessages call
	contractCommitStep = 64   // messages between CommitMessages calls
	// maxContractTime bounds each broker's run; the real broker's first consumer group join
	// creates the offsets topic and takes a few seconds.
	maxContractTime = 2 * time.Minute
)

// TestContract runs one produce/consume contract against every broker kind stockd uses.
func TestContract(t *testing.T) {
	t.Run("kfake", func(t *testing.T) {
		brokers := testsvc.Kfake(t, contractPartitions)
		t.Logf("broker: in-process kfake at %v", brokers)
		runContract(t, brokers)
	})
	t.Run("kafka", func(t *testing.T) {
		brokers := testsvc.KafkaBrokers(t)
		t.Logf("broker: real Apache Kafka at %v (%s)", brokers, testsvc.EnvKafkaBrokers)
		runContract(t, brokers)
	})
}

// runContract produces keyed messages, consumes them in a group with explicit commits, and
// checks count, per-key order and per-partition offsets; then checks that a second member of the
// same group resumes exactly at the committed offsets.
func runContract(t *testing.T, brokers []string) {
	ctx, cancel := context.WithTimeout(context.Background(), maxContractTime)
	defer cancel()
	topic := testsvc.UniqueName(t, "contract")
	group := testsvc.UniqueName(t, "group")
	if err := kafka.CreateTopic(ctx, brokers, topic, contractPartitions); err != nil {
		t.Fatalf("CreateTopic: %v", err)
	}
	// Creating it again is accepted.
	if err := kafka.CreateTopic(ctx, brokers, topic, contractPartitions); err != nil {
		t.Fatalf("CreateTopic of an existing topic: %v", err)
	}

	writer := newWriter(t, brokers, topic)
	produce(ctx, t, writer, 0, contractMessages)

	first := newReader(t, brokers, topic, group)
	got := consume(ctx, t, first, contractMessages)
	checkOrder(t, got, 0)
	if err := first.Close(); err != nil {
		t.Fatalf("close first reader: %v", err)
	}

	// One more message per key: a member that resumes at the committed offsets reads exactly
	// these, and a member that resumed earlier on any partition would read an old one first.
	produce(ctx, t, writer, contractMessages, contractKeys)
	second := newReader(t, brokers, topic, group)
	defer second.Close()
	tail := consume(ctx, t, second, contractKeys)
	checkOrder(t, tail, contractMessages/contractKeys)
	partitions := map[int]bool{}
	for _, m := range tail {
		partitions[m.partition] = true
	}
	if len(partitions) != contractPartitions {
		t.Errorf("tail messages reached %d partitions, want all %d (the resume check needs them)", len(partitions), contractPartitions)
	}
}

func newWriter(t *testing.T, brokers []string, topic string) *kafka.Writer {
	t.Helper()
	w, err := kafka.NewWriter(kafka.DefaultWriterConfig(brokers, topic))
	if err != nil {
		t.Fatalf("NewWriter: %v", err)
	}
	t.Cleanup(func() {
		if err := w.Close(); err != nil {
			t.Errorf("close writer: %v", err)
		}
	})
	return w
}

func newReader(t *testing.T, brokers []string, topic, group string) *kafkago.Reader {
	t.Helper()
	r, err := kafka.NewReader(kafka.DefaultReaderConfig(brokers, topic, group))
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	return r
}

// produce writes count messages numbered from start; message n has key n%contractKeys and
// carries its key and its sequence number within the key.
func produce(ctx context.Context, t *testing.T, w *kafka.Writer, start, count int) {
	t.Helper()
	batch := make([]kafkago.Message, 0, contractWriteBatch)
	for n := start; n < start+count; n++ {
		key := fmt.Sprintf("sku-%02d", n%contractKeys)
		batch = append(batch, kafkago.Message{
			Key:   []byte(key),
			Value: []byte(key + " " + strconv.Itoa(n/contractKeys)),
		})
		if len(batch) == contractWriteBatch || n == start+count-1 {
			if err := w.WriteMessages(ctx, batch...); err != nil {
				t.Fatalf("WriteMessages (messages %d..%d): %v", n+1-len(batch), n, err)
			}
			batch = batch[:0]
		}
	}
}

// received is one consumed message, decoded.
type received struct {
	key       string
	seq       int
	partition int
	offset    int64
}

// consume fetches count messages, committing every contractCommitStep messages and at the end.
func consume(ctx context.Context, t *testing.T, r *kafkago.Reader, count int) []received {
	t.Helper()
	got := make([]received, 0, count)
	pending := make([]kafkago.Message, 0, contractCommitStep)
	for len(got) < count {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("FetchMessage after %d of %d messages: %v", len(got), count, err)
		}
		got = append(got, decode(t, m))
		pending = append(pending, m)
		if len(pending) == contractCommitStep || len(got) == count {
			if err := r.CommitMessages(ctx, pending...); err != nil {
				t.Fatalf("CommitMessages after %d messages: %v", len(got), err)
			}
			pending = pending[:0]
		}
	}
	return got
}

func decode(t *testing.T, m kafkago.Message) received {
	t.Helper()
	key, seqText, ok := strings.Cut(string(m.Value), " ")
	seq, err := strconv.Atoi(seqText)
	if !ok || err != nil || key != string(m.Key) {
		t.Fatalf("message at %d/%d: key %q value %q, want value \"<key> <seq>\"", m.Partition, m.Offset, m.Key, m.Value)
	}
	return received{key: key, seq: seq, partition: m.Partition, offset: m.Offset}
}

// checkOrder checks that every key's sequence numbers arrive in order starting at firstSeq, that
// each key stays on one partition, and that offsets increase within each partition.
func checkOrder(t *testing.T, got []received, firstSeq int) {
	t.Helper()
	nextSeq := map[string]int{}
	keyPartition := map[string]int{}
	lastOffset := map[int]int64{}
	for i, m := range got {
		want, seen := nextSeq[m.key]
		if !seen {
			want = firstSeq
		}
		if m.seq != want {
			t.Fatalf("message %d: key %s seq %d, want %d (partition %d offset %d)", i, m.key, m.seq, want, m.partition, m.offset)
		}
		nextSeq[m.key] = m.seq + 1
		if p, ok := keyPartition[m.key]; ok && p != m.partition {
			t.Fatalf("message %d: key %s on partition %d, earlier on %d", i, m.key, m.partition, p)
		}
		keyPartition[m.key] = m.partition
		if last, ok := lastOffset[m.partition]; ok && m.offset <= last {
			t.Fatalf("message %d: partition %d offset %d after %d, want increasing", i, m.partition, m.offset, last)
		}
		lastOffset[m.partition] = m.offset
	}
	if len(nextSeq) != contractKeys {
		t.Errorf("got %d keys, want %d", len(nextSeq), contractKeys)
	}
	perKey := len(got) / contractKeys
	for key, next := range nextSeq {
		if next != firstSeq+perKey {
			t.Errorf("key %s: got seqs %d..%d, want %d..%d", key, firstSeq, next-1, firstSeq, firstSeq+perKey-1)
		}
	}
}

func TestConfigValidation(t *testing.T) {
	brokers := []string{"127.0.0.1:9092"}
	w := kafka.DefaultWriterConfig(brokers, "t")
	if err := w.Validate(); err != nil {
		t.Errorf("default writer config: %v", err)
	}
	r := kafka.DefaultReaderConfig(brokers, "t", "g")
	if err := r.Validate(); err != nil {
		t.Errorf("default reader config: %v", err)
	}
	badWriters := map[string]func(*kafka.WriterConfig){
		"no brokers":       func(c *kafka.WriterConfig) { c.Brokers = nil },
		"zero batch":       func(c *kafka.WriterConfig) { c.BatchSize = 0 },
		"zero timeout":     func(c *kafka.WriterConfig) { c.BatchTimeout = 0 },
		"backoff reversed": func(c *kafka.WriterConfig) { c.WriteBackoffMax = time.Millisecond },
	}
	for name, change := range badWriters {
		c := kafka.DefaultWriterConfig(brokers, "t")
		change(&c)
		if _, err := kafka.NewWriter(c); !errors.Is(err, kafka.ErrInvalidConfig) {
			t.Errorf("NewWriter with %s: error %v, want ErrInvalidConfig", name, err)
		}
	}
	badReaders := map[string]func(*kafka.ReaderConfig){
		"no topic":           func(c *kafka.ReaderConfig) { c.Topic = "" },
		"group and part":     func(c *kafka.ReaderConfig) { c.Partition = 3 },
		"bad start":          func(c *kafka.ReaderConfig) { c.StartOffset = 42 },
		"min over max":       func(c *kafka.ReaderConfig) { c.MinBytes = c.MaxBytes + 1 },
		"heartbeat too long": func(c *kafka.ReaderConfig) { c.HeartbeatInterval = c.SessionTimeout },
	}
	for name, change := range badReaders {
		c := kafka.DefaultReaderConfig(brokers, "t", "g")
		change(&c)
		if _, err := kafka.NewReader(c); !errors.Is(err, kafka.ErrInvalidConfig) {
			t.Errorf("NewReader with %s: error %v, want ErrInvalidConfig", name, err)
		}
	}
}
