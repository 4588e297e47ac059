package yandexmarket

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrInvalidID means an identifier Yandex Market would refuse.
var ErrInvalidID = errors.New("yandexmarket: invalid identifier")

// ValidateOfferID checks a SKU (sku, offerId, shopSku) by the current
// rule: 1 to MaxSKURunes characters, at least one that is not a space,
// none of U+0000–U+0008, U+000A–U+001F, U+007F (the pattern
// ^(?=.*\S.*)[^\x00-\x08\x0A-\x1f\x7f]{1,255}$). "КР-7/2" is valid. YM
// trims surrounding spaces and compares SKUs exactly ("557722" is not
// "0557722"), so a SKU with surrounding spaces is refused here too.
func ValidateOfferID(sku string) error {
	switch {
	case !utf8.ValidString(sku):
		return fmt.Errorf("%w: sku is not UTF-8", ErrInvalidID)
	case sku == "" || utf8.RuneCountInString(sku) > MaxSKURunes:
		return fmt.Errorf("%w: sku %q must have 1 to %d characters", ErrInvalidID, sku, MaxSKURunes)
	case strings.TrimSpace(sku) == "":
		return fmt.Errorf("%w: sku %q has no visible character", ErrInvalidID, sku)
	case strings.TrimSpace(sku) != sku:
		return fmt.Errorf("%w: sku %q has surrounding spaces (YM would trim them)", ErrInvalidID, sku)
	}
	for _, r := range sku {
		if (r <= 0x08) || (r >= 0x0A && r <= 0x1F) || r == 0x7F {
			return fmt.Errorf("%w: sku %q has a control character", ErrInvalidID, sku)
		}
	}
	return nil
}

// ValidateLegacyOfferID checks the older SKU rule some cabinets still
// follow: at most 80 characters of Latin or Cyrillic letters, digits and
// . , / \ ( ) [ ] - = _
func ValidateLegacyOfferID(sku string) error {
	if err := ValidateOfferID(sku); err != nil {
		return err
	}
	if utf8.RuneCountInString(sku) > 80 {
		return fmt.Errorf("%w: sku %q is longer than 80 characters", ErrInvalidID, sku)
	}
	for _, r := range sku {
		latinOrCyrillic := unicode.Is(unicode.Latin, r) || unicode.Is(unicode.Cyrillic, r)
		if !(latinOrCyrillic && unicode.IsLetter(r)) && !unicode.IsDigit(r) && !strings.ContainsRune(`.,/\()[]-=_`, r) {
			return fmt.Errorf("%w: sku %q has %q, outside the legacy set", ErrInvalidID, sku, r)
		}
	}
	return nil
}

// ParseWarehouseID parses a partnerWarehouseId (from
// POST /v3/businesses/{businessId}/warehouses): a positive integer.
func ParseWarehouseID(id string) (int64, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%w: partnerWarehouseId %q is not a positive integer", ErrInvalidID, id)
	}
	return n, nil
}
