package reservation

import (
	"errors"
	"testing"
)

func TestConfigValidation(t *testing.T) {
	ch := ChannelConfig{Name: "site", Warehouses: []string{"msk"}, Strategy: StrategyPriority}
	for name, cfg := range map[string]Config{
		"no warehouses":     {Channels: []ChannelConfig{{Name: "site", Strategy: StrategyPriority}}},
		"no strategy":       {Channels: []ChannelConfig{{Name: "site", Warehouses: []string{"msk"}}}},
		"twice":             {Channels: []ChannelConfig{ch, ch}},
		"repeated source":   {Channels: []ChannelConfig{{Name: "site", Warehouses: []string{"msk", "msk"}, Strategy: StrategyPriority}}},
		"negative safety":   {Channels: []ChannelConfig{ch}, SafetyStock: []SafetyStock{{Warehouse: "msk", Qty: -1}}},
		"negative limit":    {Channels: []ChannelConfig{ch}, Limits: Limits{MaxLinesPerHold: -1}},
		"ttl over max":      {Channels: []ChannelConfig{ch}, DefaultHoldTTL: 2 * DefaultLimits().MaxHoldTTL},
		"window too large":  {Channels: []ChannelConfig{ch}, Limits: Limits{MaxRetainedHolds: 1 << 31}},
		"unnamed warehouse": {Channels: []ChannelConfig{ch}, SafetyStock: []SafetyStock{{Qty: 1}}},
	} {
		if _, err := New(cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: err = %v, want invalid config", name, err)
		}
	}
	l, err := New(Config{Channels: []ChannelConfig{ch}})
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Channels(); len(got) != 1 || got[0] != "site" {
		t.Fatalf("channels = %v", got)
	}
	if s, err := ParseStrategy("most_stock"); err != nil || s != StrategyMostStock || s.String() != "most_stock" {
		t.Fatalf("ParseStrategy = %v %v", s, err)
	}
	if _, err := ParseStrategy("random"); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("ParseStrategy(random) = %v", err)
	}
}
