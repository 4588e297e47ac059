package wildberries

import (
	"errors"
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// ErrInvalidID means an identifier Wildberries would refuse.
var ErrInvalidID = errors.New("wildberries: invalid identifier")

func positive(kind, id string) (int64, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%w: %s %q is not a positive integer", ErrInvalidID, kind, id)
	}
	// Wildberries answers with the plain number: an id written "0123" or
	// "+123" would never match its verdicts and read-backs
	if plain := strconv.FormatInt(n, 10); plain != id {
		return 0, fmt.Errorf("%w: %s %q: write it as %s", ErrInvalidID, kind, id, plain)
	}
	return n, nil
}

// ValidateOfferID checks the offer key of a stock update: a chrtId (size
// id), a positive integer.
func ValidateOfferID(id string) error {
	_, err := ParseChrtID(id)
	return err
}

// ParseChrtID parses a chrtId.
func ParseChrtID(id string) (int64, error) { return positive("chrtId", id) }

// ParseNmID parses an nmID (the WB article a price is keyed by).
func ParseNmID(id string) (int64, error) { return positive("nmID", id) }

// ParseWarehouseID parses a seller warehouseId (from GET /api/v3/warehouses).
func ParseWarehouseID(id string) (int64, error) { return positive("warehouseId", id) }

// ValidateVendorCode checks a seller article as card upload takes it: 1 to
// MaxVendorCodeRunes characters, no control characters. The allowed set is
// UNCONFIRMED (a reported refusal of "/" as in "КР-7/2" is not in the
// spec), so "/" is accepted here; stock and price calls do not use it.
func ValidateVendorCode(code string) error {
	switch {
	case code == "" || !utf8.ValidString(code):
		return fmt.Errorf("%w: vendorCode %q is empty or not UTF-8", ErrInvalidID, code)
	case utf8.RuneCountInString(code) > MaxVendorCodeRunes:
		return fmt.Errorf("%w: vendorCode %q is longer than %d characters", ErrInvalidID, code, MaxVendorCodeRunes)
	}
	for _, r := range code {
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: vendorCode %q has a control character", ErrInvalidID, code)
		}
	}
	return nil
}
