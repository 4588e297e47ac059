package commerceml

// Tests named TestCaseNN cover test case NN of shared/reference/commerceml.md §7.
//
// Cases that do not apply to this reader, and why:
//   - 31 (snapshot → "missing" SKUs): the reader reports Package.Mode; deciding which SKUs
//     a full snapshot implies are missing needs the ledger's state and belongs to the ingest.
//     TestCase31 checks the part that does apply (the mode is reported).
//   - 35, 36, 37, 39, 40: the HTTP exchange protocol (checkauth, init, chunked upload,
//     progress, response encoding) belongs to the exchange handler, not to the file reader.
//   - 38: only the archive part applies (zip reading with sanitised paths and limits),
//     covered by TestCase38; chunking and the protocol do not.
//   - 41: only the document part applies (the orders document, with or without Контейнер,
//     that mode=query returns), covered by TestCase41; marking orders exported does not.

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

func TestCase01_UTF8WithBOM(t *testing.T) {
	data := sample(t, "cml31-ut11-bitrix6/offers.xml")
	if !bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}) {
		t.Fatal("sample lost its BOM; the test would not test case 1")
	}
	it, _ := mustRead(t, "offers.xml", data)
	if got, want := len(it.Offers), bytes.Count(data, []byte("<Предложение>")); got != want {
		t.Errorf("offers: got %d, want %d", got, want)
	}
}

func TestCase02_UTF8WithoutBOM(t *testing.T) {
	data := sample(t, "cml204-1c-doc/offers.xml")
	if bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}) {
		t.Fatal("sample has a BOM; the test would not test case 2")
	}
	it, _ := mustRead(t, "offers.xml", data)
	if got, want := it.Offers[0].Name, "Стол обеденный"; got != want {
		t.Errorf("name: got %q, want %q", got, want)
	}
}

func TestCase03_Windows1251(t *testing.T) {
	data := sample(t, "orders-cp1251/orders-203.xml")
	if utf8.Valid(data) {
		t.Fatal("sample is valid UTF-8; the test would not test case 3")
	}
	it, _ := mustRead(t, "orders-203.xml", data)
	if len(it.Orders) != 1 {
		t.Fatalf("orders: got %d, want 1", len(it.Orders))
	}
	o := it.Orders[0]
	if got, want := o.Counterparty.Name, "Петр Петров"; got != want {
		t.Errorf("counterparty: got %q, want %q", got, want)
	}
	if got, want := o.Lines[1].Name, "Комбайн MOULINEX A77 4C"; got != want {
		t.Errorf("line name: got %q, want %q", got, want)
	}
	if n := len(it.warningsWith(WarnEncodingMismatch)); n != 0 {
		t.Errorf("real windows-1251 bytes were taken for UTF-8 (%d warnings)", n)
	}
}

func TestCase04_DeclaredWindows1251ButUTF8(t *testing.T) {
	data := bytes.Replace(testdata(t, "layout-a.xml"), []byte(`encoding="UTF-8"`), []byte(`encoding="windows-1251"`), 1)
	it, _ := mustRead(t, "mislabelled.xml", data)
	if got, want := it.Offers[0].Name, "Кружка, синяя"; got != want {
		t.Errorf("name: got %q, want %q (double-decoded?)", got, want)
	}
	if n := len(it.warningsWith(WarnEncodingMismatch)); n != 1 {
		t.Errorf("encoding_mismatch warnings: got %d, want 1", n)
	}
}

func TestCase05_InvalidUTF8(t *testing.T) {
	good := testdata(t, "layout-a.xml")
	bad := bytes.Replace(good, []byte("Кружка"), []byte("Кру\xffка"), 1)
	wantLine := bytes.Count(good[:bytes.Index(good, []byte("Кружка"))], []byte("\n")) + 1
	var first string
	for run := 0; run < 2; run++ {
		_, _, err := readWith(t, newTestReader(t), "bad.xml", bad)
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("run %d: got %v, want ErrMalformed", run, err)
		}
		var pe *ParseError
		if !errors.As(err, &pe) || pe.File != "bad.xml" || pe.Line != wantLine || pe.Offset <= 0 {
			t.Fatalf("run %d: got %#v, want a ParseError at bad.xml:%d with an offset", run, pe, wantLine)
		}
		var syn *xml.SyntaxError
		if !errors.As(err, &syn) || !strings.Contains(syn.Msg, "UTF-8") {
			t.Errorf("run %d: got %v, want an xml.SyntaxError about UTF-8", run, err)
		}
		if run == 0 {
			first = err.Error()
		} else if err.Error() != first {
			t.Errorf("not deterministic: %q then %q", first, err.Error())
		}
	}
	// windows-1251 bytes under a UTF-8 declaration fail the same way.
	cp := sample(t, "orders-cp1251/orders-203.xml")
	cp = bytes.Replace(cp, []byte(`encoding="windows-1251"`), []byte(`encoding="UTF-8"`), 1)
	if _, _, err := readWith(t, newTestReader(t), "cp.xml", cp); !errors.Is(err, ErrMalformed) {
		t.Errorf("cp1251 declared UTF-8: got %v, want ErrMalformed", err)
	}
}

