package kafka

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// ErrTopicMismatch is returned (wrapped) when a topic exists with fewer partitions than asked for.
var ErrTopicMismatch = errors.New("kafka: topic exists with other partitions")

// Topic creation limits.
const (
	// MaxPartitions is the most partitions CreateTopic makes for one topic.
	MaxPartitions = 1024
	// topicPollInterval is how often CreateTopic asks whether every partition has a leader.
	topicPollInterval = 50 * time.Millisecond
	// topicRequestTimeout bounds each admin request; ctx bounds the whole call.
	topicRequestTimeout = 10 * time.Second
)

// CreateTopic creates topic with the given number of partitions and the broker's default
// replication factor, and returns once every partition has a leader, so that a writer can use
// the topic at once. A topic that already exists with at least as many partitions is
// accepted as it is; one with fewer gives ErrTopicMismatch. ctx bounds the whole call.
func CreateTopic(ctx context.Context, brokers []string, topic string, partitions int) error {
	if len(brokers) == 0 || topic == "" || partitions < 1 || partitions > MaxPartitions {
		return fmt.Errorf("%w: CreateTopic(%v, %q, %d)", ErrInvalidConfig, brokers, topic, partitions)
	}
	transport := newTransport(DefaultClientID, DefaultDialTimeout, DefaultIdleTimeout, DefaultMetadataTTL)
	defer transport.CloseIdleConnections()
	client := &kafkago.Client{Addr: kafkago.TCP(brokers...), Timeout: topicRequestTimeout, Transport: transport}

	resp, err := client.CreateTopics(ctx, &kafkago.CreateTopicsRequest{
		Topics: []kafkago.TopicConfig{{
			Topic:             topic,
			NumPartitions:     partitions,
			ReplicationFactor: -1, // the broker's default.replication.factor
		}},
		ValidateOnly: false,
	})
	if err != nil {
		return fmt.Errorf("kafka: create topic %s: %w", topic, err)
	}
	if err := resp.Errors[topic]; err != nil && !errors.Is(err, kafkago.TopicAlreadyExists) {
		return fmt.Errorf("kafka: create topic %s: %w", topic, err)
	}
	return waitForLeaders(ctx, client, topic, partitions)
}

// waitForLeaders polls metadata until topic has at least partitions partitions, each with a leader.
func waitForLeaders(ctx context.Context, client *kafkago.Client, topic string, partitions int) error {
	ticker := time.NewTicker(topicPollInterval)
	defer ticker.Stop()
	for {
		ready, err := leadersReady(ctx, client, topic, partitions)
		if err != nil {
			return err
		}
		if ready {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kafka: topic %s: waiting for partition leaders: %w", topic, ctx.Err())
		case <-ticker.C:
		}
	}
}

func leadersReady(ctx context.Context, client *kafkago.Client, topic string, partitions int) (bool, error) {
	meta, err := client.Metadata(ctx, &kafkago.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		if ctx.Err() != nil {
			return false, fmt.Errorf("kafka: topic %s metadata: %w", topic, err)
		}
		return false, nil // the broker may still be electing leaders; ask again
	}
	for _, t := range meta.Topics {
		if t.Name != topic || t.Error != nil {
			continue
		}
		if len(t.Partitions) > 0 && len(t.Partitions) < partitions {
			return false, fmt.Errorf("%w: %s has %d partitions, want %d", ErrTopicMismatch, topic, len(t.Partitions), partitions)
		}
		for _, p := range t.Partitions {
			if p.Error != nil || p.Leader.Host == "" {
				return false, nil
			}
		}
		return len(t.Partitions) >= partitions, nil
	}
	return false, nil
}

// CommittedOffsets returns a consumer group's committed offsets (the next
// offset each partition's consumer reads) for the partitions of topic; a
// partition with no commit is absent. ctx bounds the call.
func CommittedOffsets(ctx context.Context, brokers []string, group, topic string, partitions []int) (map[int]int64, error) {
	if len(brokers) == 0 || group == "" || topic == "" {
		return nil, fmt.Errorf("%w: CommittedOffsets(%v, %q, %q)", ErrInvalidConfig, brokers, group, topic)
	}
	transport := newTransport(DefaultClientID, DefaultDialTimeout, DefaultIdleTimeout, DefaultMetadataTTL)
	defer transport.CloseIdleConnections()
	client := &kafkago.Client{Addr: kafkago.TCP(brokers...), Timeout: topicRequestTimeout, Transport: transport}
	resp, err := client.OffsetFetch(ctx, &kafkago.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: partitions}})
	if err == nil {
		err = resp.Error
	}
	if err != nil {
		return nil, fmt.Errorf("kafka: committed offsets of group %s on %s: %w", group, topic, err)
	}
	out := make(map[int]int64, len(partitions))
	for _, p := range resp.Topics[topic] {
		if p.Error != nil {
			return nil, fmt.Errorf("kafka: committed offset of group %s on %s/%d: %w", group, topic, p.Partition, p.Error)
		}
		if p.CommittedOffset >= 0 {
			out[p.Partition] = p.CommittedOffset
		}
	}
	return out, nil
}

// SplitBrokers reads a comma-separated broker list (STOCKD_KAFKA_BROKERS,
// a -brokers flag): each address trimmed, empty ones dropped, so
// "a:9092, b:9092," is two brokers and "" is none.
func SplitBrokers(v string) []string {
	var out []string
	for _, b := range strings.Split(v, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}
