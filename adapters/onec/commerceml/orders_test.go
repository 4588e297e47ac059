package commerceml

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"
)

var fixedTime = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

func writeFile(tb testing.TB, path string, data []byte) {
	tb.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
}

func writeZip(tb testing.TB, path string, entries map[string][]byte) {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(entries))
	for name := range entries {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		w, err := zw.Create(name)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write(entries[name]); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	writeFile(tb, path, buf.Bytes())
}

func sampleOrder() Order {
	return Order{
		ID: "L1042", Number: "1042", Date: "2026-11-21", Time: "10:00:00", Currency: "RUB",
		Rate: DecimalFromInt(1), Sum: Decimal{text: "1698.50"}, Comment: `Позвонить до 18:00 & "не звонить" <срочно> €`,
		Counterparty: Counterparty{ID: "1#ozon#Иванов", Name: "Иван Иванов", Role: "Покупатель"},
		Lines: []OrderLine{
			{ProductID: "8f1c0000-0000-4000-8000-000000000001#a2c40000-0000-4000-8000-000000000001", Name: "Коврик",
				UnitCode: "796", UnitName: "шт", Qty: Decimal{text: "2"}, Price: Decimal{text: "674.25"}, Sum: Decimal{text: "1348.50"}, ItemType: "Товар"},
			{ProductID: DeliveryLineID, Name: "Доставка заказа", Qty: DecimalFromInt(1), Price: Decimal{text: "350.00"},
				Sum: Decimal{text: "350.00"}, ItemType: "Услуга", IsService: true},
		},
		Attributes: []Attribute{{Name: "Метод оплаты", Value: "Онлайн"}, {Name: "Заказ оплачен", Value: "true"}},
	}
}

// assertOrdersEqual compares what WriteOrders carries over (positions aside).
func assertOrdersEqual(tb testing.TB, got, want []Order) {
	tb.Helper()
	norm := func(os []Order) string {
		var b strings.Builder
		for _, o := range os {
			o.Line = 0
			o.Number1C, o.Deleted, o.WarehouseID = "", false, ""
			if o.Role == "" {
				o.Role = sellerRole
			}
			if o.Counterparty.Role == "" && o.Counterparty != (Counterparty{}) {
				o.Counterparty.Role = buyerRole
			}
			if o.Counterparty.FullName == "" {
				o.Counterparty.FullName = o.Counterparty.Name
			}
			o.Operation = OrderOperation
			fmt.Fprintf(&b, "%+v\n", o)
		}
		return b.String()
	}
	if g, w := norm(got), norm(want); g != w {
		tb.Errorf("orders differ:\ngot  %s\nwant %s", g, w)
	}
}

