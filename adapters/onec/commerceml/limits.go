package commerceml

import "fmt"

// Limits bound what one read may hold or accept. Every field must be positive.
// Exceeding a Max… value stops the read with ErrLimitExceeded, except the ID lengths,
// which only warn (1C's XSD sets them, but an over-long ID is still a valid key and is
// never truncated), and the tracking limits, which stop the check they serve with one
// warning.
type Limits struct {
	// MaxElementDepth is the deepest element nesting accepted (real files reach ~12).
	MaxElementDepth int
	// MaxTextBytes is the longest stretch of input bytes between two '<' characters:
	// it bounds every text node and tag the tokenizer holds in its buffer, so it bounds
	// the memory one token can take. Measured on the input bytes (a windows-1251 byte
	// may become up to 3 bytes of UTF-8). It is also the most text one element may have
	// (CDATA included), measured as read. Comments, processing instructions and
	// skipped CDATA sections are read without being held, whatever their length.
	MaxTextBytes int
	// MaxItemIDChars is the XSD limit on product and offer Ид (Идентификатор80): 80
	// characters. Longer IDs are kept whole with a warning.
	MaxItemIDChars int
	// MaxRefIDChars is the XSD limit on other Ид (catalog, package, warehouse, price
	// type: 40 characters). Longer IDs are kept whole with a warning.
	MaxRefIDChars int
	// MaxStockCellsPerOffer is the most per-warehouse stock figures one offer may carry.
	MaxStockCellsPerOffer int
	// MaxPricesPerOffer is the most prices one offer may carry.
	MaxPricesPerOffer int
	// MaxBarcodesPerItem is the most barcodes one product or offer may carry.
	MaxBarcodesPerItem int
	// MaxLinesPerOrder is the most lines one order may carry.
	MaxLinesPerOrder int
	// MaxAttributesPerOrder is the most ЗначенияРеквизитов one order may carry.
	MaxAttributesPerOrder int
	// MaxDeclarations is how many declared warehouses and price types a Reader
	// remembers (for currency inheritance and unknown-warehouse warnings).
	MaxDeclarations int
	// MaxTrackedIDs is how many offer and product IDs one file remembers to warn
	// about duplicates (8 bytes each).
	MaxTrackedIDs int
	// MaxWarnings is how many warnings a Summary keeps; further ones are only counted.
	MaxWarnings int
	// MaxFiles is the most files one Import may read.
	MaxFiles int
	// MaxZipEntries is the most entries an imported zip may have.
	MaxZipEntries int
	// MaxZipBytes is the most uncompressed bytes Import reads from one zip, counted
	// as they are read (headers are not trusted).
	MaxZipBytes int64
}

// DefaultLimits returns limits sized for real 1C exchanges of a few million offers.
func DefaultLimits() Limits {
	return Limits{
		MaxElementDepth:       64,
		MaxTextBytes:          4 << 20,
		MaxItemIDChars:        80,
		MaxRefIDChars:         40,
		MaxStockCellsPerOffer: 10_000,
		MaxPricesPerOffer:     1_000,
		MaxBarcodesPerItem:    1_000,
		MaxLinesPerOrder:      100_000,
		MaxAttributesPerOrder: 10_000,
		MaxDeclarations:       100_000,
		MaxTrackedIDs:         8_000_000,
		MaxWarnings:           1_000,
		MaxFiles:              10_000,
		MaxZipEntries:         100_000,
		MaxZipBytes:           16 << 30,
	}
}

func (l Limits) validate() error {
	ints := []struct {
		name  string
		value int
	}{
		{"MaxElementDepth", l.MaxElementDepth},
		{"MaxTextBytes", l.MaxTextBytes},
		{"MaxItemIDChars", l.MaxItemIDChars},
		{"MaxRefIDChars", l.MaxRefIDChars},
		{"MaxStockCellsPerOffer", l.MaxStockCellsPerOffer},
		{"MaxPricesPerOffer", l.MaxPricesPerOffer},
		{"MaxBarcodesPerItem", l.MaxBarcodesPerItem},
		{"MaxLinesPerOrder", l.MaxLinesPerOrder},
		{"MaxAttributesPerOrder", l.MaxAttributesPerOrder},
		{"MaxDeclarations", l.MaxDeclarations},
		{"MaxTrackedIDs", l.MaxTrackedIDs},
		{"MaxWarnings", l.MaxWarnings},
		{"MaxFiles", l.MaxFiles},
		{"MaxZipEntries", l.MaxZipEntries},
	}
	for _, f := range ints {
		if f.value <= 0 {
			return fmt.Errorf("%w: %s must be positive, got %d", ErrInvalidLimits, f.name, f.value)
		}
	}
	if l.MaxZipBytes <= 0 {
		return fmt.Errorf("%w: MaxZipBytes must be positive, got %d", ErrInvalidLimits, l.MaxZipBytes)
	}
	return nil
}
