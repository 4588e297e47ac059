package commerceml

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

func TestNewReaderRejectsUnsetLimits(t *testing.T) {
	l := DefaultLimits()
	l.MaxTextBytes = 0
	if _, err := NewReader(l); !errors.Is(err, ErrInvalidLimits) {
		t.Errorf("got %v, want ErrInvalidLimits", err)
	}
	if _, err := NewReader(Limits{}); !errors.Is(err, ErrInvalidLimits) {
		t.Errorf("zero Limits: got %v, want ErrInvalidLimits", err)
	}
}

func TestReadErrors(t *testing.T) {
	small := DefaultLimits()
	small.MaxElementDepth = 8
	small.MaxTextBytes = 64
	small.MaxStockCellsPerOffer = 2
	small.MaxPricesPerOffer = 1
	cases := []struct {
		name string
		doc  string
		want error
	}{
		{"empty", "", ErrMalformed},
		{"not commerceml", `<root/>`, ErrNotCommerceML},
		{"mismatched", `<КоммерческаяИнформация><Каталог></Товары></КоммерческаяИнформация>`, ErrMalformed},
		{"unclosed", `<КоммерческаяИнформация><Каталог>`, ErrMalformed},
		{"second root", `<КоммерческаяИнформация/><КоммерческаяИнформация/>`, ErrMalformed},
		{"text before root", `junk<КоммерческаяИнформация/>`, ErrMalformed},
		{"deep", `<КоммерческаяИнформация>` + strings.Repeat("<a>", 10) + strings.Repeat("</a>", 10) + `</КоммерческаяИнформация>`, ErrLimitExceeded},
		{"long text", `<КоммерческаяИнформация>` + strings.Repeat("x", 65) + `</КоммерческаяИнформация>`, ErrLimitExceeded},
		{"long attribute", `<КоммерческаяИнформация a="` + strings.Repeat("x", 65) + `"/>`, ErrLimitExceeded},
		{"cells", string(offersDoc(``, ``, `<Предложение><Ид>p</Ид><Склад ИдСклада="a" КоличествоНаСкладе="1"/><Склад ИдСклада="b" КоличествоНаСкладе="1"/><Склад ИдСклада="c" КоличествоНаСкладе="1"/></Предложение>`)), ErrLimitExceeded},
		{"prices", string(offersDoc(``, ``, `<Предложение><Ид>p</Ид><Цены><Цена><ИдТипаЦены>a</ИдТипаЦены><ЦенаЗаЕдиницу>1</ЦенаЗаЕдиницу></Цена><Цена><ИдТипаЦены>b</ИдТипаЦены><ЦенаЗаЕдиницу>1</ЦенаЗаЕдиницу></Цена></Цены></Предложение>`)), ErrLimitExceeded},
		{"encoding", `<?xml version="1.0" encoding="koi8-r"?><КоммерческаяИнформация/>`, ErrUnsupportedEncoding},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := NewReader(small)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = readWith(t, r, c.name+".xml", []byte(c.doc))
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) || pe.File != c.name+".xml" {
				t.Errorf("got %#v, want a ParseError naming the file", err)
			}
		})
	}
}

func TestVisitorErrorStopsRead(t *testing.T) {
	stop := errors.New("stop here")
	calls := 0
	r := newTestReader(t)
	sum, err := r.Read(context.Background(), "rests.xml", bytes.NewReader(testdata(t, "layout-c.xml")), VisitorFuncs{
		OnOffer: func(context.Context, Offer) error { calls++; return stop },
	})
	if !errors.Is(err, stop) || calls != 1 || sum.Offers != 1 {
		t.Errorf("got %v after %d calls (summary %d offers)", err, calls, sum.Offers)
	}
	warnStop := errors.New("warning refused")
	_, err = r.Read(context.Background(), "b.xml", bytes.NewReader(testdata(t, "layout-b.xml")), VisitorFuncs{
		OnWarning: func(context.Context, Warning) error { return warnStop },
		OnOffer:   func(context.Context, Offer) error { return nil },
	})
	if !errors.Is(err, warnStop) {
		t.Errorf("warning visitor error: got %v", err)
	}
}

