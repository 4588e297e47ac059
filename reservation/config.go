package reservation

import (
	"fmt"
	"math"
	"time"
)

// Strategy decides which of a channel's warehouses a line is taken from.
type Strategy uint8

const (
	// StrategyPriority takes stock from the channel's warehouses in the
	// configured order.
	StrategyPriority Strategy = iota + 1
	// StrategyMostStock takes stock from the warehouse with the most
	// available first (ties go to the earlier warehouse in the list).
	StrategyMostStock
)

// ParseStrategy reads "priority" or "most_stock".
func ParseStrategy(s string) (Strategy, error) {
	switch s {
	case "priority":
		return StrategyPriority, nil
	case "most_stock":
		return StrategyMostStock, nil
	}
	return 0, fmt.Errorf("%w: strategy %q is not priority or most_stock", ErrInvalidConfig, s)
}

func (s Strategy) String() string {
	switch s {
	case StrategyPriority:
		return "priority"
	case StrategyMostStock:
		return "most_stock"
	}
	return fmt.Sprintf("Strategy(%d)", uint8(s))
}

// ChannelConfig is one sales channel as the ledger sees it.
type ChannelConfig struct {
	// Name is the channel id used in requests ("site", "ozon", ...).
	Name string
	// Warehouses are the 1C warehouses the channel sells from, in priority
	// order. Its channel quantity is the sum of their availability.
	Warehouses []string
	// Strategy allocates lines to Warehouses.
	Strategy Strategy
	// AllowSplit lets one line (one component's summed demand) be taken
	// from several warehouses; without it a line comes from one warehouse.
	AllowSplit bool
}

// SafetyStock keeps Qty units of a warehouse out of every channel. With SKU
// empty it applies to every SKU of the warehouse; with SKU set it overrides
// the warehouse figure for that one cell.
type SafetyStock struct {
	Warehouse string
	SKU       string
	Qty       int64
}

// Config configures a Ledger. Replaying a journal needs the same channels
// and safety stock to give the same channel quantities, but holds and stock
// are reproduced whatever the config.
type Config struct {
	Channels    []ChannelConfig
	SafetyStock []SafetyStock
	// DefaultHoldTTL is the ttl of a held hold whose request gives none;
	// zero means 15 minutes.
	DefaultHoldTTL time.Duration
	Limits         Limits
}

// DefaultHoldTTL is used when Config.DefaultHoldTTL is zero.
const DefaultHoldTTL = 15 * time.Minute

func (cfg Config) validate() (Config, error) {
	lim, err := cfg.Limits.withDefaults()
	if err != nil {
		return cfg, err
	}
	cfg.Limits = lim
	if cfg.DefaultHoldTTL == 0 {
		cfg.DefaultHoldTTL = DefaultHoldTTL
	}
	if cfg.DefaultHoldTTL < 0 || cfg.DefaultHoldTTL > lim.MaxHoldTTL {
		return cfg, fmt.Errorf("%w: DefaultHoldTTL=%v out of (0, MaxHoldTTL]", ErrInvalidConfig, cfg.DefaultHoldTTL)
	}
	if len(cfg.Channels) > MaxChannels {
		return cfg, fmt.Errorf("%w: %d channels, MaxChannels=%d", ErrInvalidConfig, len(cfg.Channels), MaxChannels)
	}
	seen := make(map[string]bool, len(cfg.Channels))
	for _, ch := range cfg.Channels {
		if err := ch.validate(); err != nil {
			return cfg, err
		}
		if seen[ch.Name] {
			return cfg, fmt.Errorf("%w: channel %q configured twice", ErrInvalidConfig, ch.Name)
		}
		seen[ch.Name] = true
	}
	for _, s := range cfg.SafetyStock {
		if s.Warehouse == "" || len(s.Warehouse) > MaxWarehouseBytes || len(s.SKU) > MaxSKUBytes {
			return cfg, fmt.Errorf("%w: safety stock %q/%q: bad warehouse or SKU", ErrInvalidConfig, s.Warehouse, s.SKU)
		}
		if s.Qty < 0 || s.Qty > math.MaxInt32 {
			return cfg, fmt.Errorf("%w: safety stock %q/%q: qty %d out of range", ErrInvalidConfig, s.Warehouse, s.SKU, s.Qty)
		}
	}
	return cfg, nil
}

func (ch ChannelConfig) validate() error {
	if ch.Name == "" || len(ch.Name) > MaxIDBytes {
		return fmt.Errorf("%w: channel name %q: empty or longer than %d bytes", ErrInvalidConfig, ch.Name, MaxIDBytes)
	}
	if len(ch.Warehouses) == 0 {
		return fmt.Errorf("%w: channel %q has no warehouses", ErrInvalidConfig, ch.Name)
	}
	if ch.Strategy != StrategyPriority && ch.Strategy != StrategyMostStock {
		return fmt.Errorf("%w: channel %q: strategy not set", ErrInvalidConfig, ch.Name)
	}
	seen := make(map[string]bool, len(ch.Warehouses))
	for _, wh := range ch.Warehouses {
		if wh == "" || len(wh) > MaxWarehouseBytes || seen[wh] {
			return fmt.Errorf("%w: channel %q: warehouse %q empty, too long or repeated", ErrInvalidConfig, ch.Name, wh)
		}
		seen[wh] = true
	}
	return nil
}
