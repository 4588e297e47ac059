package ozon

import (
	"errors"
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// ErrInvalidID means an identifier Ozon would refuse.
var ErrInvalidID = errors.New("ozon: invalid identifier")

// ValidateOfferID checks an offer_id (the seller's article): 1 to
// MaxOfferIDRunes characters of valid UTF-8. The allowed character set is
// UNCONFIRMED (samples carry non-ASCII such as "SK-58（深红色）"), so only
// control characters and surrounding spaces are refused.
func ValidateOfferID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: empty offer_id", ErrInvalidID)
	case !utf8.ValidString(id):
		return fmt.Errorf("%w: offer_id is not UTF-8", ErrInvalidID)
	case utf8.RuneCountInString(id) > MaxOfferIDRunes:
		return fmt.Errorf("%w: offer_id %q is longer than %d characters", ErrInvalidID, id, MaxOfferIDRunes)
	}
	first, _ := utf8.DecodeRuneInString(id)
	last, _ := utf8.DecodeLastRuneInString(id)
	if unicode.IsSpace(first) || unicode.IsSpace(last) {
		return fmt.Errorf("%w: offer_id %q has surrounding spaces", ErrInvalidID, id)
	}
	for _, r := range id {
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: offer_id %q has a control character", ErrInvalidID, id)
		}
	}
	return nil
}

// ParseWarehouseID checks a warehouse_id (from /v2/warehouse/list): a
// positive int64 in decimal.
func ParseWarehouseID(id string) (int64, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%w: warehouse_id %q is not a positive integer", ErrInvalidID, id)
	}
	return n, nil
}