func TestContextCancelStopsRead(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = pw.CloseWithError(writeOffersFile(pw, 100_000, nil))
	}()
	defer func() {
		_ = pr.Close()
		<-done
	}()
	r := newTestReader(t)
	_, err := r.Read(ctx, "big.xml", pr, VisitorFuncs{OnOffer: func(context.Context, Offer) error {
		cancel()
		return nil
	}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

func TestWarningsCappedButCounted(t *testing.T) {
	l := DefaultLimits()
	l.MaxWarnings = 3
	r, err := NewReader(l)
	if err != nil {
		t.Fatal(err)
	}
	var body strings.Builder
	for i := 0; i < 10; i++ {
		body.WriteString(`<Предложение><Артикул>no id</Артикул></Предложение>`)
	}
	it, sum, err := readWith(t, r, "noid.xml", offersDoc(``, ``, body.String()))
	if err != nil {
		t.Fatal(err)
	}
	if sum.WarningCount != 10 || len(sum.Warnings) != 3 || len(it.Warnings) != 10 || sum.Offers != 0 {
		t.Errorf("got count %d, kept %d, visited %d, offers %d", sum.WarningCount, len(sum.Warnings), len(it.Warnings), sum.Offers)
	}
	if w := sum.Warnings[0]; w.File != "noid.xml" || w.Line != 4 || w.Code != WarnMissingID {
		t.Errorf("warning context: %+v", w)
	}
}

func TestUnknownElementsSkipped(t *testing.T) {
	it, _ := mustRead(t, "unknown.xml", offersDoc(``, ``,
		`<Предложение><Новое><Ид>not-this</Ид><Количество>99</Количество></Новое><Ид>p</Ид>
		 <ЗначенияСвойств><ЗначенияСвойства><Ид>x</Ид><Значение>y</Значение></ЗначенияСвойства></ЗначенияСвойств>
		 <!-- comment --><?pi data?><Количество>1</Количество></Предложение>`))
	if o := it.Offers[0]; o.ID != "p" || o.Stock.Total.String() != "1" || len(it.Warnings) != 0 {
		t.Errorf("got %+v, warnings %v", o, it.Warnings)
	}
}

func TestBadQuantityDropsOnlyThatFigure(t *testing.T) {
	it, _ := mustRead(t, "badqty.xml", offersDoc(``, ``,
		`<Предложение><Ид>p</Ид><Количество>много</Количество><Склад ИдСклада="w" КоличествоНаСкладе="2"/><Склад КоличествоНаСкладе="1"/></Предложение>`))
	o := it.Offers[0]
	if o.Stock.HasTotal || len(o.Stock.Cells) != 1 || o.Stock.Cells[0].Qty.String() != "2" {
		t.Errorf("got %+v", o.Stock)
	}
	if len(it.warningsWith(WarnBadNumber)) != 1 || len(it.warningsWith(WarnMissingID)) != 1 {
		t.Errorf("warnings: %v", it.Warnings)
	}
}

func TestManyCellsAndTrackingLimits(t *testing.T) {
	l := DefaultLimits()
	l.MaxTrackedIDs = 2
	l.MaxDeclarations = 2
	r, err := NewReader(l)
	if err != nil {
		t.Fatal(err)
	}
	var body strings.Builder
	body.WriteString(`<Предложение><Ид>many</Ид>`)
	for i := 0; i < 20; i++ {
		fmt.Fprintf(&body, `<Склад ИдСклада="w%02d" КоличествоНаСкладе="%d"/>`, i, i)
	}
	body.WriteString(`<Склад ИдСклада="w19" КоличествоНаСкладе="7"/><Склад ИдСклада="w20" КоличествоНаСкладе="1"/></Предложение>`)
	body.WriteString(`<Предложение><Ид>b</Ид></Предложение><Предложение><Ид>c</Ид></Предложение><Предложение><Ид>c</Ид></Предложение>`)
	doc := offersDoc(``, ``, body.String())
	doc = bytes.Replace(doc, []byte(`<Предложения>`), []byte(`<Склады><Склад><Ид>d1</Ид></Склад><Склад><Ид>d2</Ид></Склад><Склад><Ид>d3</Ид></Склад></Склады><Предложения>`), 1)
	it, _, err := readWith(t, r, "many.xml", doc)
	if err != nil {
		t.Fatal(err)
	}
	o := it.offer(t, "many")
	if len(o.Stock.Cells) != 21 || o.Stock.Cells[19].Qty.String() != "7" || o.Stock.Cells[20].WarehouseID != "w20" {
		t.Errorf("cells: %+v", o.Stock.Cells)
	}
	if n := len(it.warningsWith(WarnDuplicateField)); n != 1 {
		t.Errorf("duplicate_field: got %d, want 1", n)
	}
	// MaxTrackedIDs=2: "c" repeated after the limit is no longer detected; one warning says so.
	if n := len(it.warningsWith(WarnTrackingLimit)); n != 2 {
		t.Errorf("tracking_limit warnings: got %d, want 2 (IDs, declarations): %v", n, it.warningsWith(WarnTrackingLimit))
	}
	if n := len(it.warningsWith(WarnDuplicateItem)); n != 0 {
		t.Errorf("duplicate_item after the tracking limit: got %d, want 0", n)
	}
	if r.Limits() != l {
		t.Error("Limits() does not return the reader's limits")
	}
}

func TestLateHeaderAndBadFlags(t *testing.T) {
	doc := `<КоммерческаяИнформация ВерсияСхемы="2.05" ДатаФормирования="2014-11-25">
		<ПакетПредложений СодержитТолькоИзменения="может"><Ид>cat#</Ид><Предложения><Предложение><Ид>p</Ид><ПометкаУдаления>да</ПометкаУдаления></Предложение></Предложения>
		<СодержитТолькоИзменения>true</СодержитТолькоИзменения></ПакетПредложений></КоммерческаяИнформация>`
	it, _ := mustRead(t, "flags.xml", []byte(doc))
	if it.Packages[0].Mode != ModeUnspecified || it.Offers[0].Deleted {
		t.Errorf("got %+v / %+v", it.Packages[0], it.Offers[0])
	}
	if len(it.warningsWith(WarnBadFlag)) != 2 || len(it.warningsWith(WarnLateHeader)) != 1 {
		t.Errorf("warnings: %v", it.Warnings)
	}
}
