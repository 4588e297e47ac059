package orders_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"stockd/adapters/onec/commerceml"
	"stockd/adapters/onec/orders"
	"stockd/reservation"
)

const account = "ut11"

// twoOrders makes a confirmed website order, a marketplace order, a held
// (unconfirmed) hold and a released order.
func twoOrders(tb testing.TB) *testLedger {
	tb.Helper()
	l := newTestLedger(tb)
	l.setStock(sku(1), 10)
	l.setStock(sku(2), 5)
	l.item(sku(1), "Коврик для йоги")
	l.price(sku(1), "674.25")
	l.order("L1042", "site", false, reservation.Line{SKU: sku(1), Qty: 2})
	l.order("ozon:40000001-0001-1", "ozon", true, reservation.Line{SKU: sku(2), Qty: 1})
	l.now = l.now.Add(time.Minute)
	if _, err := l.g.Reserve(reservation.ReserveRequest{ID: "cart-7", Channel: "site",
		Lines: []reservation.Line{{SKU: sku(1), Qty: 1}}}, l.now, nil); err != nil {
		tb.Fatal(err)
	}
	l.order("L1043", "site", false, reservation.Line{SKU: sku(2), Qty: 1})
	if err := l.g.Release("L1043", l.now); err != nil {
		tb.Fatal(err)
	}
	return l
}

func ids(os []commerceml.Order) []string {
	out := make([]string, len(os))
	for i, o := range os {
		out[i] = o.ID
	}
	return out
}

func mustOrders(tb testing.TB, s *orders.Source, acct string, max int) []commerceml.Order {
	tb.Helper()
	got, err := s.Orders(context.Background(), acct, max)
	if err != nil {
		tb.Fatal(err)
	}
	return got
}

func TestSourceServesConfirmedHoldsOnce(t *testing.T) {
	l := twoOrders(t)
	path := filepath.Join(t.TempDir(), "exported.log")
	src := newSource(t, l, openStore(t, path), nil)

	got := mustOrders(t, src, account, 10)
	if want := []string{"L1042", "ozon:40000001-0001-1"}; !slices.Equal(ids(got), want) {
		t.Fatalf("orders: got %v, want %v (confirmed only, oldest first)", ids(got), want)
	}
	site, ozon := got[0], got[1]
	if l := site.Lines[0]; l.ProductID != sku(1) || l.Name != "Коврик для йоги" || l.Qty.String() != "2" ||
		l.Price.String() != "674.25" || l.Sum.String() != "1348.50" || site.Sum.String() != "1348.50" {
		t.Errorf("website order: %+v, line %+v", site, l)
	}
	if site.Date != "2026-11-21" || site.Time != "10:01:00" || site.Currency != "RUB" {
		t.Errorf("website order date %s %s currency %s, want Moscow time and RUB", site.Date, site.Time, site.Currency)
	}
	if ozon.Counterparty.ID != "ozon-llc" || !ozon.Sum.IsZero() {
		t.Errorf("ozon order: counterparty %+v sum %s", ozon.Counterparty, ozon.Sum)
	}
	attrs := map[string]string{}
	for _, a := range ozon.Attributes {
		attrs[a.Name] = a.Value
	}
	if attrs[orders.AttrMarketID] != "40000001-0001-1" || attrs[orders.AttrForced] != "true" || attrs[orders.AttrChannel] != "ozon" {
		t.Errorf("ozon order attributes: %v", attrs)
	}
	if got := mustOrders(t, src, account, 1); !slices.Equal(ids(got), []string{"L1042"}) {
		t.Errorf("max 1: got %v", ids(got))
	}

	if err := src.Exported(context.Background(), account, []string{"L1042"}); err != nil {
		t.Fatal(err)
	}
	if got := mustOrders(t, src, account, 10); !slices.Equal(ids(got), []string{"ozon:40000001-0001-1"}) {
		t.Errorf("after success: got %v, want only the order not taken", ids(got))
	}
	if got := mustOrders(t, src, "other-base", 10); len(got) != 2 {
		t.Errorf("another 1C base: got %v, want both (taken per account)", ids(got))
	}
	if got := l.hold("L1042").State; got != reservation.HoldConfirmed {
		t.Errorf("without HandoffOnSuccess the hold is %v, want confirmed until 1C's figure names it", got)
	}
	// Durable: a restarted process does not serve it again.
	reopened := newSource(t, l, reopen(t, path), nil)
	if got := mustOrders(t, reopened, account, 10); !slices.Equal(ids(got), []string{"ozon:40000001-0001-1"}) {
		t.Errorf("after a restart: got %v", ids(got))
	}
}

// reopen opens the store file again after closing nothing: a crash.
func reopen(tb testing.TB, path string) *orders.FileStore {
	tb.Helper()
	return openStore(tb, path)
}

