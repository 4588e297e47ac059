package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrInvalidConfig is returned (wrapped) when a Config is unusable.
var ErrInvalidConfig = errors.New("postgres: invalid config")

// Pool defaults.
const (
	DefaultMaxConns              = 8
	DefaultMinConns              = 1
	DefaultConnectTimeout        = 5 * time.Second
	DefaultMaxConnLifetime       = time.Hour
	DefaultMaxConnLifetimeJitter = 5 * time.Minute
	DefaultMaxConnIdleTime       = 10 * time.Minute
	DefaultHealthCheckPeriod     = 30 * time.Second
	DefaultPingTimeout           = 5 * time.Second
	DefaultStatementTimeout      = 30 * time.Second
	DefaultStatementCacheSize    = 512 // prepared statements kept per connection
	DefaultApplicationName       = "stockd"
	// MaxPoolConns is the largest pool NewPool accepts.
	MaxPoolConns = 256
)

// Config is everything NewPool needs. Start from DefaultConfig.
type Config struct {
	// URL is a PostgreSQL URL or keyword/value connection string.
	URL string
	// MaxConns and MinConns bound the pool; MinConns connections are kept open.
	MaxConns int32
	MinConns int32
	// ConnectTimeout bounds opening one connection.
	ConnectTimeout time.Duration
	// MaxConnLifetime (plus up to MaxConnLifetimeJitter) retires old connections;
	// MaxConnIdleTime closes unused ones; HealthCheckPeriod is how often both are checked.
	MaxConnLifetime       time.Duration
	MaxConnLifetimeJitter time.Duration
	MaxConnIdleTime       time.Duration
	HealthCheckPeriod     time.Duration
	// PingTimeout bounds the liveness check of a connection that sat idle.
	PingTimeout time.Duration
	// StatementTimeout is the server-side limit on one statement (statement_timeout).
	StatementTimeout time.Duration
	// ApplicationName is shown in pg_stat_activity.
	ApplicationName string
}

// DefaultConfig returns the pool configuration stockd uses for url.
func DefaultConfig(url string) Config {
	return Config{
		URL:                   url,
		MaxConns:              DefaultMaxConns,
		MinConns:              DefaultMinConns,
		ConnectTimeout:        DefaultConnectTimeout,
		MaxConnLifetime:       DefaultMaxConnLifetime,
		MaxConnLifetimeJitter: DefaultMaxConnLifetimeJitter,
		MaxConnIdleTime:       DefaultMaxConnIdleTime,
		HealthCheckPeriod:     DefaultHealthCheckPeriod,
		PingTimeout:           DefaultPingTimeout,
		StatementTimeout:      DefaultStatementTimeout,
		ApplicationName:       DefaultApplicationName,
	}
}

// Validate reports the first unusable field, wrapping ErrInvalidConfig.
func (c Config) Validate() error {
	switch {
	case c.URL == "":
		return fmt.Errorf("%w: empty URL", ErrInvalidConfig)
	case c.MaxConns < 1 || c.MaxConns > MaxPoolConns:
		return fmt.Errorf("%w: MaxConns %d outside 1..%d", ErrInvalidConfig, c.MaxConns, MaxPoolConns)
	case c.MinConns < 0 || c.MinConns > c.MaxConns:
		return fmt.Errorf("%w: MinConns %d outside 0..MaxConns (%d)", ErrInvalidConfig, c.MinConns, c.MaxConns)
	case c.ConnectTimeout <= 0, c.MaxConnLifetime <= 0, c.MaxConnIdleTime <= 0,
		c.HealthCheckPeriod <= 0, c.PingTimeout <= 0, c.StatementTimeout <= 0:
		return fmt.Errorf("%w: timeouts and periods must be positive", ErrInvalidConfig)
	case c.MaxConnLifetimeJitter < 0:
		return fmt.Errorf("%w: MaxConnLifetimeJitter %v < 0", ErrInvalidConfig, c.MaxConnLifetimeJitter)
	}
	return nil
}

// NewPool opens a pool and checks that the database answers before returning it. ctx bounds
// that first connection; the pool outlives it. The caller closes the pool.
func NewPool(ctx context.Context, cfg Config) (*pgxpool.Pool, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		// The parse error may quote the URL and its password; say only what failed.
		return nil, fmt.Errorf("%w: cannot parse URL", ErrInvalidConfig)
	}
	pc.MaxConns = cfg.MaxConns
	pc.MinConns = cfg.MinConns
	pc.MinIdleConns = 0 // idle connections are not kept beyond MinConns
	pc.MaxConnLifetime = cfg.MaxConnLifetime
	pc.MaxConnLifetimeJitter = cfg.MaxConnLifetimeJitter
	pc.MaxConnIdleTime = cfg.MaxConnIdleTime
	pc.HealthCheckPeriod = cfg.HealthCheckPeriod
	pc.PingTimeout = cfg.PingTimeout
	pc.ConnConfig.ConnectTimeout = cfg.ConnectTimeout
	pc.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeCacheStatement
	pc.ConnConfig.StatementCacheCapacity = DefaultStatementCacheSize
	pc.ConnConfig.DescriptionCacheCapacity = DefaultStatementCacheSize
	pc.ConnConfig.RuntimeParams["application_name"] = cfg.ApplicationName
	pc.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(cfg.StatementTimeout.Milliseconds(), 10)

	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("postgres: open pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect to %s:%d/%s: %w", pc.ConnConfig.Host, pc.ConnConfig.Port, pc.ConnConfig.Database, err)
	}
	return pool, nil
}