func TestCase06_Namespaces(t *testing.T) {
	body := `<Предложение><Ид>p1#c1</Ид><Наименование>Товар</Наименование>
		<Цены><Цена><ИдТипаЦены>t1</ИдТипаЦены><ЦенаЗаЕдиницу>10.50</ЦенаЗаЕдиницу><Валюта>RUB</Валюта></Цена></Цены>
		<Количество>3</Количество><Склад ИдСклада="w1" КоличествоНаСкладе="3"/></Предложение>`
	variants := map[string][]byte{
		"none":           offersDoc(``, ``, body),
		"commerceml_2":   offersDoc(` xmlns="urn:1C.ru:commerceml_2"`, ``, body),
		"commerceml_210": offersDoc(` xmlns="urn:1C.ru:commerceml_210"`, ``, body),
		"commerceml_3":   bytes.Replace(offersDoc(` xmlns="urn:1C.ru:commerceml_3"`, ``, body), []byte(`"2.08"`), []byte(`"3.1"`), 1),
	}
	prefixed := strings.NewReplacer("</", "</cml:", "<?", "<?", "<", "<cml:").Replace(string(offersDoc(``, ``, body)))
	prefixed = strings.Replace(prefixed, "<cml:КоммерческаяИнформация", `<cml:КоммерческаяИнформация xmlns:cml="urn:1C.ru:commerceml_2"`, 1)
	variants["prefixed"] = []byte(prefixed)
	want, _ := mustRead(t, "none", variants["none"])
	for name, data := range variants {
		got, _ := mustRead(t, name, data)
		if fmt.Sprint(got.Offers) != fmt.Sprint(want.Offers) {
			t.Errorf("%s: got %+v, want %+v", name, got.Offers, want.Offers)
		}
	}
}

func TestCase07_ElementOrder(t *testing.T) {
	// 2.09 real files put ПакетПредложений before Классификатор; Артикул may follow БазоваяЕдиница.
	doc := `<КоммерческаяИнформация ВерсияСхемы="2.09" ДатаФормирования="2019-01-01T00:00:00">
		<ПакетПредложений><Ид>cat#</Ид><Предложения><Предложение>
			<Наименование>Т</Наименование><БазоваяЕдиница Код="796 ">шт</БазоваяЕдиница><Артикул>ART-7</Артикул><Ид>p7</Ид>
			<Количество>1</Количество>
		</Предложение></Предложения></ПакетПредложений>
		<Классификатор><Ид>cls</Ид><Склады><Склад><Ид>w1</Ид><Наименование>Склад</Наименование></Склад></Склады></Классификатор>
	</КоммерческаяИнформация>`
	it, _ := mustRead(t, "order.xml", []byte(doc))
	if len(it.Offers) != 1 || it.Offers[0].ID != "p7" || it.Offers[0].Article != "ART-7" || it.Offers[0].BaseUnit != "796" {
		t.Fatalf("got %+v", it.Offers)
	}
	if len(it.Warehouses) != 1 || len(it.Packages) != 2 || it.Packages[1].Kind != KindClassifier {
		t.Errorf("classifier after offers: got %+v / %+v", it.Warehouses, it.Packages)
	}
}

func TestCase08_DatesAndRootID(t *testing.T) {
	for _, date := range []string{"2014-06-01T0:36:33", "2008-03-28", "2014-11-25T8:00:00", ""} {
		doc := `<КоммерческаяИнформация ВерсияСхемы="2.05" ДатаФормирования="` + date + `" Ид="">
			<ПакетПредложений><Ид>cat#</Ид><Предложения><Предложение><Ид>p</Ид></Предложение></Предложения></ПакетПредложений>
		</КоммерческаяИнформация>`
		it, _ := mustRead(t, "dates.xml", []byte(doc))
		if got := it.Packages[0].GeneratedAt; got != date {
			t.Errorf("GeneratedAt: got %q, want %q", got, date)
		}
	}
}