func TestHandoffOnSuccess(t *testing.T) {
	l := twoOrders(t)
	src := newSource(t, l, openStore(t, filepath.Join(t.TempDir(), "x.log")), func(c *orders.SourceConfig) {
		c.HandoffOnSuccess = true
		c.Channels = []string{"ozon"}
	})
	got := mustOrders(t, src, account, 10)
	if !slices.Equal(ids(got), []string{"ozon:40000001-0001-1"}) {
		t.Fatalf("channel filter: got %v", ids(got))
	}
	// A hold released meanwhile does not fail the success.
	if err := src.Exported(context.Background(), account, []string{got[0].ID, "L1043"}); err != nil {
		t.Fatal(err)
	}
	if got := l.hold("ozon:40000001-0001-1").State; got != reservation.HoldHandedOff {
		t.Errorf("hold after success: %v, want handed_off", got)
	}
}

// TestDoubleCountWindow applies 1C's lower figure and the hand-off in each
// order of arrival within one partition. The units of the order are on
// the shelf until shipped, so the truth for the other channels is always
// 10 − 3 = 7.
func TestDoubleCountWindow(t *testing.T) {
	const id = "ozon:40000009-0001-1"
	setup := func(t *testing.T) *testLedger {
		l := newTestLedger(t)
		l.setStock(sku(1), 10)
		l.order(id, "ozon", true, reservation.Line{SKU: sku(1), Qty: 3})
		if got := l.avail(sku(1)); got != 7 {
			t.Fatalf("before: site sees %d, want 7", got)
		}
		return l
	}
	handoff := func(l *testLedger) {
		l.event(reservation.Event{Type: reservation.EventReservationHandoff, ReservationID: id})
	}
	t.Run("figure names the hold", func(t *testing.T) {
		l := setup(t)
		l.setStock(sku(1), 7, id)
		if got := l.avail(sku(1)); got != 7 {
			t.Errorf("site sees %d, want exactly 7", got)
		}
		if got := l.hold(id).State; got != reservation.HoldHandedOff {
			t.Errorf("hold: %v, want handed_off", got)
		}
	})
	t.Run("drop then handoff", func(t *testing.T) {
		l := setup(t)
		l.setStock(sku(1), 7)
		if got := l.avail(sku(1)); got != 4 {
			t.Errorf("between: site sees %d, want 4 (too little, never too much)", got)
		}
		handoff(l)
		if got := l.avail(sku(1)); got != 7 {
			t.Errorf("after: site sees %d, want 7", got)
		}
	})
	t.Run("handoff then drop", func(t *testing.T) {
		// What HandoffOnSuccess does when 1C's figure comes later: the
		// window shows the order's units twice. docs/ORDERS.md.
		l := setup(t)
		src := newSource(t, l, openStore(t, filepath.Join(t.TempDir(), "x.log")), func(c *orders.SourceConfig) {
			c.HandoffOnSuccess = true
		})
		if err := src.Exported(context.Background(), account, []string{id}); err != nil {
			t.Fatal(err)
		}
		if got := l.avail(sku(1)); got != 10 {
			t.Errorf("between: site sees %d, want 10 (the window this order opens)", got)
		}
		l.setStock(sku(1), 7)
		if got := l.avail(sku(1)); got != 7 {
			t.Errorf("after: site sees %d, want 7", got)
		}
	})
}

// TestDocumentFollowsRealSamples writes the served orders as the exchange
// handler does, reads them back with the CommerceML reader, and checks
// every element against the real documents 1C and 1С-Битрикс exchange.
func TestDocumentFollowsRealSamples(t *testing.T) {
	dir := samplesDir(t)
	var samplePaths = map[string]bool{}
	for _, name := range []string{"orders-cp1251/orders-203.xml", "cml31-ut11-bitrix6/documents.xml"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		for p := range documentPaths(t, data) {
			samplePaths[p] = true
		}
	}
	l := twoOrders(t)
	served := mustOrders(t, newSource(t, l, openStore(t, filepath.Join(t.TempDir(), "x.log")), nil), account, 10)
	for _, opts := range []commerceml.WriteOptions{
		{Encoding: commerceml.EncodingUTF8, SchemaVersion: "3.1", GeneratedAt: t0, Container: true, Namespace: "urn:1C.ru:commerceml_3"},
		{Encoding: commerceml.EncodingWindows1251, SchemaVersion: "2.05", GeneratedAt: t0},
	} {
		var buf bytes.Buffer
		if err := commerceml.WriteOrders(&buf, slices.Clone(served), opts); err != nil {
			t.Fatalf("%s: %v", opts.SchemaVersion, err)
		}
		ours := documentPaths(t, buf.Bytes())
		for p := range ours {
			if !samplePaths[p] {
				t.Errorf("%s: element %s appears in no real sample", opts.SchemaVersion, p)
			}
		}
		for _, p := range requiredPaths {
			if !ours[p] {
				t.Errorf("%s: element %s of every real sample is missing", opts.SchemaVersion, p)
			}
		}
		read := readBack(t, buf.Bytes())
		if len(read) != len(served) {
			t.Fatalf("%s: read %d orders back, want %d", opts.SchemaVersion, len(read), len(served))
		}
		for i := range served {
			checkSame(t, opts.SchemaVersion, read[i], served[i])
		}
	}
}

