package alerts

import (
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Limits of the notifier.
const (
	// MaxQueuedMessages bounds the messages waiting to be sent; a message
	// that finds the queue full is dropped (Stats.Dropped).
	MaxQueuedMessages = 256
	// MaxActiveAlerts bounds the (name, key) pairs tracked; past it new
	// alerts are not tracked and are dropped.
	MaxActiveAlerts = 4096
	// MaxAttempts is how often one message is tried before it is dropped.
	MaxAttempts = 3
	// MaxPerMinuteLimit bounds Config.MaxPerMinute.
	MaxPerMinuteLimit = 600
	// maxErrorBody bounds the part of a refusal's body kept in the error.
	maxErrorBody = 512
)

// Config is the telemetry.alerts section of stockd.yaml. Alerts are off
// while WebhookURL is empty.
type Config struct {
	// WebhookURL receives each message as a JSON POST (http or https).
	WebhookURL string `yaml:"webhook_url"`
	// Headers are sent with every POST (e.g. an Authorization token).
	Headers map[string]string `yaml:"headers"`
	// Interval is how often the conditions are evaluated.
	Interval time.Duration `yaml:"interval"`
	// MinRepeat sends a firing alert again after this long while it keeps
	// firing; 0 sends it once.
	MinRepeat time.Duration `yaml:"min_repeat"`
	// MaxPerMinute bounds the POSTs in any minute; more wait in the queue.
	MaxPerMinute int `yaml:"max_per_minute"`
	// Timeout bounds one POST.
	Timeout time.Duration `yaml:"timeout"`
	// ResolveAfter is how long a counter (DLQ, seq gaps, journal errors,
	// dropped changes) must stay flat before its alert resolves.
	ResolveAfter time.Duration `yaml:"resolve_after"`
	// FreshnessSLO is a channel's freshness objective: the age of its
	// oldest unacknowledged change past which it alerts.
	FreshnessSLO time.Duration `yaml:"freshness_slo"`
	// ChannelFreshnessSLO overrides FreshnessSLO per channel name.
	ChannelFreshnessSLO map[string]time.Duration `yaml:"channel_freshness_slo"`
	// MaxKafkaLag alerts when a partition is more messages behind; 0: never.
	MaxKafkaLag int64 `yaml:"max_kafka_lag"`
}

// DefaultConfig is off (no URL) with the production limits.
func DefaultConfig() Config {
	return Config{
		Interval:     30 * time.Second,
		MinRepeat:    4 * time.Hour,
		MaxPerMinute: 20,
		Timeout:      10 * time.Second,
		ResolveAfter: 15 * time.Minute,
		FreshnessSLO: 5 * time.Minute,
		MaxKafkaLag:  10000,
	}
}

// ErrConfig is wrapped by every configuration error.
var ErrConfig = errors.New("alerts: config")

// Enabled reports whether a webhook is configured.
func (c Config) Enabled() bool { return c.WebhookURL != "" }

// SLO is the freshness objective of channel.
func (c Config) SLO(channel string) time.Duration {
	if d, ok := c.ChannelFreshnessSLO[channel]; ok {
		return d
	}
	return c.FreshnessSLO
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	if c.WebhookURL != "" {
		u, err := url.Parse(c.WebhookURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%w: alerts.webhook_url %q is not an http(s) URL", ErrConfig, c.WebhookURL)
		}
	}
	switch {
	case c.Interval <= 0:
		return fmt.Errorf("%w: alerts.interval must be positive", ErrConfig)
	case c.MinRepeat < 0:
		return fmt.Errorf("%w: alerts.min_repeat must not be negative", ErrConfig)
	case c.MaxPerMinute < 1 || c.MaxPerMinute > MaxPerMinuteLimit:
		return fmt.Errorf("%w: alerts.max_per_minute %d is not in [1, %d]", ErrConfig, c.MaxPerMinute, MaxPerMinuteLimit)
	case c.Timeout <= 0:
		return fmt.Errorf("%w: alerts.timeout must be positive", ErrConfig)
	case c.ResolveAfter <= 0:
		return fmt.Errorf("%w: alerts.resolve_after must be positive", ErrConfig)
	case c.FreshnessSLO <= 0:
		return fmt.Errorf("%w: alerts.freshness_slo must be positive", ErrConfig)
	case c.MaxKafkaLag < 0:
		return fmt.Errorf("%w: alerts.max_kafka_lag must not be negative", ErrConfig)
	}
	for ch, d := range c.ChannelFreshnessSLO {
		if d <= 0 {
			return fmt.Errorf("%w: alerts.channel_freshness_slo[%s] must be positive", ErrConfig, ch)
		}
	}
	return nil
}
