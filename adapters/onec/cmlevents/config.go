package cmlevents

import (
	"fmt"
	"time"

	"stockd/reservation"
)

// MaxSourceBytes bounds Config.Source: an event id is "<source>:<seq>" and must fit
// reservation.MaxIDBytes.
const MaxSourceBytes = 100

// Config says how one 1C base's CommerceML becomes events.
type Config struct {
	// Source names the 1C base in every event (`source`); seq increases per Source.
	Source string `yaml:"source"`
	// DefaultWarehouse receives an offer's stock when the offer carries only a total
	// (layouts A and D) and no per-warehouse figures. Empty: such totals are skipped
	// with a warning.
	DefaultWarehouse string `yaml:"default_warehouse"`
	// Warehouses maps a 1C Склад Ид to our warehouse id. An unmapped Ид is used as it is.
	Warehouses map[string]string `yaml:"warehouses"`
	// PriceTypes maps a 1C ТипЦены Ид to our price_type name. Only these price types
	// become price.set events.
	PriceTypes map[string]string `yaml:"price_types"`
	// DefaultCurrency (ISO 4217) is used for a price that names no currency and whose
	// price type declares none. Empty: such prices are skipped with a warning.
	DefaultCurrency string `yaml:"default_currency"`
	// ZeroMissing sends stock.set 0, for every warehouse it had, to each offer that a
	// full snapshot no longer lists. Off: such offers are only reported.
	ZeroMissing bool `yaml:"zero_missing"`
	// UnspecifiedIsFull treats a package without СодержитТолькоИзменения as a full
	// snapshot. Off: it is read as changes only.
	UnspecifiedIsFull bool `yaml:"unspecified_is_full"`
	// Location is the zone of ДатаФормирования, which 1C writes without one. Nil: UTC.
	Location *time.Location `yaml:"-"`
	// UseImportTime stamps every event with the import time instead of ДатаФормирования.
	UseImportTime bool `yaml:"use_import_time"`

	// MaxBatchEvents is the most events handed to the Sink in one Publish.
	MaxBatchEvents int `yaml:"max_batch_events"`
	// MaxWarnings is how many warnings the Summary keeps; further ones are only counted.
	MaxWarnings int `yaml:"max_warnings"`
	// MaxMissingListed is how many missing SKUs the Summary lists; all are counted.
	MaxMissingListed int `yaml:"max_missing_listed"`
	// MaxSnapshotOffers is the most offers one full snapshot of one catalog may list
	// (8 bytes each are kept to find the missing ones); past it no missing report is
	// made for that catalog, with a warning.
	MaxSnapshotOffers int `yaml:"max_snapshot_offers"`
}

// Defaults of the Config limits.
const (
	DefaultMaxBatchEvents    = 1000
	DefaultMaxWarnings       = 1000
	DefaultMaxMissingListed  = 1000
	DefaultMaxSnapshotOffers = 20_000_000
)

// DefaultConfig returns a Config for source with the default limits and no mappings.
func DefaultConfig(source string) Config {
	return Config{
		Source:            source,
		Warehouses:        map[string]string{},
		PriceTypes:        map[string]string{},
		Location:          time.UTC,
		MaxBatchEvents:    DefaultMaxBatchEvents,
		MaxWarnings:       DefaultMaxWarnings,
		MaxMissingListed:  DefaultMaxMissingListed,
		MaxSnapshotOffers: DefaultMaxSnapshotOffers,
	}
}

// Validate reports the first unusable field.
func (c Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)
	}
	switch {
	case c.Source == "" || len(c.Source) > MaxSourceBytes:
		return bad("Source must be 1..%d bytes, got %q", MaxSourceBytes, c.Source)
	case len(c.DefaultWarehouse) > reservation.MaxWarehouseBytes:
		return bad("DefaultWarehouse longer than %d bytes", reservation.MaxWarehouseBytes)
	case c.DefaultCurrency != "" && !isCurrency(c.DefaultCurrency):
		return bad("DefaultCurrency %q is not an ISO 4217 code", c.DefaultCurrency)
	case c.MaxBatchEvents < 1, c.MaxWarnings < 1, c.MaxMissingListed < 1, c.MaxSnapshotOffers < 1:
		return bad("MaxBatchEvents, MaxWarnings, MaxMissingListed and MaxSnapshotOffers must be positive")
	}
	for from, to := range c.Warehouses {
		if from == "" || to == "" || len(to) > reservation.MaxWarehouseBytes {
			return bad("Warehouses[%q] = %q: both must be set, the target at most %d bytes", from, to, reservation.MaxWarehouseBytes)
		}
	}
	for from, to := range c.PriceTypes {
		if from == "" || to == "" || len(to) > reservation.MaxIDBytes {
			return bad("PriceTypes[%q] = %q: both must be set, the name at most %d bytes", from, to, reservation.MaxIDBytes)
		}
	}
	return nil
}

// isCurrency reports whether s is three capital letters, the form events carry.
func isCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}