// TestCase09_Streaming shows that offers are visited while the file is still being
// produced: the reader holds no document tree. (Flat memory on a 1M-offer file is
// measured by BenchmarkOffers1M.)
func TestCase09_Streaming(t *testing.T) {
	const offers = 20_000
	pr, pw := io.Pipe()
	written := make(chan int, offers)
	go func() {
		err := writeOffersFile(pw, offers, func(i int) { written <- i })
		_ = pw.CloseWithError(err)
	}()
	r := newTestReader(t)
	visited, producedAtFirst := 0, -1
	sum, err := r.Read(context.Background(), "pipe.xml", pr, VisitorFuncs{OnOffer: func(context.Context, Offer) error {
		if visited == 0 {
			producedAtFirst = len(written)
		}
		visited++
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if visited != offers || sum.Offers != offers {
		t.Fatalf("visited %d (summary %d), want %d", visited, sum.Offers, offers)
	}
	if producedAtFirst >= offers/2 {
		t.Errorf("first offer visited only after %d of %d offers were produced; not streaming", producedAtFirst, offers)
	}
}

func TestCase10_OfferIDSplit(t *testing.T) {
	data := sample(t, "cml31-ut11-bitrix6/rests.xml")
	it, _ := mustRead(t, "rests.xml", data)
	if got, want := it.Packages[0].ID, "3471fae0-92bc-47f5-8234-db142906215a#"; got != want {
		t.Errorf("package ID: got %q, want %q", got, want)
	}
	o := it.Offers[0]
	if got, want := o.ID, "235ccc6d-ab81-11e4-944a-00155d020201#a5abd77f-93f6-11e5-9468-00155d020201"; got != want {
		t.Fatalf("ID: got %q, want %q", got, want)
	}
	if o.ProductID != "235ccc6d-ab81-11e4-944a-00155d020201" || o.CharacteristicID != "a5abd77f-93f6-11e5-9468-00155d020201" {
		t.Errorf("split: got %q / %q", o.ProductID, o.CharacteristicID)
	}
	if got, want := len(it.Offers), bytes.Count(data, []byte("<Предложение>")); got != want {
		t.Errorf("the package Ид was taken for an offer? offers: got %d, want %d", got, want)
	}
}

func TestCase11_SimpleIDAndOrphanVariants(t *testing.T) {
	// A simple product, and variants whose parent offer is not in the file (module ≥ 5.0.6).
	it, _ := mustRead(t, "orphans.xml", offersDoc(``, ``,
		`<Предложение><Ид>simple</Ид></Предложение>
		 <Предложение><Ид>parent#v1</Ид></Предложение><Предложение><Ид>parent#v2</Ид></Предложение>`))
	if len(it.Offers) != 3 {
		t.Fatalf("offers: got %d, want 3", len(it.Offers))
	}
	if o := it.Offers[0]; o.ProductID != "simple" || o.CharacteristicID != "" {
		t.Errorf("simple: got %q / %q", o.ProductID, o.CharacteristicID)
	}
	if o := it.Offers[2]; o.ProductID != "parent" || o.CharacteristicID != "v2" {
		t.Errorf("variant: got %q / %q", o.ProductID, o.CharacteristicID)
	}
	if len(it.Warnings) != 0 {
		t.Errorf("warnings: %v", it.Warnings)
	}
}

func TestCase12_IDLength(t *testing.T) {
	id80 := strings.Repeat("a", 36) + "#" + strings.Repeat("b", 43)
	id81 := id80 + "c"
	wh41 := strings.Repeat("w", 41)
	it, _ := mustRead(t, "ids.xml", offersDoc(``, ``,
		`<Предложение><Ид>`+id80+`</Ид></Предложение>
		 <Предложение><Ид>`+id81+`</Ид><Склад ИдСклада="`+wh41+`" КоличествоНаСкладе="1"/></Предложение>`))
	if got := it.offer(t, id81).ID; got != id81 {
		t.Errorf("long ID truncated: got %q", got)
	}
	long := fmt.Sprint(it.warningsWith(WarnIDTooLong))
	if n := len(it.warningsWith(WarnIDTooLong)); n != 2 || !strings.Contains(long, `"`+id81+`"`) || !strings.Contains(long, `"`+wh41+`"`) {
		t.Errorf("id_too_long warnings: got %v, want one for the 81-char offer and one for the 41-char warehouse", long)
	}
}

func TestCase13_SameArticleOnTwoCharacteristics(t *testing.T) {
	it, _ := mustRead(t, "article.xml", offersDoc(``, ``,
		`<Предложение><Ид>p#c1</Ид><Артикул>Б-130001</Артикул><Количество>1</Количество></Предложение>
		 <Предложение><Ид>p#c2</Ид><Артикул>Б-130001</Артикул><Количество>2</Количество></Предложение>`))
	if len(it.Offers) != 2 || it.offer(t, "p#c1").Stock.Total.String() != "1" || it.offer(t, "p#c2").Stock.Total.String() != "2" {
		t.Errorf("got %+v", it.Offers)
	}
	if len(it.Warnings) != 0 {
		t.Errorf("a shared Артикул is not a duplicate: %v", it.Warnings)
	}
}

func TestCase14_Duplicates(t *testing.T) {
	t.Run("same offer twice in one file", func(t *testing.T) {
		it, _ := mustRead(t, "dup.xml", offersDoc(``, ``,
			`<Предложение><Ид>p1</Ид><Количество>1</Количество></Предложение>
			 <Предложение><Ид>p1</Ид><Количество>4</Количество></Предложение>`))
		if got := it.offer(t, "p1").Stock.Total.String(); got != "4" {
			t.Errorf("last visit: got %s, want 4", got)
		}
		if n := len(it.warningsWith(WarnDuplicateItem)); n != 1 {
			t.Errorf("duplicate_item warnings: got %d, want 1", n)
		}
	})
	t.Run("same field twice in one offer", func(t *testing.T) {
		it, _ := mustRead(t, "dupfield.xml", offersDoc(``, ``,
			`<Предложение><Ид>p1</Ид><Наименование>old</Наименование><Наименование>new</Наименование>
			 <Количество>1</Количество><Количество>2</Количество>
			 <Цены><Цена><ИдТипаЦены>t</ИдТипаЦены><ЦенаЗаЕдиницу>1</ЦенаЗаЕдиницу><Валюта>RUB</Валюта></Цена>
			       <Цена><ИдТипаЦены>t</ИдТипаЦены><ЦенаЗаЕдиницу>2</ЦенаЗаЕдиницу><Валюта>RUB</Валюта></Цена></Цены>
			 <Склад ИдСклада="w" КоличествоНаСкладе="1"/><Склад ИдСклада="w" КоличествоНаСкладе="2"/></Предложение>`))
		o := it.offer(t, "p1")
		if o.Name != "new" || o.Stock.Total.String() != "2" || len(o.Prices) != 1 || o.Prices[0].Value.String() != "2" ||
			len(o.Stock.Cells) != 1 || o.Stock.Cells[0].Qty.String() != "2" {
			t.Errorf("last value should win: got %+v", o)
		}
		if n := len(it.warningsWith(WarnDuplicateField)); n != 4 {
			t.Errorf("duplicate_field warnings: got %d, want 4: %v", n, it.Warnings)
		}
	})
	t.Run("across split files is a merge, not a duplicate", func(t *testing.T) {
		r := newTestReader(t)
		for _, f := range []string{"offers.xml", "prices.xml", "rests.xml"} {
			it, _, err := readWith(t, r, f, sample(t, "cml31-ut11-bitrix6/"+f))
			if err != nil {
				t.Fatal(err)
			}
			if n := len(it.warningsWith(WarnDuplicateItem)); n != 0 {
				t.Errorf("%s: duplicate_item warnings: got %d, want 0", f, n)
			}
		}
	})
}

func TestCase15_LayoutA(t *testing.T) {
	it, sum := mustRead(t, "layout-a.xml", testdata(t, "layout-a.xml"))
	o := it.offer(t, "0a000000-0000-4000-8000-000000000101#0a000000-0000-4000-8000-000000000201")
	if !o.Stock.HasTotal || o.Stock.Total.String() != "377" || len(o.Stock.Cells) != 0 || o.Stock.Layouts != LayoutA {
		t.Errorf("got %+v", o.Stock)
	}
	if sum.StockTotals != 3 || sum.StockCells != 0 || sum.StockOffers != 3 || sum.Offers != 4 {
		t.Errorf("summary: %+v", sum)
	}
}

func TestCase16_LayoutBWithTotal(t *testing.T) {
	it, sum := mustRead(t, "layout-b.xml", testdata(t, "layout-b.xml"))
	o := it.offer(t, "0b000000-0000-4000-8000-000000000101")
	want := []StockCell{
		{WarehouseID: "0b000000-0000-4000-8000-0000000000w1", Qty: dec(t, "1")},
		{WarehouseID: "0b000000-0000-4000-8000-0000000000w2", Qty: dec(t, "0")},
		{WarehouseID: "0b000000-0000-4000-8000-0000000000w3", Qty: dec(t, "376")},
	}
	if fmt.Sprint(o.Stock.Cells) != fmt.Sprint(want) || o.Stock.Total.String() != "377" || o.Stock.Layouts != LayoutA|LayoutB {
		t.Errorf("got %+v", o.Stock)
	}
	mismatch := it.warningsWith(WarnStockMismatch)
	if len(mismatch) != 1 || !strings.Contains(mismatch[0].Message, "000000000103") {
		t.Errorf("stock_total_mismatch: got %v, want one for offer …103 (10 ≠ -1+4)", mismatch)
	}
	if sum.StockCells != 3+3+2+1 || sum.Warehouses != 3 {
		t.Errorf("summary: %+v", sum)
	}
	if n := len(it.warningsWith(WarnUnknownWarehouse)); n != 0 {
		t.Errorf("warehouses are declared in the same file: %v", it.Warnings)
	}
}

func TestCase17_LayoutBPrimeEmptyIsZero(t *testing.T) {
	// Decision: 1C formats zero as an empty string, so КоличествоНаСкладе="" is 0.
	it, _ := mustRead(t, "layout-b.xml", testdata(t, "layout-b.xml"))
	o := it.offer(t, "0b000000-0000-4000-8000-000000000102")
	if len(o.Stock.Cells) != 3 {
		t.Fatalf("cells: got %+v", o.Stock.Cells)
	}
	for _, i := range []int{0, 2} {
		if c := o.Stock.Cells[i]; !c.Qty.IsZero() || c.Qty.String() != "0" {
			t.Errorf("cell %d: got %q, want 0", i, c.Qty)
		}
	}
	if len(it.warningsWith(WarnStockMismatch)) != 1 {
		t.Errorf("5 = 0+5+0 must not warn: %v", it.Warnings)
	}
}

func TestCase18_LayoutC(t *testing.T) {
	it, sum := mustRead(t, "layout-c.xml", testdata(t, "layout-c.xml"))
	o := it.Offers[0]
	if o.Stock.Layouts != LayoutC || o.Stock.HasTotal || len(o.Stock.Cells) != 3 || o.Stock.Cells[1].Qty.String() != "12" {
		t.Errorf("got %+v", o.Stock)
	}
	if zero := it.Offers[1]; !zero.Stock.Known() || zero.Stock.Cells[2].Qty.String() != "0" {
		t.Errorf("explicit zeros are stock information: got %+v", zero.Stock)
	}
	if sum.StockCells != 6 {
		t.Errorf("cells: got %d, want 6", sum.StockCells)
	}
	// The real 3.1 rests: 12 warehouses per offer, all explicit zeros.
	data := sample(t, "cml31-ut11-bitrix6/rests.xml")
	real, rsum := mustRead(t, "rests.xml", data)
	for _, o := range real.Offers {
		if len(o.Stock.Cells) != 12 || o.Stock.Layouts != LayoutC {
			t.Fatalf("offer %s: got %d cells, layouts %s", o.ID, len(o.Stock.Cells), o.Stock.Layouts)
		}
	}
	if got, want := rsum.StockCells, bytes.Count(data, []byte("<Количество>0</Количество>")); got != want {
		t.Errorf("real rests cells: got %d, want %d", got, want)
	}
}

func TestCase19_LayoutD(t *testing.T) {
	it, sum := mustRead(t, "layout-d.xml", testdata(t, "layout-d.xml"))
	o := it.Offers[0]
	if o.Stock.Layouts != LayoutD || !o.Stock.HasTotal || o.Stock.Total.String() != "765" || len(o.Stock.Cells) != 0 {
		t.Errorf("got %+v", o.Stock)
	}
	if sum.StockTotals != 3 || sum.StockCells != 0 {
		t.Errorf("summary: %+v", sum)
	}
}

func TestCase20_LayoutE(t *testing.T) {
	it, _ := mustRead(t, "layout-e.xml", testdata(t, "layout-e.xml"))
	if it.Packages[0].Kind != KindOfferChanges || it.Packages[0].Mode != ModeChangesOnly {
		t.Errorf("package: %+v", it.Packages[0])
	}
	// ИдХарактеристики joins the Ид to form the SKU.
	o := it.offer(t, "0e000000-0000-4000-8000-000000000101#0e000000-0000-4000-8000-000000000201")
	if o.CharacteristicID != "0e000000-0000-4000-8000-000000000201" || o.Stock.Layouts != LayoutA|LayoutE ||
		len(o.Stock.Cells) != 2 || o.Stock.Cells[0].Qty.String() != "5" {
		t.Errorf("got %+v", o)
	}
	if len(o.Prices) != 1 || o.Prices[0].Currency != "RUB" || o.Prices[0].Value.String() != "2042.66" {
		t.Errorf("prices: %+v", o.Prices)
	}
}

func TestCase21_LayoutF(t *testing.T) {
	it, _ := mustRead(t, "layout-f.xml", testdata(t, "layout-f.xml"))
	o := it.Offers[0]
	want := []StockCell{
		{WarehouseID: "0f000000-0000-4000-8000-0000000000w1", Qty: dec(t, "3")},
		{WarehouseID: "0f000000-0000-4000-8000-0000000000w2", Qty: dec(t, "0.25")},
	}
	if fmt.Sprint(o.Stock.Cells) != fmt.Sprint(want) || o.Stock.Layouts != LayoutF {
		t.Errorf("got %+v, want %+v", o.Stock, want)
	}
}

func TestCase22_NegativeKeptRaw(t *testing.T) {
	it, sum := mustRead(t, "layout-d.xml", testdata(t, "layout-d.xml"))
	o := it.offer(t, "0d000000-0000-4000-8000-000000000102")
	if got := o.Stock.Total.String(); got != "-1" || !o.Stock.Total.IsNegative() {
		t.Errorf("total: got %q, want -1", got)
	}
	if sum.Negative != 1 {
		t.Errorf("Negative: got %d, want 1", sum.Negative)
	}
}

func TestCase23_FractionalQuantities(t *testing.T) {
	it, sum := mustRead(t, "layout-a.xml", testdata(t, "layout-a.xml"))
	half := it.offer(t, "0a000000-0000-4000-8000-000000000102").Stock.Total
	if half.String() != "0.5" || half.IsInteger() {
		t.Errorf("got %q", half)
	}
	if floor, err := half.Floor(); err != nil || floor != 0 {
		t.Errorf("Floor: got %d, %v", floor, err)
	}
	if sum.Fractional != 1 {
		t.Errorf("Fractional: got %d, want 1", sum.Fractional)
	}
	c, _ := mustRead(t, "layout-c.xml", testdata(t, "layout-c.xml"))
	if q := c.Offers[0].Stock.Cells[2].Qty; q.String() != "1.0000" || !q.IsInteger() {
		t.Errorf(`"1.0000": got %q integer=%v`, q, q.IsInteger())
	}
}

func TestCase24_MissingStockIsNoInformation(t *testing.T) {
	it, _ := mustRead(t, "layout-a.xml", testdata(t, "layout-a.xml"))
	if st := it.offer(t, "0a000000-0000-4000-8000-000000000103").Stock; st.Known() || st.Layouts != 0 {
		t.Errorf("offer without stock element: got %+v, want no information", st)
	}
	if st := it.offer(t, "0a000000-0000-4000-8000-000000000104").Stock; !st.Known() || !st.Total.IsZero() {
		t.Errorf("explicit 0: got %+v, want a known zero", st)
	}
	// Real split files: offers and prices carry no stock at all.
	for _, f := range []string{"offers.xml", "prices.xml"} {
		_, sum := mustRead(t, f, sample(t, "cml31-ut11-bitrix6/"+f))
		if sum.StockOffers != 0 {
			t.Errorf("%s: %d offers with stock, want 0", f, sum.StockOffers)
		}
	}
}

func TestCase25_UnknownWarehouse(t *testing.T) {
	rests := sample(t, "cml31-ut11-bitrix6/rests.xml")
	alone, _ := mustRead(t, "rests.xml", rests)
	if got := len(alone.warningsWith(WarnUnknownWarehouse)); got != 12 {
		t.Errorf("rests alone: got %d unknown_warehouse warnings, want one per warehouse (12)", got)
	}
	if len(alone.Offers[0].Stock.Cells) != 12 {
		t.Error("cells of unknown warehouses must be kept")
	}
	r := newTestReader(t)
	if _, _, err := readWith(t, r, "classifier.xml", sample(t, "cml31-ut11-bitrix6/classifier.xml")); err != nil {
		t.Fatal(err)
	}
	after, _, err := readWith(t, r, "rests.xml", rests)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(after.warningsWith(WarnUnknownWarehouse)); n != 0 {
		t.Errorf("after classifier.xml declared them: got %d unknown_warehouse warnings", n)
	}
}

func TestCase26_SeveralPriceTypes(t *testing.T) {
	it, _ := mustRead(t, "offers.xml", sample(t, "cml204-1c-doc/offers.xml"))
	byType := map[string]Price{}
	for _, p := range it.Offers[0].Prices {
		byType[p.PriceTypeID] = p
	}
	// Розничная (cbcf493b…) is 7 руб; it is the third price in the file, not the first.
	retail := byType["cbcf493b-55bc-11d9-848a-00112f43529a"]
	if len(byType) != 4 || retail.Value.String() != "7" || retail.Currency != "RUB" || retail.CurrencyRaw != "руб" {
		t.Errorf("got %+v", it.Offers[0].Prices)
	}
	if wholesale := byType["cbcf495d-55bc-11d9-848a-00112f43529a"]; wholesale.Currency != "USD" || wholesale.Value.String() != "5" {
		t.Errorf("wholesale: %+v", wholesale)
	}
}

func TestCase27_CurrencyInheritedAndNormalised(t *testing.T) {
	it, _ := mustRead(t, "layout-a.xml", testdata(t, "layout-a.xml"))
	inherited := it.offer(t, "0a000000-0000-4000-8000-000000000102").Prices[0]
	if inherited.Currency != "RUB" || inherited.CurrencyRaw != "" {
		t.Errorf("inherited from ТипЦены (руб): got %+v", inherited)
	}
	for raw, want := range map[string]string{"руб": "RUB", "руб.": "RUB", "RUB": "RUB", "BYR": "BYR", "грн": "UAH", "USD": "USD", " usd ": "USD", "kgs": "KGS"} {
		if got, known := normalizeCurrency(raw); got != want || !known {
			t.Errorf("normalizeCurrency(%q): got %q %v, want %q", raw, got, known, want)
		}
	}
	unknown, _ := mustRead(t, "cur.xml", offersDoc(``, ``,
		`<Предложение><Ид>p</Ид><Цены><Цена><ИдТипаЦены>undeclared</ИдТипаЦены><ЦенаЗаЕдиницу>1</ЦенаЗаЕдиницу></Цена>
		 <Цена><ИдТипаЦены>t2</ИдТипаЦены><ЦенаЗаЕдиницу>1</ЦенаЗаЕдиницу><Валюта>у.е.</Валюта></Цена></Цены></Предложение>`))
	if n := len(unknown.warningsWith(WarnCurrency)); n != 2 {
		t.Errorf("currency warnings: got %d, want 2 (missing, unrecognised)", n)
	}
}

func TestCase28_PriceFactor(t *testing.T) {
	it, _ := mustRead(t, "factor.xml", offersDoc(``, ``,
		`<Предложение><Ид>p</Ид><Цены><Цена><ИдТипаЦены>t</ИдТипаЦены><ЦенаЗаЕдиницу>990</ЦенаЗаЕдиницу>
		 <Валюта>RUB</Валюта><Единица>упак</Единица><Коэффициент>10</Коэффициент></Цена></Цены></Предложение>`))
	p := it.Offers[0].Prices[0]
	if p.Factor.String() != "10" || p.Unit != "упак" || p.Value.String() != "990" {
		t.Errorf("got %+v", p)
	}
	if n := len(it.warningsWith(WarnPriceFactor)); n != 1 {
		t.Errorf("price_factor warnings: got %d, want 1", n)
	}
}

func TestCase29_Numbers(t *testing.T) {
	cases := []struct{ raw, want string }{
		{"2042.66", "2042.66"}, {"3159.00", "3159.00"}, {"10500", "10500"}, {"296.4", "296.4"},
		{"1 234,50", "1234.50"}, {"1\u00a0234,50", "1234.50"},
	}
	var body strings.Builder
	for i, c := range cases {
		fmt.Fprintf(&body, `<Предложение><Ид>p%d</Ид><Цены><Цена><Представление>99 999,99 руб. за шт</Представление>
			<ИдТипаЦены>t</ИдТипаЦены><ЦенаЗаЕдиницу>%s</ЦенаЗаЕдиницу><Валюта>RUB</Валюта></Цена></Цены></Предложение>`, i, c.raw)
	}
	it, _ := mustRead(t, "numbers.xml", offersDoc(``, ``, body.String()))
	for i, c := range cases {
		if got := it.Offers[i].Prices[0].Value.String(); got != c.want {
			t.Errorf("%q: got %q, want %q", c.raw, got, c.want)
		}
	}
	if n := len(it.warningsWith(WarnNonCanonicalNumber)); n != 2 {
		t.Errorf("noncanonical_number warnings: got %d, want 2", n)
	}
}

func TestCase30_TaxNotIncluded(t *testing.T) {
	it, _ := mustRead(t, "offers.xml", sample(t, "cml204-1c-doc/offers.xml"))
	for _, p := range it.Offers[0].Prices {
		// Оптовая (cbcf495d…) has УчтеноВСумме=false in its ТипЦены; Розничная true.
		switch p.PriceTypeID {
		case "cbcf495d-55bc-11d9-848a-00112f43529a":
			if p.Tax == nil || p.Tax.IncludedInSum || p.Tax.Name != "НДС" {
				t.Errorf("wholesale tax: got %+v", p.Tax)
			}
		case "cbcf493b-55bc-11d9-848a-00112f43529a":
			if p.Tax == nil || !p.Tax.IncludedInSum {
				t.Errorf("retail tax: got %+v", p.Tax)
			}
		}
	}
}

func TestCase31_FullVsChangesReported(t *testing.T) {
	full, _ := mustRead(t, "offers.xml", sample(t, "cml204-1c-doc/offers.xml"))
	changes, _ := mustRead(t, "offers.xml", sample(t, "cml31-ut11-bitrix6/offers.xml"))
	if full.Packages[0].Mode != ModeFull || changes.Packages[0].Mode != ModeChangesOnly {
		t.Errorf("got %s and %s, want full and changes", full.Packages[0].Mode, changes.Packages[0].Mode)
	}
}

func TestCase32_FlagAbsentOrChildElement(t *testing.T) {
	absent, _ := mustRead(t, "absent.xml", offersDoc(``, ``, `<Предложение><Ид>p</Ид></Предложение>`))
	if absent.Packages[0].Mode != ModeUnspecified {
		t.Errorf("absent: got %s", absent.Packages[0].Mode)
	}
	child := `<КоммерческаяИнформация ВерсияСхемы="2.05" ДатаФормирования="2014-11-25T8:00:00">
		<ПакетПредложений><Ид>cat#</Ид><СодержитТолькоИзменения>false</СодержитТолькоИзменения>
		<Предложения><Предложение><Ид>p</Ид></Предложение></Предложения></ПакетПредложений></КоммерческаяИнформация>`
	it, _ := mustRead(t, "child.xml", []byte(child))
	if it.Packages[0].Mode != ModeFull {
		t.Errorf("child element: got %s, want full", it.Packages[0].Mode)
	}
}

func TestCase33_DeletedAndServices(t *testing.T) {
	imp, _ := mustRead(t, "import0_1.xml", sample(t, "cml207-warehouses/import0_1.xml"))
	var deleted []string
	for _, p := range imp.Products {
		if p.Deleted {
			deleted = append(deleted, p.ID)
		}
	}
	if len(deleted) != 1 || deleted[0] != "b631c9c1-49de-11e9-80c9-0cc47ab29cd1" {
		t.Errorf(`Статус="Удален": got %v`, deleted)
	}
	data := sample(t, "cml31-ut11-bitrix6/offers.xml")
	offers, sum := mustRead(t, "offers.xml", data)
	if got, want := sum.Deleted, bytes.Count(data, []byte("<ПометкаУдаления>true</ПометкаУдаления>")); got != want || got == 0 {
		t.Errorf("ПометкаУдаления=true: got %d deleted, want %d", got, want)
	}
	_ = offers
	svc, _ := mustRead(t, "svc.xml", []byte(`<КоммерческаяИнформация ВерсияСхемы="2.07" ДатаФормирования="2020-01-01">
		<Каталог><Ид>c</Ид><Товары><Товар><Ид>s1</Ид><Наименование>Доставка</Наименование><ЗначенияРеквизитов>
		<ЗначениеРеквизита><Наименование>ТипНоменклатуры</Наименование><Значение>Услуга</Значение></ЗначениеРеквизита>
		</ЗначенияРеквизитов></Товар></Товары></Каталог></КоммерческаяИнформация>`))
	if !svc.Products[0].IsService || svc.Products[0].Name != "Доставка" {
		t.Errorf("service: got %+v", svc.Products[0])
	}
	orders, _ := mustRead(t, "orders-203.xml", sample(t, "orders-cp1251/orders-203.xml"))
	if l := orders.Orders[0].Lines[0]; l.ProductID != DeliveryLineID || !l.IsService {
		t.Errorf("ORDER_DELIVERY: got %+v", l)
	}
	if l := orders.Orders[0].Lines[1]; l.IsService {
		t.Errorf("goods line marked as service: %+v", l)
	}
}

func TestCase34_SplitSetOneBatch(t *testing.T) {
	dir := samplesDir(t)
	names := []string{"rests.xml", "prices.xml", "offers.xml", "import.xml", "classifier.xml"} // deliberately shuffled
	var paths []string
	for _, n := range names {
		paths = append(paths, dir+"/cml31-ut11-bitrix6/"+n)
	}
	it := &items{}
	var order []string
	v := it.visitor().(VisitorFuncs)
	v.OnPackage = func(_ context.Context, p Package) error {
		order = append(order, p.File[strings.LastIndex(p.File, "/")+1:]+":"+p.Kind.String())
		it.Packages = append(it.Packages, p)
		return nil
	}
	sum, err := Import(context.Background(), newTestReader(t), paths, v)
	if err != nil {
		t.Fatal(err)
	}
	wantOrder := "[classifier.xml:Классификатор classifier.xml:Каталог import.xml:Каталог offers.xml:ПакетПредложений prices.xml:ПакетПредложений rests.xml:ПакетПредложений]"
	if fmt.Sprint(order) != wantOrder {
		t.Errorf("order: got %v, want %s", order, wantOrder)
	}
	ids := map[string]bool{}
	for _, p := range it.Packages {
		if p.Kind == KindOffers {
			ids[p.ID] = true
		}
	}
	if len(ids) != 1 || sum.Files != 5 || sum.Offers != 3*86 || sum.StockCells != 1032 || sum.Prices != 86 {
		t.Errorf("one batch: package IDs %v, summary %+v", ids, sum)
	}
	if len(it.warningsWith(WarnPackageMismatch)) != 0 || len(it.warningsWith(WarnUnknownWarehouse)) != 0 {
		t.Errorf("warnings: %v", it.Warnings)
	}
	// A rests file from another exchange is flagged.
	other := strings.ReplaceAll(string(sample(t, "cml31-ut11-bitrix6/prices.xml")), "3471fae0-92bc-47f5-8234-db142906215a#", "0ther000-92bc-47f5-8234-db142906215a#")
	otherPath := t.TempDir() + "/prices_other.xml"
	writeFile(t, otherPath, []byte(other))
	mixed := &items{}
	if _, err := Import(context.Background(), newTestReader(t), []string{paths[2], otherPath}, mixed.visitor()); err != nil {
		t.Fatal(err)
	}
	if n := len(mixed.warningsWith(WarnPackageMismatch)); n != 1 {
		t.Errorf("package_mismatch warnings: got %d, want 1", n)
	}
}

func TestCase38_ZipSanitising(t *testing.T) {
	dir := t.TempDir()
	offers := sample(t, "cml31-ut11-bitrix6/offers.xml")
	rests := sample(t, "cml31-ut11-bitrix6/rests.xml")
	good := dir + "/v8_3B8F_3e.zip" // 1C names its archives at random
	writeZip(t, good, map[string][]byte{
		"rests.xml":                  rests,
		"offers.xml":                 offers,
		"import_files/ab/cd/img.jpg": []byte("\xff\xd8 not xml"),
	})
	sum, err := Import(context.Background(), newTestReader(t), []string{good}, VisitorFuncs{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Files != 2 || sum.Offers != 2*86 || sum.StockCells != 1032 {
		t.Errorf("summary: %+v", sum)
	}
	for _, name := range []string{"../offers.xml", `C:\v8_8789_c.xml`, "/etc/offers.xml", `a\..\..\offers.xml`} {
		bad := dir + "/bad.zip"
		writeZip(t, bad, map[string][]byte{name: offers})
		if _, err := Import(context.Background(), newTestReader(t), []string{bad}, VisitorFuncs{}); !errors.Is(err, ErrUnsafePath) {
			t.Errorf("%q: got %v, want ErrUnsafePath", name, err)
		}
	}
	limits := DefaultLimits()
	limits.MaxZipBytes = int64(len(offers)) + 10
	r, err := NewReader(limits)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Import(context.Background(), r, []string{good}, VisitorFuncs{}); !errors.Is(err, ErrLimitExceeded) {
		t.Errorf("MaxZipBytes: got %v, want ErrLimitExceeded", err)
	}
	limits = DefaultLimits()
	limits.MaxZipEntries = 2
	r, _ = NewReader(limits)
	if _, err := Import(context.Background(), r, []string{good}, VisitorFuncs{}); !errors.Is(err, ErrLimitExceeded) {
		t.Errorf("MaxZipEntries: got %v, want ErrLimitExceeded", err)
	}
}

func TestCase41_OrdersDocument(t *testing.T) {
	src, _ := mustRead(t, "documents.xml", sample(t, "cml31-ut11-bitrix6/documents.xml"))
	for _, container := range []bool{false, true} {
		var buf bytes.Buffer
		opts := WriteOptions{Encoding: EncodingUTF8, SchemaVersion: "3.1", GeneratedAt: fixedTime, Container: container,
			Namespace: "urn:1C.ru:commerceml_3", ByteOrderMark: true}
		if err := WriteOrders(&buf, src.Orders, opts); err != nil {
			t.Fatal(err)
		}
		if got, want := bytes.Count(buf.Bytes(), []byte("<Контейнер>")), map[bool]int{false: 0, true: len(src.Orders)}[container]; got != want {
			t.Errorf("container=%v: %d Контейнер, want %d", container, got, want)
		}
		back, _ := mustRead(t, "written.xml", buf.Bytes())
		assertOrdersEqual(t, back.Orders, src.Orders)
	}
}

// Guard: windows-1251 orders written by WriteOrders are real cp1251 bytes.
func TestCase03_WrittenWindows1251IsRealCP1251(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteOrders(&buf, []Order{sampleOrder()}, WriteOptions{Encoding: EncodingWindows1251, SchemaVersion: "2.03", GeneratedAt: fixedTime}); err != nil {
		t.Fatal(err)
	}
	want, err := charmap.Windows1251.NewEncoder().String("Заказ товара")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(buf.Bytes(), []byte(want)) || utf8.Valid(buf.Bytes()) {
		t.Errorf("not windows-1251:\n%s", buf.Bytes())
	}
}
