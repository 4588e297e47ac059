package reservation

import (
	"fmt"
	"time"
)

// Fixed limits of the data model and of the decoders.
const (
	// MaxSKUBytes is the longest SKU: productGUID#characteristicGUID fits.
	MaxSKUBytes = 80
	// MaxWarehouseBytes is the longest 1C warehouse id.
	MaxWarehouseBytes = 80
	// MaxIDBytes bounds hold ids, event ids, sources, channels and price types.
	MaxIDBytes = 128
	// MaxTextBytes bounds catalog texts (article, name, barcode).
	MaxTextBytes = 1024
	// MaxBarcodes bounds the barcodes of one item.
	MaxBarcodes = 64
	// MaxHandoffIDs bounds the reservation ids one stock event may name.
	MaxHandoffIDs = 256
	// MaxEventQty bounds |qty| and |delta| of a stock event, in base units.
	MaxEventQty = 1_000_000_000_000
	// MaxKitComponentQty bounds the units of one component in a kit.
	MaxKitComponentQty = 1_000_000
	// MaxDecodedLines bounds the lines a reserve request body may carry
	// before the ledger applies MaxLinesPerHold.
	MaxDecodedLines = 1000
	// MaxDecodedQty bounds the qty of one decoded request line.
	MaxDecodedQty = 1_000_000_000
	// MaxTTLSeconds bounds ttl_seconds in a request (ten years).
	MaxTTLSeconds = 10 * 366 * 24 * 3600
	// MaxPriceScale bounds the digits after the decimal point of a price.
	MaxPriceScale = 9
	// MaxPriceDigits bounds the significant digits of a price.
	MaxPriceDigits = 18
	// MaxChannels bounds the configured channels.
	MaxChannels = 64
)

// Limits are the ledger's named, configurable bounds. At a limit a command
// returns a LimitError and nothing grows. Zero fields take the default from
// DefaultLimits. Replay (ApplyRecord, Restore) does not apply them: what was
// journaled is reproduced even if the limits shrank since.
type Limits struct {
	// MaxLinesPerHold bounds the lines of one hold.
	MaxLinesPerHold int
	// MaxQtyPerLine bounds the units of one line, in base units.
	MaxQtyPerLine int64
	// MaxHoldsPerSKU bounds the active holds that hold one SKU (a kit line
	// counts against each of its components).
	MaxHoldsPerSKU int
	// MaxActiveHolds bounds the held and confirmed holds in the ledger.
	MaxActiveHolds int
	// MaxRetainedHolds is the replay window for closed holds: the last N holds
	// that were released, expired or handed off are remembered so that an
	// exact replay of their request still returns the original result. The
	// oldest is forgotten first.
	MaxRetainedHolds int
	// MaxKitComponents bounds the components of one kit.
	MaxKitComponents int
	// MaxKitsPerComponent bounds the kits one SKU may be a component of.
	MaxKitsPerComponent int
	// MaxAdjustDedupeIDs is the stock.adjust dedupe window: the ids of the
	// last N applied stock.adjust events are remembered and a repeat within
	// the window is ignored. The oldest id is forgotten first.
	MaxAdjustDedupeIDs int
	// MaxSKUs bounds the interned SKUs.
	MaxSKUs int
	// MaxWarehouses bounds the interned warehouses.
	MaxWarehouses int
	// MaxPriceTypes bounds the interned 1C price types.
	MaxPriceTypes int
	// MaxPartitions bounds the Kafka (topic, partition) offsets kept.
	MaxPartitions int
	// MaxHoldTTL bounds the ttl of a hold or a confirmation.
	MaxHoldTTL time.Duration
}

// DefaultLimits returns the defaults of every limit.
func DefaultLimits() Limits {
	return Limits{
		MaxLinesPerHold:     100,
		MaxQtyPerLine:       100_000,
		MaxHoldsPerSKU:      100_000,
		MaxActiveHolds:      4_000_000,
		MaxRetainedHolds:    200_000,
		MaxKitComponents:    32,
		MaxKitsPerComponent: 1024,
		MaxAdjustDedupeIDs:  1_000_000,
		MaxSKUs:             8_000_000,
		MaxWarehouses:       256,
		MaxPriceTypes:       64,
		MaxPartitions:       4096,
		MaxHoldTTL:          30 * 24 * time.Hour,
	}
}

// withDefaults fills zero fields and rejects negative or oversized ones.
func (lim Limits) withDefaults() (Limits, error) {
	d := DefaultLimits()
	ints := []struct {
		name string
		v    *int
		def  int
		max  int
	}{
		{"MaxLinesPerHold", &lim.MaxLinesPerHold, d.MaxLinesPerHold, 65535},
		{"MaxHoldsPerSKU", &lim.MaxHoldsPerSKU, d.MaxHoldsPerSKU, 1 << 31},
		{"MaxActiveHolds", &lim.MaxActiveHolds, d.MaxActiveHolds, 1 << 30},
		{"MaxRetainedHolds", &lim.MaxRetainedHolds, d.MaxRetainedHolds, 1 << 30},
		{"MaxKitComponents", &lim.MaxKitComponents, d.MaxKitComponents, 4096},
		{"MaxKitsPerComponent", &lim.MaxKitsPerComponent, d.MaxKitsPerComponent, 1 << 20},
		{"MaxAdjustDedupeIDs", &lim.MaxAdjustDedupeIDs, d.MaxAdjustDedupeIDs, 1 << 28},
		{"MaxSKUs", &lim.MaxSKUs, d.MaxSKUs, 1<<32 - 2},
		{"MaxWarehouses", &lim.MaxWarehouses, d.MaxWarehouses, 65535},
		{"MaxPriceTypes", &lim.MaxPriceTypes, d.MaxPriceTypes, 65535},
		{"MaxPartitions", &lim.MaxPartitions, d.MaxPartitions, 1 << 20},
	}
	for _, f := range ints {
		if *f.v < 0 || *f.v > f.max {
			return lim, fmt.Errorf("%w: %s=%d out of range [0, %d]", ErrInvalidConfig, f.name, *f.v, f.max)
		}
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	if lim.MaxQtyPerLine < 0 || lim.MaxQtyPerLine > MaxDecodedQty {
		return lim, fmt.Errorf("%w: MaxQtyPerLine=%d out of range", ErrInvalidConfig, lim.MaxQtyPerLine)
	}
	if lim.MaxQtyPerLine == 0 {
		lim.MaxQtyPerLine = d.MaxQtyPerLine
	}
	if lim.MaxHoldTTL < 0 || lim.MaxHoldTTL > MaxTTLSeconds*time.Second {
		return lim, fmt.Errorf("%w: MaxHoldTTL=%v out of range", ErrInvalidConfig, lim.MaxHoldTTL)
	}
	if lim.MaxHoldTTL == 0 {
		lim.MaxHoldTTL = d.MaxHoldTTL
	}
	return lim, nil
}
