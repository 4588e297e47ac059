package kafka

import (
	"errors"
	"fmt"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// ErrInvalidConfig is returned (wrapped) when a writer or reader configuration is unusable.
var ErrInvalidConfig = errors.New("kafka: invalid config")

// Writer defaults. DefaultBatchTimeout is short because kafka-go's own default makes a lone
// synchronous write wait a whole second.
const (
	DefaultBatchSize       = 100
	DefaultMaxBatchBytes   = 1 << 20 // bytes; the broker's default message.max.bytes is about 1 MiB
	DefaultBatchTimeout    = 5 * time.Millisecond
	DefaultWriteTimeout    = 10 * time.Second
	DefaultReadTimeout     = 10 * time.Second
	DefaultMaxAttempts     = 10
	DefaultWriteBackoffMin = 100 * time.Millisecond
	DefaultWriteBackoffMax = time.Second
	DefaultDialTimeout     = 5 * time.Second
	DefaultIdleTimeout     = 30 * time.Second
	DefaultMetadataTTL     = 6 * time.Second
	DefaultClientID        = "stockd"
)

// WriterConfig is everything a Writer needs. Start from DefaultWriterConfig.
type WriterConfig struct {
	Brokers []string // host:port of one or more brokers
	Topic   string   // topic of every message; empty means each message names its own
	// ClientID names the process in broker logs and quotas.
	ClientID string
	// BatchSize is the most messages sent to one partition in one request.
	BatchSize int
	// MaxBatchBytes is the most bytes sent to one partition in one request.
	MaxBatchBytes int64
	// BatchTimeout is how long a partial batch waits for more messages before it is sent.
	BatchTimeout time.Duration
	// WriteTimeout and ReadTimeout bound each request to a broker and its reply.
	WriteTimeout time.Duration
	ReadTimeout  time.Duration
	// MaxAttempts is how many times a batch is tried before WriteMessages fails.
	MaxAttempts int
	// WriteBackoffMin and WriteBackoffMax bound the wait between attempts.
	WriteBackoffMin time.Duration
	WriteBackoffMax time.Duration
	// DialTimeout bounds opening a connection; IdleTimeout closes unused ones.
	DialTimeout time.Duration
	IdleTimeout time.Duration
	// MetadataTTL is how long topic metadata (partitions, leaders) is cached.
	MetadataTTL time.Duration
	// Compression of batches; 0 sends them uncompressed.
	Compression kafkago.Compression
}

// DefaultWriterConfig returns the configuration stockd uses to write to topic.
func DefaultWriterConfig(brokers []string, topic string) WriterConfig {
	return WriterConfig{
		Brokers:         brokers,
		Topic:           topic,
		ClientID:        DefaultClientID,
		BatchSize:       DefaultBatchSize,
		MaxBatchBytes:   DefaultMaxBatchBytes,
		BatchTimeout:    DefaultBatchTimeout,
		WriteTimeout:    DefaultWriteTimeout,
		ReadTimeout:     DefaultReadTimeout,
		MaxAttempts:     DefaultMaxAttempts,
		WriteBackoffMin: DefaultWriteBackoffMin,
		WriteBackoffMax: DefaultWriteBackoffMax,
		DialTimeout:     DefaultDialTimeout,
		IdleTimeout:     DefaultIdleTimeout,
		MetadataTTL:     DefaultMetadataTTL,
		Compression:     0,
	}
}

// Validate reports the first unusable field, wrapping ErrInvalidConfig.
func (c WriterConfig) Validate() error {
	switch {
	case len(c.Brokers) == 0:
		return fmt.Errorf("%w: writer needs at least one broker", ErrInvalidConfig)
	case c.BatchSize < 1:
		return fmt.Errorf("%w: writer BatchSize %d < 1", ErrInvalidConfig, c.BatchSize)
	case c.MaxBatchBytes < 1:
		return fmt.Errorf("%w: writer MaxBatchBytes %d < 1", ErrInvalidConfig, c.MaxBatchBytes)
	case c.BatchTimeout <= 0, c.WriteTimeout <= 0, c.ReadTimeout <= 0, c.DialTimeout <= 0,
		c.IdleTimeout <= 0, c.MetadataTTL <= 0, c.WriteBackoffMin <= 0:
		return fmt.Errorf("%w: writer timeouts and backoffs must be positive", ErrInvalidConfig)
	case c.WriteBackoffMax < c.WriteBackoffMin:
		return fmt.Errorf("%w: writer WriteBackoffMax %v < WriteBackoffMin %v", ErrInvalidConfig, c.WriteBackoffMax, c.WriteBackoffMin)
	case c.MaxAttempts < 1:
		return fmt.Errorf("%w: writer MaxAttempts %d < 1", ErrInvalidConfig, c.MaxAttempts)
	}
	return nil
}

// Writer is a kafka-go Writer that owns its connections: Close flushes pending batches and
// then closes them.
type Writer struct {
	*kafkago.Writer
	transport *kafkago.Transport
}

// NewWriter returns a synchronous writer: WriteMessages returns once every in-sync replica has
// the messages (acks=all). Messages are assigned to partitions by the murmur2 hash of their
// key, as the Java client and librdkafka's murmur2 partitioner do, so one key always lands on
// one partition whoever produces it; messages without a key all go to one partition.
func NewWriter(cfg WriterConfig) (*Writer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	transport := newTransport(cfg.ClientID, cfg.DialTimeout, cfg.IdleTimeout, cfg.MetadataTTL)
	w := &kafkago.Writer{
		Addr:                   kafkago.TCP(cfg.Brokers...),
		Topic:                  cfg.Topic,
		Balancer:               kafkago.Murmur2Balancer{Consistent: true},
		MaxAttempts:            cfg.MaxAttempts,
		WriteBackoffMin:        cfg.WriteBackoffMin,
		WriteBackoffMax:        cfg.WriteBackoffMax,
		BatchSize:              cfg.BatchSize,
		BatchBytes:             cfg.MaxBatchBytes,
		BatchTimeout:           cfg.BatchTimeout,
		ReadTimeout:            cfg.ReadTimeout,
		WriteTimeout:           cfg.WriteTimeout,
		RequiredAcks:           kafkago.RequireAll,
		Async:                  false,
		Completion:             nil,
		Compression:            cfg.Compression,
		Logger:                 nil,
		ErrorLogger:            nil,
		Transport:              transport,
		AllowAutoTopicCreation: false,
	}
	return &Writer{Writer: w, transport: transport}, nil
}

// Close sends what is pending, waits for it, and closes the writer's connections.
func (w *Writer) Close() error {
	err := w.Writer.Close()
	w.transport.CloseIdleConnections()
	return err
}

func newTransport(clientID string, dialTimeout, idleTimeout, metadataTTL time.Duration) *kafkago.Transport {
	return &kafkago.Transport{
		Dial:           nil, // net.Dialer with DialTimeout
		DialTimeout:    dialTimeout,
		IdleTimeout:    idleTimeout,
		MetadataTTL:    metadataTTL,
		MetadataTopics: nil, // metadata for the topics in use
		ClientID:       clientID,
		TLS:            nil,
		SASL:           nil,
		Resolver:       nil,
		Context:        nil,
	}
}
