package commerceml

import "fmt"

// WarningCode classifies a Warning.
type WarningCode string

// Warning codes. A warning never drops data silently: it says what was kept, dropped or
// assumed.
const (
	// WarnIDTooLong: an Ид is longer than MaxItemIDChars/MaxRefIDChars; kept whole.
	WarnIDTooLong WarningCode = "id_too_long"
	// WarnMissingID: a product, offer, price, stock cell or declaration without an ID; dropped.
	WarnMissingID WarningCode = "missing_id"
	// WarnOddID: an offer Ид with more than one '#' or an empty part; kept as written.
	WarnOddID WarningCode = "odd_id"
	// WarnDuplicateItem: an offer or product Ид seen again in the same file; the later values win.
	WarnDuplicateItem WarningCode = "duplicate_item"
	// WarnDuplicateField: a field given twice in one item; the later value wins.
	WarnDuplicateField WarningCode = "duplicate_field"
	// WarnStockMismatch: the total quantity differs from the sum of the warehouse figures.
	WarnStockMismatch WarningCode = "stock_total_mismatch"
	// WarnUnknownWarehouse: a stock cell names a warehouse not declared so far; kept.
	WarnUnknownWarehouse WarningCode = "unknown_warehouse"
	// WarnBadNumber: a quantity or price that is not a number; that figure is dropped.
	WarnBadNumber WarningCode = "bad_number"
	// WarnNonCanonicalNumber: a number with a decimal comma or grouping spaces; normalised.
	WarnNonCanonicalNumber WarningCode = "noncanonical_number"
	// WarnCurrency: a currency that is missing (and not declared by the price type) or not recognised.
	WarnCurrency WarningCode = "currency"
	// WarnPriceFactor: a price per Коэффициент ≠ 1 units; kept unnormalised in Price.Factor.
	WarnPriceFactor WarningCode = "price_factor"
	// WarnEncodingMismatch: windows-1251 declared but the bytes are UTF-8; read as UTF-8.
	WarnEncodingMismatch WarningCode = "encoding_mismatch"
	// WarnBadFlag: a boolean or mode flag with an unreadable value; treated as absent.
	WarnBadFlag WarningCode = "bad_flag"
	// WarnLateHeader: a package header field after the package's first item; ignored.
	WarnLateHeader WarningCode = "late_header"
	// WarnSkippedDocument: a Документ that is not a "Заказ товара"; skipped.
	WarnSkippedDocument WarningCode = "skipped_document"
	// WarnTrackingLimit: MaxTrackedIDs or MaxDeclarations reached; the check it serves stops.
	WarnTrackingLimit WarningCode = "tracking_limit"
	// WarnUnknownFile: Import read a file whose name is not a known exchange file.
	WarnUnknownFile WarningCode = "unknown_file"
	// WarnPackageMismatch: split offers/prices/rests files of one Import name different packages.
	WarnPackageMismatch WarningCode = "package_mismatch"
)

// Warning is a recoverable oddity of the input, with its position.
type Warning struct {
	File    string
	Line    int
	Code    WarningCode
	Message string
}

func (w Warning) String() string {
	return fmt.Sprintf("%s:%d: %s: %s", w.File, w.Line, w.Code, w.Message)
}
