package engine

import (
	"fmt"
	"time"

	"stockd/feeds"
	"stockd/reservation"
)

// ChannelKind names what a channel is.
type ChannelKind string

// The channel kinds.
const (
	ChannelSite          ChannelKind = "site"
	ChannelOzon          ChannelKind = "ozon"
	ChannelWildberries   ChannelKind = "wildberries"
	ChannelYandexMarket  ChannelKind = "yandexmarket"
	defaultChannelPolicy             = "priority"
)

// ChannelConfig is one sales channel as configured.
type ChannelConfig struct {
	Name       string      `yaml:"name"`
	Kind       ChannelKind `yaml:"kind"`
	Warehouses []string    `yaml:"warehouses"` // 1C warehouse ids, in priority order
	Strategy   string      `yaml:"strategy"`   // priority | most_stock
	AllowSplit bool        `yaml:"allow_split"`
}

// SafetyStockConfig keeps units of a warehouse (or of one cell) out of
// every channel.
type SafetyStockConfig struct {
	Warehouse string `yaml:"warehouse"`
	SKU       string `yaml:"sku"`
	Qty       int64  `yaml:"qty"`
}

// LedgerConfig is the ledger part of the config file.
type LedgerConfig struct {
	DefaultHoldTTL time.Duration       `yaml:"default_hold_ttl"`
	SafetyStock    []SafetyStockConfig `yaml:"safety_stock"`
	// ExpireInterval is how often held holds past their expiry are released.
	ExpireInterval time.Duration `yaml:"expire_interval"`
}

// ledgerConfig builds the reservation.Config from the engine config.
func (c Config) ledgerConfig() (reservation.Config, error) {
	lc := reservation.Config{DefaultHoldTTL: c.Ledger.DefaultHoldTTL, Limits: reservation.DefaultLimits()}
	for _, ch := range c.Channels {
		switch ch.Kind {
		case ChannelSite, ChannelOzon, ChannelWildberries, ChannelYandexMarket:
		default:
			return lc, fmt.Errorf("engine: config: channel %q: kind %q is not site, ozon, wildberries or yandexmarket", ch.Name, ch.Kind)
		}
		name := ch.Strategy
		if name == "" {
			name = defaultChannelPolicy
		}
		strategy, err := reservation.ParseStrategy(name)
		if err != nil {
			return lc, fmt.Errorf("engine: config: channel %q: %w", ch.Name, err)
		}
		lc.Channels = append(lc.Channels, reservation.ChannelConfig{
			Name: ch.Name, Warehouses: ch.Warehouses, Strategy: strategy, AllowSplit: ch.AllowSplit,
		})
	}
	lc.Channels = append(lc.Channels, feeds.LedgerViews(c.Feeds)...)
	for _, s := range c.Ledger.SafetyStock {
		lc.SafetyStock = append(lc.SafetyStock, reservation.SafetyStock{Warehouse: s.Warehouse, SKU: s.SKU, Qty: s.Qty})
	}
	return lc, nil
}

// DemoChannels are the channels of `stockd demo`: the website and the
// three marketplaces, selling from two warehouses.
func DemoChannels() []ChannelConfig {
	whs := []string{"wh-msk", "wh-spb"}
	return []ChannelConfig{
		{Name: "site", Kind: ChannelSite, Warehouses: whs, Strategy: "priority", AllowSplit: true},
		{Name: "ozon", Kind: ChannelOzon, Warehouses: whs, Strategy: "most_stock"},
		{Name: "wildberries", Kind: ChannelWildberries, Warehouses: whs[:1], Strategy: "priority"},
		{Name: "yandexmarket", Kind: ChannelYandexMarket, Warehouses: whs, Strategy: "priority"},
	}
}