func TestOrdersWindows1251Sample(t *testing.T) {
	data := sample(t, "orders-cp1251/orders-203.xml")
	utf, err := charmap.Windows1251.NewDecoder().Bytes(data)
	if err != nil {
		t.Fatal(err)
	}
	it, sum := mustRead(t, "orders-203.xml", data)
	if got, want := sum.Orders, bytes.Count(utf, []byte("<Документ>")); got != want {
		t.Errorf("orders: got %d, want %d", got, want)
	}
	if got, want := sum.OrderLines, bytes.Count(utf, []byte("<Товар>")); got != want {
		t.Errorf("lines: got %d, want %d", got, want)
	}
	// Facts read from the file.
	o := it.Orders[0]
	checks := []struct{ name, got, want string }{
		{"ID", o.ID, "20"}, {"Number", o.Number, "20"}, {"Date", o.Date, "2007-10-16"}, {"Time", o.Time, "15:40:40"},
		{"Operation", o.Operation, "Заказ товара"}, {"Currency", o.Currency, "RUB"}, {"Sum", o.Sum.String(), "9683.42"},
		{"Counterparty.ID", o.Counterparty.ID, "1#admin#Петров Петр"}, {"Counterparty.Role", o.Counterparty.Role, "Покупатель"},
		{"line0 price", o.Lines[0].Price.String(), "348.00"}, {"line1 ID", o.Lines[1].ProductID, "cbcf498f-55bc-11d9-848a-00112f43529a"},
		{"line1 catalog", o.Lines[1].CatalogID, "bd72d8f9-55bc-11d9-848a-00112f43529a"},
		{"line1 qty", o.Lines[1].Qty.String(), "1.00"}, {"line1 sum", o.Lines[1].Sum.String(), "9335.42"},
		{"status", o.Attributes[8].Name + "=" + o.Attributes[8].Value, "Статус заказа=[F] Доставлен"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
}

func TestOrdersContainer31Sample(t *testing.T) {
	data := sample(t, "cml31-ut11-bitrix6/documents.xml")
	it, sum := mustRead(t, "documents.xml", data)
	if got, want := sum.Orders, bytes.Count(data, []byte("<Контейнер>")); got != want || got != bytes.Count(data, []byte("<Документ>")) {
		t.Errorf("orders: got %d, want %d (one per Контейнер)", got, want)
	}
	if got, want := sum.OrderLines, bytes.Count(data, []byte("<Товар>")); got != want {
		t.Errorf("lines: got %d, want %d", got, want)
	}
	o := it.Orders[0]
	l := o.Lines[0]
	if o.ID != "320" || o.Number1C != "L320" || o.Sum.String() != "1320" || o.Counterparty.Name != "Покупатель через интернет-магазин" ||
		l.Qty.String() != "1" || l.Price.String() != "1320" || l.UnitCode != "796" || l.UnitName != "шт" ||
		l.ProductID != "aa8085b0-ee4d-11e3-9438-00155d020201#9b62e395-ef8b-11e3-9438-00155d020201" {
		t.Errorf("first order: %+v", o)
	}
	var withWarehouse int
	for _, o := range it.Orders {
		if o.WarehouseID != "" {
			withWarehouse++
		}
	}
	if got, want := withWarehouse, bytes.Count(data, []byte("<Склады>")); got != want {
		t.Errorf("orders with a warehouse: got %d, want %d", got, want)
	}
}

func TestWriteOrdersRoundTrip(t *testing.T) {
	for _, enc := range []Encoding{EncodingUTF8, EncodingWindows1251} {
		for _, container := range []bool{false, true} {
			var buf bytes.Buffer
			opts := WriteOptions{Encoding: enc, SchemaVersion: "2.05", GeneratedAt: fixedTime, Container: container}
			want := []Order{sampleOrder()}
			if err := WriteOrders(&buf, want, opts); err != nil {
				t.Fatal(err)
			}
			it, _ := mustRead(t, "written.xml", buf.Bytes())
			assertOrdersEqual(t, it.Orders, want)
			if len(it.Warnings) != 0 {
				t.Errorf("enc %d: warnings %v", enc, it.Warnings)
			}
			head := buf.String()[:60]
			if wantDecl := map[Encoding]string{EncodingUTF8: `encoding="UTF-8"`, EncodingWindows1251: `encoding="windows-1251"`}[enc]; !strings.Contains(head, wantDecl) {
				t.Errorf("declaration: got %q, want %s", head, wantDecl)
			}
			if !bytes.Contains(buf.Bytes(), []byte(`ДатаФормирования="2026-11-21T10:00:00"`)) && enc == EncodingUTF8 {
				t.Errorf("ДатаФормирования missing:\n%s", buf.String())
			}
		}
	}
}

func TestWriteOrdersRejects(t *testing.T) {
	good := WriteOptions{Encoding: EncodingUTF8, SchemaVersion: "2.05", GeneratedAt: fixedTime}
	optCases := map[string]WriteOptions{
		"no encoding":  {SchemaVersion: "2.05", GeneratedAt: fixedTime},
		"no version":   {Encoding: EncodingUTF8, GeneratedAt: fixedTime},
		"no time":      {Encoding: EncodingUTF8, SchemaVersion: "2.05"},
		"BOM with1251": {Encoding: EncodingWindows1251, SchemaVersion: "2.05", GeneratedAt: fixedTime, ByteOrderMark: true},
	}
	for name, opts := range optCases {
		if err := WriteOrders(&bytes.Buffer{}, []Order{sampleOrder()}, opts); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%s: got %v, want ErrInvalidOptions", name, err)
		}
	}
	orderCases := map[string]func(*Order){
		"no ID":          func(o *Order) { o.ID = "" },
		"no number":      func(o *Order) { o.Number = "" },
		"no date":        func(o *Order) { o.Date = "" },
		"no currency":    func(o *Order) { o.Currency = "" },
		"not an order":   func(o *Order) { o.Operation = "Отпуск товара" },
		"no lines":       func(o *Order) { o.Lines = nil },
		"line no ID":     func(o *Order) { o.Lines[0].ProductID = "" },
		"line zero qty":  func(o *Order) { o.Lines[0].Qty = Decimal{} },
		"line minus qty": func(o *Order) { o.Lines[0].Qty = DecimalFromInt(-1) },
	}
	for name, mutate := range orderCases {
		o := sampleOrder()
		mutate(&o)
		if err := WriteOrders(&bytes.Buffer{}, []Order{o}, good); !errors.Is(err, ErrInvalidOrder) {
			t.Errorf("%s: got %v, want ErrInvalidOrder", name, err)
		}
	}
}

func TestOrdersSkipOtherDocumentsAndAttributeStyle(t *testing.T) {
	doc := `<КоммерческаяИнформация ВерсияСхемы="2.03" ДатаФормирования="2008-03-28">
		<Документ><Ид>7</Ид><ХозОперация>Отпуск товара</ХозОперация></Документ>
		<Документ Ид="20678" Номер="20678" Дата="2021-02-11" ХозОперация="Заказ товара" Валюта="руб" Сумма="23 000">
			<Товары><Товар><Ид>p1</Ид><Количество>1.0000</Количество><ЦенаЗаЕдиницу>23000</ЦенаЗаЕдиницу><Сумма>23000</Сумма></Товар></Товары>
		</Документ></КоммерческаяИнформация>`
	it, _ := mustRead(t, "mixed.xml", []byte(doc))
	if len(it.Orders) != 1 || it.Orders[0].ID != "20678" || it.Orders[0].Sum.String() != "23000" || it.Orders[0].Lines[0].Qty.String() != "1.0000" {
		t.Errorf("got %+v", it.Orders)
	}
	if len(it.warningsWith(WarnSkippedDocument)) != 1 || len(it.warningsWith(WarnNonCanonicalNumber)) != 1 {
		t.Errorf("warnings: %v", it.Warnings)
	}
}
