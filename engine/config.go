package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"stockd/adapters/httpapi"
	"stockd/adapters/onec/exchange"
	"stockd/adapters/telemetry"
	"stockd/engine/journal"
	"stockd/feeds"
)

// Config is everything stockd needs to run. cmd/stockd fills it from the
// YAML file and STOCKD_* environment variables; nothing below cmd reads
// either.
type Config struct {
	HTTP    HTTPConfig    `yaml:"http"`
	Journal JournalConfig `yaml:"journal"`
	Kafka   KafkaConfig   `yaml:"kafka"`
	// Channels are the sales channels: the website and each marketplace account.
	Channels []ChannelConfig `yaml:"channels"`
	Ledger   LedgerConfig    `yaml:"ledger"`
	// OneC is the 1C exchange protocol endpoint.
	OneC OneCConfig `yaml:"onec"`
	// Feeds are the marketplace channels stock and prices are pushed to
	// (each names a channel of Channels) and the store of what they
	// acknowledged.
	Feeds    []feeds.ChannelConfig `yaml:"feeds"`
	FeedAcks FeedAcksConfig        `yaml:"feed_acks"`
	// Orders is the marketplace order intake.
	Orders OrdersConfig `yaml:"orders"`
	// Telemetry is tracing (sampling, OTLP) and metrics (/metrics, OTLP).
	Telemetry telemetry.Config `yaml:"telemetry"`
	// StartupTimeout bounds recovery and connecting to Kafka and the database.
	StartupTimeout time.Duration `yaml:"startup_timeout"`
	// ShutdownTimeout bounds draining requests and flushing the journal.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// HTTPConfig is the API listener.
type HTTPConfig struct {
	Listen string         `yaml:"listen"`
	Limits httpapi.Limits `yaml:"limits"`
	// APIKeys are the accepted Bearer keys, stored as SHA-256 hashes.
	APIKeys []httpapi.APIKey `yaml:"api_keys"`
}

// JournalKind names a journal backend.
type JournalKind string

// The journal backends.
const (
	JournalFile     JournalKind = "file"
	JournalPostgres JournalKind = "postgres"
)

// JournalConfig selects and configures the journal backend.
type JournalConfig struct {
	Kind        JournalKind `yaml:"kind"`
	Dir         string      `yaml:"dir"`          // file journal directory
	DatabaseURL string      `yaml:"database_url"` // postgres journal
	MaxConns    int32       `yaml:"max_conns"`    // postgres pool size; 0: the default
	// SnapshotEveryRecords is how many durable records since the last
	// snapshot make the next one; SnapshotInterval is how often that is
	// checked. Recovery replays at most about that many records.
	SnapshotEveryRecords uint64        `yaml:"snapshot_every_records"`
	SnapshotInterval     time.Duration `yaml:"snapshot_interval"`
	// GatherWait lets a group commit wait for company when callers are
	// concurrent (the last group served more than one) and fewer than
	// GatherTickets are queued: one write and one fsync then serve more
	// callers, for that much more latency. 0 takes each group at once.
	// At most journal.MaxGatherWait.
	GatherWait    time.Duration `yaml:"gather_wait"`
	GatherTickets int           `yaml:"gather_tickets"`
}

// The group gather defaults: on this project's reserve benchmark (2
// cores, 64 checkout connections) 200 µs cut the server's CPU per hold
// by 10–20 % and raised its peak (BENCHMARKS.md); a lone caller
// never waits.
const (
	DefaultGatherWait    = 200 * time.Microsecond
	DefaultGatherTickets = 32
)

// KafkaConfig names the brokers and topics of the 1C stream.
type KafkaConfig struct {
	Brokers     []string `yaml:"brokers"`
	EventsTopic string   `yaml:"events_topic"`
	DLQTopic    string   `yaml:"dlq_topic"`
	OrdersTopic string   `yaml:"orders_topic"`
	GroupID     string   `yaml:"group_id"`
	// SeqGapTimeout is how long a missing 1C seq may stay missing (events
	// of one source arrive out of order across partitions) before it is
	// reported as a gap.
	SeqGapTimeout time.Duration `yaml:"seq_gap_timeout"`
	// SessionTimeout is how long the group coordinator waits for a silent
	// member; RebalanceTimeout how long a rebalance waits for members to
	// rejoin. After a crash the dead member holds its partitions back for
	// about the rebalance timeout, so it is short.
	SessionTimeout   time.Duration `yaml:"session_timeout"`
	RebalanceTimeout time.Duration `yaml:"rebalance_timeout"`
	// MaxEventAhead is how far after this server's clock an event's `at`
	// may be: a later one goes to the DLQ (from Kafka) or is refused with
	// 422 (POST /v1/events). Wide enough for a 1C that labels local time
	// with the wrong zone; a mistyped year is caught.
	MaxEventAhead time.Duration `yaml:"max_event_ahead"`
}

// MaxJournalConns bounds journal.max_conns (the PostgreSQL pool).
const MaxJournalConns = 256

// DefaultMaxEventAhead is kafka.max_event_ahead's default.
const DefaultMaxEventAhead = 24 * time.Hour

// DefaultConfig returns the configuration every field of a file starts from.
func DefaultConfig() Config {
	return Config{
		HTTP: HTTPConfig{Listen: "127.0.0.1:8080", Limits: httpapi.DefaultLimits()},
		Journal: JournalConfig{Kind: JournalFile, Dir: "./data/journal",
			SnapshotEveryRecords: 1_000_000, SnapshotInterval: 10 * time.Second,
			GatherWait: DefaultGatherWait, GatherTickets: DefaultGatherTickets},
		Kafka: KafkaConfig{
			EventsTopic:      "onec.events",
			DLQTopic:         "onec.events.dlq",
			OrdersTopic:      "orders.out",
			GroupID:          "stockd",
			SeqGapTimeout:    30 * time.Second,
			SessionTimeout:   6 * time.Second,
			RebalanceTimeout: 5 * time.Second,
			MaxEventAhead:    DefaultMaxEventAhead,
		},
		Ledger:          LedgerConfig{DefaultHoldTTL: 15 * time.Minute, ExpireInterval: time.Second},
		OneC:            OneCConfig{Exchange: exchange.DefaultConfig("")},
		Telemetry:       telemetry.DefaultConfig(),
		StartupTimeout:  60 * time.Second,
		ShutdownTimeout: 15 * time.Second,
	}
}

// ParseConfig reads YAML over the defaults. Unknown keys are an error, so a
// misspelt option never silently keeps its default.
func ParseConfig(data []byte) (Config, error) {
	cfg, err := DecodeConfig(data)
	if err != nil {
		return Config{}, err
	}
	return cfg, cfg.Validate()
}

// DecodeConfig is ParseConfig without Validate: for a caller that applies
// overrides (STOCKD_* variables) first and validates the result.
func DecodeConfig(data []byte) (Config, error) {
	cfg := DefaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	// An empty file decodes as io.EOF and means "all defaults".
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("engine: config: %w", err)
	}
	return cfg, nil
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	if c.HTTP.Listen == "" {
		return errors.New("engine: config: http.listen is empty")
	}
	if err := c.HTTP.Limits.Validate(); err != nil {
		return fmt.Errorf("engine: config: http.limits: %w", err)
	}
	switch c.Journal.Kind {
	case JournalFile:
		if c.Journal.Dir == "" {
			return errors.New("engine: config: journal.dir is empty for the file journal")
		}
	case JournalPostgres:
		if c.Journal.DatabaseURL == "" {
			return errors.New("engine: config: journal.database_url is empty for the postgres journal")
		}
		if c.Journal.MaxConns < 0 || c.Journal.MaxConns > MaxJournalConns {
			return fmt.Errorf("engine: config: journal.max_conns %d is outside 0..%d (0: the default)", c.Journal.MaxConns, MaxJournalConns)
		}
	default:
		return fmt.Errorf("engine: config: journal.kind %q is not file or postgres", c.Journal.Kind)
	}
	if c.Journal.SnapshotEveryRecords == 0 || c.Journal.SnapshotInterval <= 0 {
		return errors.New("engine: config: journal.snapshot_every_records and snapshot_interval must be positive")
	}
	if c.Journal.GatherWait < 0 || c.Journal.GatherWait > journal.MaxGatherWait ||
		(c.Journal.GatherWait > 0 && c.Journal.GatherTickets < 2) {
		return fmt.Errorf("engine: config: journal.gather_wait %v must be within [0, %v], with gather_tickets at least 2 (got %d)",
			c.Journal.GatherWait, journal.MaxGatherWait, c.Journal.GatherTickets)
	}
	if len(c.Channels) == 0 {
		return errors.New("engine: config: no channels: name at least the website (kind: site) with its warehouses")
	}
	if _, err := c.ledgerConfig(); err != nil {
		return err
	}
	for _, b := range c.Kafka.Brokers {
		if strings.TrimSpace(b) == "" || strings.TrimSpace(b) != b {
			return fmt.Errorf("engine: config: kafka.brokers %q: an empty address or one with spaces", c.Kafka.Brokers)
		}
	}
	if len(c.Kafka.Brokers) > 0 && (c.Kafka.EventsTopic == "" || c.Kafka.DLQTopic == "" || c.Kafka.GroupID == "") {
		return errors.New("engine: config: kafka.events_topic, dlq_topic and group_id must not be empty " +
			"(without a group the reader would read one partition only)")
	}
	if c.Kafka.SessionTimeout < 6*time.Second || c.Kafka.RebalanceTimeout <= 0 {
		return errors.New("engine: config: kafka.session_timeout must be at least 6s (the brokers' minimum) and rebalance_timeout positive")
	}
	if c.Kafka.MaxEventAhead <= 0 {
		return errors.New("engine: config: kafka.max_event_ahead must be positive (default 24h)")
	}
	if c.Kafka.SeqGapTimeout <= 0 {
		return errors.New("engine: config: kafka.seq_gap_timeout must be positive")
	}
	if len(c.OneC.Exchange.Accounts) > 0 {
		xc, err := c.exchangeConfig()
		if err != nil {
			return err
		}
		if err := xc.Validate(); err != nil {
			return fmt.Errorf("engine: config: onec.exchange: %w", err)
		}
		if int64(c.HTTP.Limits.MaxBodyBytes) < xc.FileLimitBytes {
			return fmt.Errorf("engine: config: http.limits.max_body_bytes %d is below onec.exchange.file_limit_bytes %d",
				c.HTTP.Limits.MaxBodyBytes, xc.FileLimitBytes)
		}
	}
	if err := c.Telemetry.Validate(); err != nil {
		return fmt.Errorf("engine: config: telemetry: %w", err)
	}
	if err := c.validateFeeds(); err != nil {
		return err
	}
	if err := c.validateOrders(); err != nil {
		return err
	}
	if c.Ledger.ExpireInterval <= 0 {
		return errors.New("engine: config: ledger.expire_interval must be positive")
	}
	if c.StartupTimeout <= 0 || c.ShutdownTimeout <= 0 {
		return errors.New("engine: config: startup_timeout and shutdown_timeout must be positive")
	}
	return nil
}

// validateFeeds checks the marketplace channels against the ledger's.
func (c Config) validateFeeds() error {
	if len(c.Feeds) == 0 {
		return nil
	}
	if err := feeds.ValidateChannels(c.Feeds); err != nil {
		return fmt.Errorf("engine: config: feeds: %w", err)
	}
	kinds := map[string]ChannelKind{}
	for _, ch := range c.Channels {
		kinds[ch.Name] = ch.Kind
	}
	for _, f := range c.Feeds {
		kind, ok := kinds[f.Name]
		if !ok {
			return fmt.Errorf("engine: config: feeds: %q is not one of channels (a feed pushes a channel's quantities)", f.Name)
		}
		if string(kind) != string(f.Kind) {
			return fmt.Errorf("engine: config: feeds: %q is kind %s, its channel is kind %s", f.Name, f.Kind, kind)
		}
	}
	fa := c.feedAcks()
	if fa.Kind != JournalFile && fa.Kind != JournalPostgres {
		return fmt.Errorf("engine: config: feed_acks.kind %q is not file or postgres", fa.Kind)
	}
	return nil
}
