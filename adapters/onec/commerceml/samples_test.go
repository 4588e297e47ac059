package commerceml

import (
	"bytes"
	"regexp"
	"testing"
)

// TestRealSamples reads every real file in shared/samples/commerceml and checks the
// counts against the raw bytes, counted independently with bytes.Count / a regexp on
// the tags (the reader matches local names; these files use no prefixes). Where a
// figure is a fact read from the file by eye, the comment says so.
func TestRealSamples(t *testing.T) {
	count := func(data []byte, s string) int { return bytes.Count(data, []byte(s)) }
	nonEmptyBarcode := regexp.MustCompile(`<Штрихкод>[^<]`)
	tests := []struct {
		file  string
		check func(t *testing.T, data []byte, it *items, sum Summary)
	}{
		{"cml204-1c-doc/import.xml", func(t *testing.T, data []byte, it *items, sum Summary) {
			want := Summary{Files: 1, Packages: 2, Products: count(data, "<Товар>")}
			assertCounts(t, sum, want)
			// Fact: the 4 products are characteristics "guid#guid" of 2 products.
			if it.Products[0].CharacteristicID == "" {
				t.Errorf("product 0: %+v", it.Products[0])
			}
		}},
		{"cml204-1c-doc/offers.xml", func(t *testing.T, data []byte, it *items, sum Summary) {
			want := Summary{Files: 1, Packages: 1, PriceTypes: count(data, "<ТипЦены>"), Offers: count(data, "<Предложение>"),
				Prices: count(data, "<Цена>"), StockOffers: count(data, "<Количество>"), StockTotals: count(data, "<Количество>")}
			assertCounts(t, sum, want)
		}},
		{"cml207-warehouses/import0_1.xml", func(t *testing.T, data []byte, it *items, sum Summary) {
			want := Summary{Files: 1, Packages: 2, Products: count(data, "<Товар>") + count(data, "<Товар "),
				Deleted: count(data, `Статус="Удален"`)}
			assertCounts(t, sum, want)
			barcodes := 0
			for _, p := range it.Products {
				barcodes += len(p.Barcodes)
				if p.BaseUnit != "796" {
					t.Errorf("product %s: BaseUnit %q, want 796 (Код=\"796 \" trimmed)", p.ID, p.BaseUnit)
				}
			}
			if got, want := barcodes, len(nonEmptyBarcode.FindAll(data, -1)); got != want {
				t.Errorf("barcodes: got %d, want %d", got, want)
			}
		}},
		{"cml207-warehouses/offers0_1.xml", func(t *testing.T, data []byte, it *items, sum Summary) {
			want := Summary{Files: 1, Packages: 2, Warehouses: count(data, "<Склад>"), PriceTypes: count(data, "<ТипЦены>"),
				Offers: count(data, "<Предложение>"), Prices: count(data, "<Цена>"), StockOffers: count(data, "<Предложение>"),
				StockTotals: count(data, "<Количество>"), StockCells: count(data, "<Склад ИдСклада=")}
			assertCounts(t, sum, want)
			// Fact: the first offer has 377 = 1 + 0 + 376, and no offer's total disagrees with its cells.
			if o := it.Offers[0]; o.Stock.Total.String() != "377" || o.Stock.Cells[2].Qty.String() != "376" {
				t.Errorf("first offer: %+v", o.Stock)
			}
		}},
		{"cml31-ut11-bitrix6/classifier.xml", func(t *testing.T, data []byte, it *items, sum Summary) {
			want := Summary{Files: 1, Packages: 2, Warehouses: count(data, "<Склад>"), PriceTypes: count(data, "<ТипЦены>")}
			assertCounts(t, sum, want)
			// Fact: the first price type is "Основная цена" in руб with VAT not included.
			if pt := it.PriceTypes[0]; pt.Name != "Основная цена" || pt.Currency != "RUB" || pt.Tax == nil || pt.Tax.IncludedInSum {
				t.Errorf("first price type: %+v", pt)
			}
		}},
		{"cml31-ut11-bitrix6/import.xml", func(t *testing.T, data []byte, it *items, sum Summary) {
			assertCounts(t, sum, Summary{Files: 1, Packages: 1, Products: count(data, "<Товар>")})
		}},
		{"cml31-ut11-bitrix6/offers.xml", func(t *testing.T, data []byte, it *items, sum Summary) {
			want := Summary{Files: 1, Packages: 1, Offers: count(data, "<Предложение>"),
				Deleted: count(data, "<ПометкаУдаления>true</ПометкаУдаления>")}
			assertCounts(t, sum, want)
			for _, o := range it.Offers {
				if o.CharacteristicID == "" {
					t.Errorf("offer %s: every 3.1 offer is guid#guid", o.ID)
				}
			}
		}},
		{"cml31-ut11-bitrix6/prices.xml", func(t *testing.T, data []byte, it *items, sum Summary) {
			assertCounts(t, sum, Summary{Files: 1, Packages: 1, Offers: count(data, "<Предложение>"), Prices: count(data, "<Цена>")})
			// Fact: the first price is 2042.66 руб ("2 042,66 руб. за шт" in Представление, not parsed).
			if p := it.Offers[0].Prices[0]; p.Value.String() != "2042.66" || p.Currency != "RUB" {
				t.Errorf("first price: %+v", p)
			}
		}},
		{"cml31-ut11-bitrix6/rests.xml", func(t *testing.T, data []byte, it *items, sum Summary) {
			want := Summary{Files: 1, Packages: 1, Offers: count(data, "<Предложение>"), StockOffers: count(data, "<Предложение>"),
				StockCells: count(data, "<Остаток>"), WarningCount: 12}
			assertCounts(t, sum, want)
			for _, o := range it.Offers {
				for _, c := range o.Stock.Cells {
					if !c.Qty.IsZero() {
						t.Fatalf("offer %s: %+v; every figure in this file is an explicit 0", o.ID, c)
					}
				}
			}
		}},
		{"cml31-ut11-bitrix6/documents.xml", func(t *testing.T, data []byte, it *items, sum Summary) {
			assertCounts(t, sum, Summary{Files: 1, Orders: count(data, "<Документ>"), OrderLines: count(data, "<Товар>")})
		}},
		{"orders-cp1251/orders-203.xml", func(t *testing.T, data []byte, it *items, sum Summary) {
			// Fact (file decoded by eye): one order with two lines.
			assertCounts(t, sum, Summary{Files: 1, Orders: 1, OrderLines: 2})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			data := sample(t, tc.file)
			it, sum := mustRead(t, tc.file, data)
			if sum.WarningCount != len(it.Warnings) {
				t.Errorf("summary counts %d warnings, visitor saw %d", sum.WarningCount, len(it.Warnings))
			}
			tc.check(t, data, it, sum)
		})
	}
}

// assertCounts compares the counters of two summaries (warnings compared by count).
func assertCounts(tb testing.TB, got, want Summary) {
	tb.Helper()
	type counts struct {
		Files, Packages, Warehouses, PriceTypes, Products, Offers, Deleted, StockOffers, StockTotals, StockCells,
		Prices, Fractional, Negative, Orders, OrderLines, WarningCount int
	}
	c := func(s Summary) counts {
		return counts{s.Files, s.Packages, s.Warehouses, s.PriceTypes, s.Products, s.Offers, s.Deleted, s.StockOffers,
			s.StockTotals, s.StockCells, s.Prices, s.Fractional, s.Negative, s.Orders, s.OrderLines, s.WarningCount}
	}
	if c(got) != c(want) {
		tb.Errorf("counts:\ngot  %+v\nwant %+v", c(got), c(want))
	}
}