// requiredPaths are in both real samples: the order document's core.
var requiredPaths = []string{
	"Документ/Ид", "Документ/Номер", "Документ/Дата", "Документ/Время", "Документ/ХозОперация", "Документ/Роль",
	"Документ/Валюта", "Документ/Курс", "Документ/Сумма", "Документ/Комментарий",
	"Документ/Контрагенты/Контрагент/Ид", "Документ/Контрагенты/Контрагент/Наименование",
	"Документ/Контрагенты/Контрагент/Роль", "Документ/Контрагенты/Контрагент/ПолноеНаименование",
	"Документ/Товары/Товар/Ид", "Документ/Товары/Товар/Наименование", "Документ/Товары/Товар/Количество",
	"Документ/Товары/Товар/Сумма", "Документ/Товары/Товар/ЗначенияРеквизитов/ЗначениеРеквизита/Наименование",
	"Документ/ЗначенияРеквизитов/ЗначениеРеквизита/Наименование", "Документ/ЗначенияРеквизитов/ЗначениеРеквизита/Значение",
}

// documentPaths lists the element paths below each Документ.
func documentPaths(tb testing.TB, data []byte) map[string]bool {
	tb.Helper()
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		if strings.EqualFold(label, "windows-1251") {
			return charmap.Windows1251.NewDecoder().Reader(in), nil
		}
		return nil, errors.New("unexpected charset " + label)
	}
	out := map[string]bool{}
	var stack []string
	inDoc := -1
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			tb.Fatalf("xml: %v", err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			stack = append(stack, e.Name.Local)
			if e.Name.Local == "Документ" && inDoc < 0 {
				inDoc = len(stack) - 1
			}
			if inDoc >= 0 {
				out[strings.Join(stack[inDoc:], "/")] = true
			}
		case xml.EndElement:
			if len(stack)-1 == inDoc {
				inDoc = -1
			}
			stack = stack[:len(stack)-1]
		}
	}
}

func readBack(tb testing.TB, data []byte) []commerceml.Order {
	tb.Helper()
	r, err := commerceml.NewReader(commerceml.DefaultLimits())
	if err != nil {
		tb.Fatal(err)
	}
	var got []commerceml.Order
	var warnings []commerceml.Warning
	_, err = r.Read(context.Background(), "orders.xml", bytes.NewReader(data), commerceml.VisitorFuncs{
		OnOrder:   func(_ context.Context, o commerceml.Order) error { got = append(got, o); return nil },
		OnWarning: func(_ context.Context, w commerceml.Warning) error { warnings = append(warnings, w); return nil },
	})
	if err != nil {
		tb.Fatalf("read back: %v", err)
	}
	if len(warnings) > 0 {
		tb.Errorf("the reader warned about our document: %v", warnings)
	}
	return got
}

func checkSame(tb testing.TB, version string, got, want commerceml.Order) {
	tb.Helper()
	if got.ID != want.ID || got.Number != want.Number || got.Date != want.Date || got.Time != want.Time ||
		got.Operation != commerceml.OrderOperation || got.Role != "Продавец" || got.Currency != want.Currency ||
		got.Sum.Cmp(want.Sum) != 0 || got.Counterparty.ID != want.Counterparty.ID ||
		got.Counterparty.Name != want.Counterparty.Name || got.Counterparty.Role != "Покупатель" {
		tb.Errorf("%s: order read back\n got %+v\nwant %+v", version, got, want)
	}
	if len(got.Lines) != len(want.Lines) {
		tb.Fatalf("%s: %d lines, want %d", version, len(got.Lines), len(want.Lines))
	}
	for i, l := range got.Lines {
		w := want.Lines[i]
		if l.ProductID != w.ProductID || l.Name != w.Name || l.Qty.Cmp(w.Qty) != 0 || l.Price.Cmp(w.Price) != 0 ||
			l.Sum.Cmp(w.Sum) != 0 || l.UnitCode != "796" || l.UnitName != "шт" || l.IsService {
			tb.Errorf("%s: line %d read back %+v, want %+v", version, i, l, w)
		}
	}
	if !slices.Equal(got.Attributes, want.Attributes) {
		tb.Errorf("%s: attributes %v, want %v", version, got.Attributes, want.Attributes)
	}
}
