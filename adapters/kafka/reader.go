package kafka

import (
	"fmt"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// Reader defaults.
const (
	DefaultMinBytes          = 1
	DefaultMaxBytes          = 10 << 20 // bytes per fetch response
	DefaultMaxWait           = 250 * time.Millisecond
	DefaultReadBatchTimeout  = 10 * time.Second
	DefaultQueueCapacity     = 100 // messages fetched ahead of FetchMessage
	DefaultHeartbeatInterval = 3 * time.Second
	DefaultSessionTimeout    = 10 * time.Second
	DefaultRebalanceTimeout  = 30 * time.Second
	DefaultJoinGroupBackoff  = 500 * time.Millisecond
	DefaultPartitionWatch    = 5 * time.Second
	DefaultOffsetRetention   = 7 * 24 * time.Hour
	DefaultReadBackoffMin    = 100 * time.Millisecond
	DefaultReadBackoffMax    = time.Second
	DefaultReadMaxAttempts   = 3
	DefaultTCPKeepAlive      = 30 * time.Second
)

// ReaderConfig is everything a Reader needs. Start from DefaultReaderConfig.
type ReaderConfig struct {
	Brokers []string
	Topic   string
	// GroupID names the consumer group; empty reads the single partition Partition without a
	// group (the caller then positions the reader with SetOffset).
	GroupID   string
	Partition int
	ClientID  string
	// StartOffset is where a group without committed offsets starts: kafkago.FirstOffset or
	// kafkago.LastOffset.
	StartOffset int64
	// MinBytes, MaxBytes and MaxWait shape each fetch: the broker answers once it has MinBytes
	// or MaxWait has passed, with at most MaxBytes.
	MinBytes int
	MaxBytes int
	MaxWait  time.Duration
	// ReadBatchTimeout bounds reading one fetched batch from the connection.
	ReadBatchTimeout time.Duration
	// QueueCapacity is how many messages are fetched ahead of FetchMessage.
	QueueCapacity int
	// Group membership timing.
	HeartbeatInterval time.Duration
	SessionTimeout    time.Duration
	RebalanceTimeout  time.Duration
	JoinGroupBackoff  time.Duration
	// PartitionWatchInterval is how often the group checks the topic for new partitions.
	PartitionWatchInterval time.Duration
	// OffsetRetention is how long the broker keeps the group's committed offsets.
	OffsetRetention time.Duration
	// ReadBackoffMin and ReadBackoffMax bound the wait between failed fetches; MaxAttempts
	// bounds retries of one fetch before the error is reported.
	ReadBackoffMin time.Duration
	ReadBackoffMax time.Duration
	MaxAttempts    int
	DialTimeout    time.Duration
}

// DefaultReaderConfig returns the configuration stockd uses to read topic in group.
func DefaultReaderConfig(brokers []string, topic, group string) ReaderConfig {
	return ReaderConfig{
		Brokers:                brokers,
		Topic:                  topic,
		GroupID:                group,
		Partition:              0,
		ClientID:               DefaultClientID,
		StartOffset:            kafkago.FirstOffset,
		MinBytes:               DefaultMinBytes,
		MaxBytes:               DefaultMaxBytes,
		MaxWait:                DefaultMaxWait,
		ReadBatchTimeout:       DefaultReadBatchTimeout,
		QueueCapacity:          DefaultQueueCapacity,
		HeartbeatInterval:      DefaultHeartbeatInterval,
		SessionTimeout:         DefaultSessionTimeout,
		RebalanceTimeout:       DefaultRebalanceTimeout,
		JoinGroupBackoff:       DefaultJoinGroupBackoff,
		PartitionWatchInterval: DefaultPartitionWatch,
		OffsetRetention:        DefaultOffsetRetention,
		ReadBackoffMin:         DefaultReadBackoffMin,
		ReadBackoffMax:         DefaultReadBackoffMax,
		MaxAttempts:            DefaultReadMaxAttempts,
		DialTimeout:            DefaultDialTimeout,
	}
}

// Validate reports the first unusable field, wrapping ErrInvalidConfig.
func (c ReaderConfig) Validate() error {
	switch {
	case len(c.Brokers) == 0:
		return fmt.Errorf("%w: reader needs at least one broker", ErrInvalidConfig)
	case c.Topic == "":
		return fmt.Errorf("%w: reader needs a topic", ErrInvalidConfig)
	case c.GroupID != "" && c.Partition != 0:
		return fmt.Errorf("%w: a group reader reads every partition; Partition must be 0", ErrInvalidConfig)
	case c.StartOffset != kafkago.FirstOffset && c.StartOffset != kafkago.LastOffset:
		return fmt.Errorf("%w: reader StartOffset must be FirstOffset or LastOffset", ErrInvalidConfig)
	case c.MinBytes < 1 || c.MaxBytes < c.MinBytes:
		return fmt.Errorf("%w: reader needs 1 <= MinBytes (%d) <= MaxBytes (%d)", ErrInvalidConfig, c.MinBytes, c.MaxBytes)
	case c.QueueCapacity < 1 || c.MaxAttempts < 1:
		return fmt.Errorf("%w: reader QueueCapacity and MaxAttempts must be positive", ErrInvalidConfig)
	case c.MaxWait <= 0, c.ReadBatchTimeout <= 0, c.HeartbeatInterval <= 0, c.SessionTimeout <= 0,
		c.RebalanceTimeout <= 0, c.JoinGroupBackoff <= 0, c.PartitionWatchInterval <= 0,
		c.OffsetRetention <= 0, c.ReadBackoffMin <= 0, c.DialTimeout <= 0:
		return fmt.Errorf("%w: reader timeouts and intervals must be positive", ErrInvalidConfig)
	case c.ReadBackoffMax < c.ReadBackoffMin:
		return fmt.Errorf("%w: reader ReadBackoffMax %v < ReadBackoffMin %v", ErrInvalidConfig, c.ReadBackoffMax, c.ReadBackoffMin)
	case c.HeartbeatInterval >= c.SessionTimeout:
		return fmt.Errorf("%w: reader HeartbeatInterval %v must be below SessionTimeout %v", ErrInvalidConfig, c.HeartbeatInterval, c.SessionTimeout)
	}
	return nil
}

// NewReader returns a reader whose commits are synchronous and explicit: use FetchMessage, make
// the message's effect durable, then CommitMessages. Never use ReadMessage, which commits
// before the caller has done anything. Only committed transactional records are read.
func NewReader(cfg ReaderConfig) (*kafkago.Reader, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return kafkago.NewReader(kafkago.ReaderConfig{
		Brokers:                cfg.Brokers,
		GroupID:                cfg.GroupID,
		GroupTopics:            nil,
		Topic:                  cfg.Topic,
		Partition:              cfg.Partition,
		Dialer:                 newDialer(cfg.ClientID, cfg.DialTimeout),
		QueueCapacity:          cfg.QueueCapacity,
		MinBytes:               cfg.MinBytes,
		MaxBytes:               cfg.MaxBytes,
		MaxWait:                cfg.MaxWait,
		ReadBatchTimeout:       cfg.ReadBatchTimeout,
		ReadLagInterval:        -1, // lag is measured by the caller from offsets
		GroupBalancers:         []kafkago.GroupBalancer{kafkago.RangeGroupBalancer{}},
		HeartbeatInterval:      cfg.HeartbeatInterval,
		CommitInterval:         0, // every CommitMessages call commits before it returns
		PartitionWatchInterval: cfg.PartitionWatchInterval,
		WatchPartitionChanges:  cfg.GroupID != "",
		SessionTimeout:         cfg.SessionTimeout,
		RebalanceTimeout:       cfg.RebalanceTimeout,
		JoinGroupBackoff:       cfg.JoinGroupBackoff,
		RetentionTime:          cfg.OffsetRetention,
		StartOffset:            cfg.StartOffset,
		ReadBackoffMin:         cfg.ReadBackoffMin,
		ReadBackoffMax:         cfg.ReadBackoffMax,
		Logger:                 nil,
		ErrorLogger:            nil,
		IsolationLevel:         kafkago.ReadCommitted,
		MaxAttempts:            cfg.MaxAttempts,
		OffsetOutOfRangeError:  true,
	}), nil
}

func newDialer(clientID string, timeout time.Duration) *kafkago.Dialer {
	return &kafkago.Dialer{
		ClientID:        clientID,
		DialFunc:        nil,
		Timeout:         timeout,
		Deadline:        time.Time{},
		LocalAddr:       nil,
		DualStack:       false,
		FallbackDelay:   0,
		KeepAlive:       DefaultTCPKeepAlive,
		Resolver:        nil,
		TLS:             nil,
		SASLMechanism:   nil,
		TransactionalID: "",
	}
}
