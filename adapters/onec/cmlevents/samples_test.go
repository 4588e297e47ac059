package cmlevents

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"stockd/reservation"
)

// TestRealSamples imports each real exchange set and checks the events against the
// reader's summary and against facts counted in the raw bytes.
func TestRealSamples(t *testing.T) {
	dir := samplesDir(t)
	read := func(t *testing.T, rel string) []byte {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	count := func(data []byte, s string) int { return bytes.Count(data, []byte(s)) }

	t.Run("cml207-warehouses", func(t *testing.T) {
		offers := read(t, "cml207-warehouses/offers0_1.xml")
		catalog := read(t, "cml207-warehouses/import0_1.xml")
		cfg := DefaultConfig("ut-207")
		cfg.PriceTypes["279b6812-740b-11e8-80c8-0cc47ab29cd1"] = "base"   // BASE, RUB (fact)
		cfg.Warehouses["dd306af1-19c9-11e7-80c2-0cc47ab29cd1"] = "wh-msk" // Москва (fact)
		sink := &recorder{}
		rsum, sum := runImport(t, cfg, NewMemoryStore(0, 1000), sink, importTime,
			filepath.Join(dir, "cml207-warehouses/import0_1.xml"), filepath.Join(dir, "cml207-warehouses/offers0_1.xml"))
		evs := sink.events(t)
		checkSeqs(t, evs, 1)

		stock := ofType(evs, reservation.EventStockSet)
		if got, want := len(stock), rsum.StockCells; got != want {
			t.Errorf("stock.set: got %d, want the reader's %d cells", got, want)
		}
		perWarehouse := map[string]int{}
		for _, ev := range stock {
			perWarehouse[ev.Warehouse]++
		}
		for wh, id := range map[string]string{
			"wh-msk":                               "dd306af1-19c9-11e7-80c2-0cc47ab29cd1",
			"6abdb0b5-18fd-11e7-80c2-0cc47ab29cd1": "6abdb0b5-18fd-11e7-80c2-0cc47ab29cd1",
			"d2a52d49-19c9-11e7-80c2-0cc47ab29cd1": "d2a52d49-19c9-11e7-80c2-0cc47ab29cd1",
		} {
			if got, want := perWarehouse[wh], count(offers, `ИдСклада="`+id+`"`); got != want || got != sum.StockByWarehouse[wh] {
				t.Errorf("stock.set in %s: got %d (summary %d), want %d", wh, got, sum.StockByWarehouse[wh], want)
			}
		}
		if got, want := len(ofType(evs, reservation.EventPriceSet)), count(offers, "<ИдТипаЦены>279b6812"); got != want || got != rsum.Prices {
			t.Errorf("price.set: got %d, want %d (reader %d)", got, want, rsum.Prices)
		}
		deleted := count(catalog, `Статус="Удален"`)
		if got, want := len(ofType(evs, reservation.EventItemUpsert)), rsum.Products-deleted; got != want {
			t.Errorf("item.upsert: got %d, want %d products - %d deleted", got, rsum.Products, deleted)
		}
		if got := len(ofType(evs, reservation.EventItemDelete)); got != deleted || got != sum.Deletes {
			t.Errorf("item.delete: got %d (summary %d), want %d", got, sum.Deletes, deleted)
		}
		// Fact: the first offer has 1 + 0 + 376 over the three warehouses; Москва has 376.
		first := stock[0].SKU
		for _, ev := range stock {
			if ev.SKU == first && ev.Warehouse == "wh-msk" && ev.Qty != 376 {
				t.Errorf("first offer in Москва: %d, want 376", ev.Qty)
			}
		}
		// The file is a full snapshot; nothing was known before, so nothing is missing.
		if sum.FullSnapshots != 1 || sum.MissingCount != 0 {
			t.Errorf("snapshots %d, missing %d; want 1, 0", sum.FullSnapshots, sum.MissingCount)
		}
		// ДатаФормирования="2020-04-07T12:08:44" read in UTC.
		if want := time.Date(2020, 4, 7, 12, 8, 44, 0, time.UTC); !stock[0].At.Equal(want) {
			t.Errorf("at: got %v, want %v", stock[0].At, want)
		}
		if sum.Events != len(evs) || sum.Offers != rsum.Offers {
			t.Errorf("summary events %d offers %d; published %d, reader offers %d", sum.Events, sum.Offers, len(evs), rsum.Offers)
		}
	})

	t.Run("cml31-ut11-bitrix6", func(t *testing.T) {
		rests := read(t, "cml31-ut11-bitrix6/rests.xml")
		prices := read(t, "cml31-ut11-bitrix6/prices.xml")
		offers := read(t, "cml31-ut11-bitrix6/offers.xml")
		cfg := DefaultConfig("ut11")
		cfg.PriceTypes["aef2c177-1862-11de-9d9d-001a4d4b12d9"] = "retail"
		sink := &recorder{}
		names := []string{"classifier.xml", "import.xml", "offers.xml", "prices.xml", "rests.xml"}
		var paths []string
		for _, n := range names {
			paths = append(paths, filepath.Join(dir, "cml31-ut11-bitrix6", n))
		}
		rsum, sum := runImport(t, cfg, NewMemoryStore(100, 1000), sink, importTime, paths...)
		evs := sink.events(t)
		checkSeqs(t, evs, 101)
		stock := ofType(evs, reservation.EventStockSet)
		if got, want := len(stock), count(rests, "<Остаток>"); got != want || got != rsum.StockCells {
			t.Errorf("stock.set: got %d, want %d (reader cells %d)", got, want, rsum.StockCells)
		}
		perWarehouse := map[string]int{}
		for _, ev := range stock {
			perWarehouse[ev.Warehouse]++
			if ev.Qty != 0 {
				t.Fatalf("%+v: every figure in rests.xml is an explicit 0", ev)
			}
		}
		if len(perWarehouse) != 12 {
			t.Errorf("warehouses: got %d, want 12", len(perWarehouse))
		}
		for wh, n := range perWarehouse {
			if want := count(rests, "<Ид>"+wh+"</Ид>"); n != want {
				t.Errorf("stock.set in %s: got %d, want %d", wh, n, want)
			}
		}
		if got, want := len(ofType(evs, reservation.EventPriceSet)), count(prices, "<ИдТипаЦены>aef2c177"); got != want {
			t.Errorf("price.set: got %d, want %d", got, want)
		}
		if got, want := sum.PricesSkipped, rsum.Prices-count(prices, "<ИдТипаЦены>aef2c177"); got != want {
			t.Errorf("prices skipped: got %d, want %d", got, want)
		}
		// Fact: the first price is 2042.66 руб.
		if p := ofType(evs, reservation.EventPriceSet)[0]; p.Price.String() != "2042.66" || p.Currency != "RUB" || p.PriceType != "retail" {
			t.Errorf("first price: %+v", p)
		}
		deleted := count(offers, "<ПометкаУдаления>true</ПометкаУдаления>")
		if got := len(ofType(evs, reservation.EventItemDelete)); got != deleted {
			t.Errorf("item.delete: got %d, want %d", got, deleted)
		}
		if got := len(ofType(evs, reservation.EventItemUpsert)); got != rsum.Products {
			t.Errorf("item.upsert: got %d, want %d", got, rsum.Products)
		}
		if sum.FullSnapshots != 0 {
			t.Errorf("full snapshots %d; every package is СодержитТолькоИзменения=true", sum.FullSnapshots)
		}
	})

	t.Run("cml204-1c-doc", func(t *testing.T) {
		offers := read(t, "cml204-1c-doc/offers.xml")
		paths := []string{filepath.Join(dir, "cml204-1c-doc/import.xml"), filepath.Join(dir, "cml204-1c-doc/offers.xml")}
		totals := count(offers, "<Количество>")
		notTotal := regexp.MustCompile(`<Предложение>`).FindAll(offers, -1)

		cfg := DefaultConfig("doc")
		cfg.DefaultWarehouse = "wh-main"
		cfg.PriceTypes["cbcf493b-55bc-11d9-848a-00112f43529a"] = "retail"    // Розничная, руб
		cfg.PriceTypes["cbcf495d-55bc-11d9-848a-00112f43529a"] = "wholesale" // Оптовая, USD
		sink := &recorder{}
		rsum, sum := runImport(t, cfg, NewMemoryStore(0, 1000), sink, importTime, paths...)
		evs := sink.events(t)
		stock := ofType(evs, reservation.EventStockSet)
		if len(stock) != totals || sum.TotalOnly != totals || sum.StockByWarehouse["wh-main"] != totals {
			t.Errorf("stock.set %d, total-only %d, in wh-main %d; want %d", len(stock), sum.TotalOnly, sum.StockByWarehouse["wh-main"], totals)
		}
		if got, want := sum.NoStock, len(notTotal)-totals; got != want {
			t.Errorf("offers without stock: got %d, want %d", got, want)
		}
		currencies := map[string]int{}
		for _, p := range ofType(evs, reservation.EventPriceSet) {
			currencies[p.Currency]++
		}
		if currencies["RUB"] == 0 || currencies["USD"] == 0 || currencies["RUB"]+currencies["USD"] != rsum.Prices-sum.PricesSkipped {
			t.Errorf("price currencies %v, reader prices %d, skipped %d", currencies, rsum.Prices, sum.PricesSkipped)
		}

		// Without a default warehouse the totals are skipped with a warning each.
		cfg.DefaultWarehouse = ""
		sink = &recorder{}
		_, sum = runImport(t, cfg, NewMemoryStore(0, 1000), sink, importTime, paths...)
		if got := len(ofType(sink.events(t), reservation.EventStockSet)); got != 0 {
			t.Errorf("stock.set without a default warehouse: %d", got)
		}
		warned := 0
		for _, w := range sum.Warnings {
			if w.Code == WarnNoDefaultWarehouse {
				warned++
			}
		}
		if warned != totals {
			t.Errorf("no_default_warehouse warnings: got %d, want %d", warned, totals)
		}
	})
}
