package feeds

import (
	"errors"
	"testing"

	"stockd/reservation"
)

func TestMoneyFromDecimal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Money
	}{
		{"1234", 123400}, {"1234.5", 123450}, {"1234.50", 123450}, {"0.01", 1},
		{"12.345", 1235}, {"12.344", 1234}, {"12.3449999", 1234}, {"0.005", 1}, {"0.004", 0},
	} {
		d, err := reservation.ParseDecimal(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := MoneyFromDecimal(d)
		if err != nil || got != tc.want {
			t.Errorf("%s: %d %v, want %d", tc.in, got, err, tc.want)
		}
	}
	if _, err := MoneyFromDecimal(reservation.Decimal{Units: -1}); !errors.Is(err, ErrPrice) {
		t.Errorf("negative: %v", err)
	}
	if _, err := MoneyFromDecimal(reservation.Decimal{Units: 999999999999999999}); !errors.Is(err, ErrPrice) {
		t.Errorf("too large: %v", err)
	}
	if _, err := MoneyFromPrice(reservation.Price{Amount: reservation.Decimal{Units: 1}, Currency: "USD"}, "RUB"); !errors.Is(err, ErrPrice) {
		t.Errorf("currency: %v", err)
	}
	if got := Money(123405).String(); got != "1234.05" {
		t.Errorf("String = %q", got)
	}
}
