package commerceml

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReader feeds arbitrary bytes to the reader: it must never panic, must return
// either a result or an error, and with small limits it holds bounded memory (every
// token is capped by MaxTextBytes, nesting by MaxElementDepth, per-item slices by their
// Max… limits). Emitted items must keep their invariants.
func FuzzReader(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.xml"))
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(data)
		}
	}
	if orders, err := os.ReadFile(filepath.Join(repoRoot(f), "..", "shared", "samples", "commerceml", "orders-cp1251", "orders-203.xml")); err == nil {
		f.Add(orders)
	}
	f.Add([]byte(`<?xml version="1.0" encoding="windows-1251"?><КоммерческаяИнформация><Документ><ХозОперация>Заказ товара</ХозОперация><Ид>1</Ид></Документ></КоммерческаяИнформация>`))
	f.Add([]byte("\ufeff<КоммерческаяИнформация><Контейнер><Документ/></Контейнер></КоммерческаяИнформация>"))
	f.Add([]byte(`<КоммерческаяИнформация><ИзмененияПакетаПредложений><Предложения><Предложение><Ид>a#b</Ид><Склады ИдСклада="w" КоличествоНаСкладе="1,5"/></Предложение></Предложения></ИзмененияПакетаПредложений></КоммерческаяИнформация>`))
	limits := DefaultLimits()
	limits.MaxElementDepth = 24
	limits.MaxTextBytes = 4 << 10
	limits.MaxStockCellsPerOffer = 64
	limits.MaxPricesPerOffer = 16
	limits.MaxBarcodesPerItem = 16
	limits.MaxLinesPerOrder = 64
	limits.MaxAttributesPerOrder = 64
	limits.MaxTrackedIDs = 1024
	limits.MaxWarnings = 16
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(limits)
		if err != nil {
			t.Fatal(err)
		}
		checkDecimal := func(what string, d Decimal) {
			back, err := ParseDecimal(d.String())
			if err != nil || back.String() != d.String() {
				t.Fatalf("%s %q does not round-trip: %v", what, d, err)
			}
		}
		offers := 0
		sum, err := r.Read(context.Background(), "fuzz.xml", bytes.NewReader(data), VisitorFuncs{
			OnOffer: func(_ context.Context, o Offer) error {
				offers++
				if o.ID == "" || len(o.Stock.Cells) > limits.MaxStockCellsPerOffer || len(o.Prices) > limits.MaxPricesPerOffer {
					t.Fatalf("offer breaks invariants: %+v", o)
				}
				for _, c := range o.Stock.Cells {
					if c.WarehouseID == "" {
						t.Fatalf("cell without warehouse: %+v", o)
					}
					checkDecimal("qty", c.Qty)
				}
				for _, p := range o.Prices {
					if p.PriceTypeID == "" {
						t.Fatalf("price without type: %+v", o)
					}
					checkDecimal("price", p.Value)
				}
				if o.Stock.HasTotal {
					checkDecimal("total", o.Stock.Total)
				}
				return nil
			},
			OnOrder: func(_ context.Context, o Order) error {
				if o.ID == "" || o.Operation != OrderOperation || len(o.Lines) > limits.MaxLinesPerOrder {
					t.Fatalf("order breaks invariants: %+v", o)
				}
				return nil
			},
		})
		if sum.Offers != offers {
			t.Fatalf("summary counts %d offers, visited %d", sum.Offers, offers)
		}
		if len(sum.Warnings) > limits.MaxWarnings {
			t.Fatalf("%d warnings kept, limit %d", len(sum.Warnings), limits.MaxWarnings)
		}
		_ = err
	})
}
