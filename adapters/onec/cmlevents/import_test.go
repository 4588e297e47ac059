package cmlevents

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"stockd/reservation"
)

func newTestImport(tb testing.TB, cfg Config, store Store, sink Sink) *Import {
	tb.Helper()
	imp, err := NewImport(cfg, store, sink, importTime)
	if err != nil {
		tb.Fatalf("NewImport: %v", err)
	}
	return imp
}

func finish(tb testing.TB, imp *Import) Summary {
	tb.Helper()
	sum, err := imp.Finish(context.Background())
	if err != nil {
		tb.Fatalf("Finish: %v", err)
	}
	return sum
}

// stockOf returns sku→warehouse→qty of the stock.set events.
func stockOf(evs []reservation.Event) map[string]map[string]int64 {
	out := map[string]map[string]int64{}
	for _, ev := range ofType(evs, reservation.EventStockSet) {
		if out[ev.SKU] == nil {
			out[ev.SKU] = map[string]int64{}
		}
		out[ev.SKU][ev.Warehouse] = ev.Qty
	}
	return out
}

func TestFullSnapshotReportsMissingOffers(t *testing.T) {
	store := NewMemoryStore(0, 1000)
	cfg := DefaultConfig("ut")
	// First exchange: changes only, three offers.
	imp := newTestImport(t, cfg, store, &recorder{})
	readDoc(t, imp, "offers.xml", offersDoc("2026-01-01T10:00:00", ` СодержитТолькоИзменения="true"`,
		offer("a", "w1=1")+offer("b", "w1=2", "w2=3")+offer("c", "w1=4", "w2=5")))
	if sum := finish(t, imp); sum.FullSnapshots != 0 || sum.MissingCount != 0 {
		t.Fatalf("changes only: %+v", sum)
	}
	// An offer of another catalog is never reported missing from "cat".
	if err := store.Remember(context.Background(), "ut", "other", []KnownOffer{{SKU: "x", Warehouses: []string{"w1"}}}); err != nil {
		t.Fatal(err)
	}

	// Second: a full snapshot without c. Reported, not zeroed.
	sink := &recorder{}
	imp = newTestImport(t, cfg, store, sink)
	readDoc(t, imp, "offers.xml", offersDoc("2026-01-02T10:00:00", ` СодержитТолькоИзменения="false"`, offer("a", "w1=1")+offer("b", "w1=2")))
	sum := finish(t, imp)
	if sum.FullSnapshots != 1 || sum.MissingCount != 1 || !slices.Equal(sum.Missing, []string{"c"}) || sum.Zeroed != 0 {
		t.Fatalf("report only: snapshots %d missing %d %v zeroed %d", sum.FullSnapshots, sum.MissingCount, sum.Missing, sum.Zeroed)
	}
	if got := stockOf(sink.events(t))["c"]; got != nil {
		t.Fatalf("c was zeroed without ZeroMissing: %v", got)
	}

	// Third: the same snapshot with ZeroMissing: c gets 0 in both warehouses it had.
	cfg.ZeroMissing = true
	sink = &recorder{}
	imp = newTestImport(t, cfg, store, sink)
	readDoc(t, imp, "offers.xml", offersDoc("2026-01-03T10:00:00", ` СодержитТолькоИзменения="false"`, offer("a", "w1=1")+offer("b", "w1=2")))
	sum = finish(t, imp)
	evs := sink.events(t)
	if got, want := stockOf(evs)["c"], map[string]int64{"w1": 0, "w2": 0}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("c zeroed: got %v, want %v", got, want)
	}
	if sum.Zeroed != 2 || sum.MissingCount != 1 {
		t.Fatalf("zeroed %d missing %d, want 2, 1", sum.Zeroed, sum.MissingCount)
	}
	// The zeroes come after the snapshot's figures and carry its time.
	last := evs[len(evs)-1]
	if last.SKU != "c" || !last.At.Equal(time.Date(2026, 1, 3, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("last event %+v", last)
	}
	checkSeqs(t, evs, evs[0].Seq)

	// Zeroed offers are forgotten: the next snapshot reports nothing.
	imp = newTestImport(t, cfg, store, &recorder{})
	readDoc(t, imp, "offers.xml", offersDoc("2026-01-04T10:00:00", ` СодержитТолькоИзменения="false"`, offer("a", "w1=1")+offer("b", "w1=2")))
	if sum := finish(t, imp); sum.MissingCount != 0 {
		t.Fatalf("after zeroing: missing %v", sum.Missing)
	}
}

// A snapshot split over two files of one exchange is judged whole.
func TestSnapshotSplitOverFiles(t *testing.T) {
	store := NewMemoryStore(0, 1000)
	cfg := DefaultConfig("ut")
	imp := newTestImport(t, cfg, store, &recorder{})
	readDoc(t, imp, "offers.xml", offersDoc("2026-01-01T10:00:00", ` СодержитТолькоИзменения="true"`, offer("a", "w=1")+offer("b", "w=1")))
	finish(t, imp)
	imp = newTestImport(t, cfg, store, &recorder{})
	readDoc(t, imp, "offers___1.xml", offersDoc("2026-01-02T10:00:00", ` СодержитТолькоИзменения="false"`, offer("a", "w=1")))
	readDoc(t, imp, "offers___2.xml", offersDoc("2026-01-02T10:00:00", ` СодержитТолькоИзменения="false"`, offer("b", "w=1")))
	if sum := finish(t, imp); sum.MissingCount != 0 || sum.FullSnapshots != 1 {
		t.Fatalf("split snapshot: %+v", sum)
	}
}

func TestUnspecifiedModeIsFullOnlyWhenConfigured(t *testing.T) {
	for _, full := range []bool{false, true} {
		store := NewMemoryStore(0, 1000)
		cfg := DefaultConfig("ut")
		cfg.UnspecifiedIsFull = full
		imp := newTestImport(t, cfg, store, &recorder{})
		readDoc(t, imp, "offers.xml", offersDoc("2026-01-01T10:00:00", "", offer("a", "w=1")+offer("b", "w=1")))
		finish(t, imp)
		imp = newTestImport(t, cfg, store, &recorder{})
		readDoc(t, imp, "offers.xml", offersDoc("2026-01-02T10:00:00", "", offer("a", "w=1")))
		sum := finish(t, imp)
		if got, want := sum.MissingCount, map[bool]int{false: 0, true: 1}[full]; got != want {
			t.Errorf("UnspecifiedIsFull=%v: missing %d, want %d", full, got, want)
		}
	}
}

func TestStockFigures(t *testing.T) {
	cfg := DefaultConfig("ut")
	cfg.Warehouses["g1"] = "wh-a"
	cfg.Warehouses["g2"] = "wh-a" // two 1C warehouses into one of ours: summed exactly
	cfg.DefaultWarehouse = "wh-main"
	sink := &recorder{}
	imp := newTestImport(t, cfg, NewMemoryStore(0, 1000), sink)
	body := offer("frac", "g3=2.7") + offer("neg", "g3=-0.5") + offer("halves", "g1=0.5", "g2=0.5") +
		offer("empty", "g3=") + offer("none") +
		`<Предложение><Ид>total</Ид><Количество>1.0000</Количество></Предложение>` +
		`<Предложение><Ид>rest-total</Ид><Остатки><Остаток><Количество>765</Количество></Остаток></Остатки></Предложение>` +
		`<Предложение><Ид>deleted</Ид><ПометкаУдаления>true</ПометкаУдаления><Количество>5</Количество></Предложение>`
	readDoc(t, imp, "offers.xml", offersDoc("2026-01-01T10:00:00", "", body))
	sum := finish(t, imp)
	evs := sink.events(t)
	got := stockOf(evs)
	want := map[string]map[string]int64{
		"frac":       {"g3": 2},
		"neg":        {"g3": -1},
		"halves":     {"wh-a": 1},
		"empty":      {"g3": 0},
		"total":      {"wh-main": 1},
		"rest-total": {"wh-main": 765},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("stock:\ngot  %v\nwant %v", got, want)
	}
	if sum.Fractional != 2 || sum.Negative != 1 || sum.NoStock != 1 || sum.TotalOnly != 2 || sum.Deletes != 1 {
		t.Errorf("fractional %d negative %d no-stock %d total-only %d deletes %d; want 2 1 1 2 1",
			sum.Fractional, sum.Negative, sum.NoStock, sum.TotalOnly, sum.Deletes)
	}
	if dels := ofType(evs, reservation.EventItemDelete); len(dels) != 1 || dels[0].SKU != "deleted" {
		t.Errorf("item.delete: %+v", dels)
	}
}

func TestPrices(t *testing.T) {
	cfg := DefaultConfig("ut")
	cfg.PriceTypes["pt-rub"] = "base"
	cfg.PriceTypes["pt-usd"] = "usd"
	cfg.PriceTypes["pt-none"] = "nocur"
	sink := &recorder{}
	imp := newTestImport(t, cfg, NewMemoryStore(0, 1000), sink)
	price := func(pt, value, cur, factor string) string {
		s := "<Цена><ИдТипаЦены>" + pt + "</ИдТипаЦены><ЦенаЗаЕдиницу>" + value + "</ЦенаЗаЕдиницу>"
		if cur != "" {
			s += "<Валюта>" + cur + "</Валюта>"
		}
		if factor != "" {
			s += "<Коэффициент>" + factor + "</Коэффициент>"
		}
		return s + "</Цена>"
	}
	body := `<Предложение><Ид>p1</Ид><Цены>` +
		price("pt-rub", "2042.66", "руб", "") + price("pt-usd", "10500", "USD", "1") + price("pt-other", "1", "RUB", "") +
		price("pt-none", "5", "", "") + `</Цены></Предложение>` +
		`<Предложение><Ид>p2</Ид><Цены>` + price("pt-rub", "1 234,50", "RUB", "") + price("pt-usd", "3", "USD", "10") + `</Цены></Предложение>`
	readDoc(t, imp, "offers.xml", offersDoc("2026-01-01T10:00:00", "", body))
	sum := finish(t, imp)
	var got []string
	for _, ev := range ofType(sink.events(t), reservation.EventPriceSet) {
		got = append(got, ev.SKU+" "+ev.PriceType+" "+ev.Price.String()+" "+ev.Currency)
	}
	want := []string{"p1 base 2042.66 RUB", "p1 usd 10500 USD", "p2 base 1234.50 RUB"}
	if !slices.Equal(got, want) {
		t.Errorf("prices:\ngot  %q\nwant %q", got, want)
	}
	// pt-other: not configured; pt-none: no currency and no default; Коэффициент 10: skipped.
	if sum.PricesSkipped != 1 || sum.Dropped != 2 {
		t.Errorf("skipped %d dropped %d, want 1 and 2", sum.PricesSkipped, sum.Dropped)
	}
	// each warning names the document its line is in
	for _, w := range sum.Warnings {
		if w.Line > 0 && w.File != "offers.xml" {
			t.Errorf("warning %s at line %d names file %q, want offers.xml", w.Code, w.Line, w.File)
		}
	}
	if len(sum.Warnings) == 0 {
		t.Error("no warnings for the skipped and dropped prices")
	}

	// A default currency fills the missing one.
	cfg.DefaultCurrency = "RUB"
	sink = &recorder{}
	imp = newTestImport(t, cfg, NewMemoryStore(0, 1000), sink)
	readDoc(t, imp, "offers.xml", offersDoc("2026-01-01T10:00:00", "", body))
	finish(t, imp)
	n := 0
	for _, ev := range ofType(sink.events(t), reservation.EventPriceSet) {
		if ev.PriceType == "nocur" && ev.Currency == "RUB" && ev.Price.String() == "5" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("price with the default currency: %d events", n)
	}
}

func TestProducts(t *testing.T) {
	doc := `<?xml version="1.0" encoding="UTF-8"?>
<КоммерческаяИнформация ВерсияСхемы="2.07" ДатаФормирования="2026-01-01T10:00:00">
<Каталог СодержитТолькоИзменения="false"><Ид>cat</Ид><Наименование>c</Наименование><Товары>
<Товар><Ид>g1</Ид><Штрихкод>4600000000001</Штрихкод><Артикул>A-1</Артикул><Наименование>Чайник</Наименование></Товар>
<Товар Статус="Удален"><Ид>g2</Ид><Наименование>old</Наименование></Товар>
<Товар><Ид>g3</Ид><Наименование>Доставка</Наименование><ЗначенияРеквизитов><ЗначениеРеквизита><Наименование>ТипНоменклатуры</Наименование><Значение>Услуга</Значение></ЗначениеРеквизита></ЗначенияРеквизитов></Товар>
<Товар><Ид>g4</Ид><Наименование>` + strings.Repeat("я", 600) + `</Наименование></Товар>
<Товар><Ид>` + strings.Repeat("x", 81) + `</Ид><Наименование>long id</Наименование></Товар>
</Товары></Каталог></КоммерческаяИнформация>`
	sink := &recorder{}
	imp := newTestImport(t, DefaultConfig("ut"), NewMemoryStore(0, 1000), sink)
	readDoc(t, imp, "import.xml", doc)
	sum := finish(t, imp)
	evs := sink.events(t)
	ups := ofType(evs, reservation.EventItemUpsert)
	if len(ups) != 2 || ups[0].SKU != "g1" || ups[0].Article != "A-1" || ups[0].Name != "Чайник" || !slices.Equal(ups[0].Barcodes, []string{"4600000000001"}) {
		t.Fatalf("item.upsert: %+v", ups)
	}
	if n := len(ups[1].Name); n > reservation.MaxTextBytes || n < reservation.MaxTextBytes-1 || !strings.HasPrefix(ups[1].Name, "яя") {
		t.Errorf("truncated name: %d bytes", n)
	}
	if dels := ofType(evs, reservation.EventItemDelete); len(dels) != 1 || dels[0].SKU != "g2" {
		t.Errorf("item.delete: %+v", dels)
	}
	// The 81-byte id cannot be an event SKU: dropped with a warning.
	if sum.Services != 1 || sum.Items != 2 || sum.Deletes != 1 || sum.Dropped != 1 {
		t.Errorf("services %d items %d deletes %d dropped %d; want 1 2 1 1", sum.Services, sum.Items, sum.Deletes, sum.Dropped)
	}
}

// Events go out in batches of at most MaxBatchEvents, seqs contiguous across batches
// and across imports of one source.
func TestBatchesAndSeqs(t *testing.T) {
	cfg := DefaultConfig("ut")
	cfg.MaxBatchEvents = 10
	store := NewMemoryStore(41, 1000)
	sink := &recorder{}
	var body strings.Builder
	for i := range 35 {
		body.WriteString(offer(fmt.Sprintf("o%02d", i), "w=1"))
	}
	for range 2 {
		imp := newTestImport(t, cfg, store, sink)
		readDoc(t, imp, "offers.xml", offersDoc("2026-01-01T10:00:00", "", body.String()))
		sum := finish(t, imp)
		if sum.Events != 35 || sum.Batches != 4 {
			t.Fatalf("events %d batches %d, want 35, 4", sum.Events, sum.Batches)
		}
	}
	for i, b := range sink.batches {
		if len(b) > 10 {
			t.Fatalf("batch %d has %d events", i, len(b))
		}
	}
	evs := sink.events(t)
	if len(evs) != 70 {
		t.Fatalf("events: %d", len(evs))
	}
	checkSeqs(t, evs, 42)
	if got := store.LastSeq("ut"); got != 41+70 {
		t.Fatalf("last seq %d", got)
	}
}

func TestPublishError(t *testing.T) {
	sink := &recorder{fail: errSinkDown}
	imp := newTestImport(t, DefaultConfig("ut"), NewMemoryStore(0, 1000), sink)
	readDoc(t, imp, "offers.xml", offersDoc("2026-01-01T10:00:00", "", offer("a", "w=1")))
	_, err := imp.Finish(context.Background())
	var pe *PublishError
	if !errors.As(err, &pe) || !errors.Is(err, errSinkDown) || pe.Events != 1 {
		t.Fatalf("Finish: %v", err)
	}
}

func TestEventTime(t *testing.T) {
	msk := time.FixedZone("MSK", 3*3600)
	for _, tc := range []struct {
		generated string
		useImport bool
		want      time.Time
	}{
		{"2025-01-01T10:00:00", false, time.Date(2025, 1, 1, 10, 0, 0, 0, msk)},
		{"2014-06-01T0:36:33", false, time.Date(2014, 6, 1, 0, 36, 33, 0, msk)},
		{"2008-03-28", false, time.Date(2008, 3, 28, 0, 0, 0, 0, msk)},
		{"2027-01-01T00:00:00", false, importTime}, // later than the import: capped
		{"yesterday", false, importTime},
		{"2025-01-01T10:00:00", true, importTime},
	} {
		cfg := DefaultConfig("ut")
		cfg.Location = msk
		cfg.UseImportTime = tc.useImport
		sink := &recorder{}
		imp := newTestImport(t, cfg, NewMemoryStore(0, 1000), sink)
		readDoc(t, imp, "offers.xml", offersDoc(tc.generated, "", offer("a", "w=1")))
		finish(t, imp)
		if got := sink.events(t)[0].At; !got.Equal(tc.want) {
			t.Errorf("%q (import time %v): at %v, want %v", tc.generated, tc.useImport, got, tc.want)
		}
	}
}

func TestParseGeneratedAt(t *testing.T) {
	for _, tc := range []struct {
		in   string
		ok   bool
		want time.Time
	}{
		{"2020-04-07T12:08:44", true, time.Date(2020, 4, 7, 12, 8, 44, 0, time.UTC)},
		{"2014-11-25T8:00:00", true, time.Date(2014, 11, 25, 8, 0, 0, 0, time.UTC)},
		{"2014-11-25 08:00", true, time.Date(2014, 11, 25, 8, 0, 0, 0, time.UTC)},
		{"2014-11-25T08:00:00.5", true, time.Date(2014, 11, 25, 8, 0, 0, 5e8, time.UTC)},
		{"2026-11-21T10:00:00+03:00", true, time.Date(2026, 11, 21, 7, 0, 0, 0, time.UTC)},
		{"2025-02-30", false, time.Time{}},
		{"2025-01-01T25:00:00", false, time.Time{}},
		{"25-01-01", false, time.Time{}},
		{"2025-01-01T-1:00:00", false, time.Time{}},
		{"", false, time.Time{}},
	} {
		got, ok := ParseGeneratedAt(tc.in, time.UTC)
		if ok != tc.ok || (ok && !got.Equal(tc.want)) {
			t.Errorf("ParseGeneratedAt(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestMemoryStoreSaveLoad(t *testing.T) {
	ctx := context.Background()
	s := NewMemoryStore(7, 10)
	if _, err := s.ReserveSeqs(ctx, "ut", 5); err != nil {
		t.Fatal(err)
	}
	if err := s.Remember(ctx, "ut", "cat", []KnownOffer{{SKU: "a", Warehouses: []string{"w1"}}, {SKU: "b"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Remember(ctx, "ut", "cat", []KnownOffer{{SKU: "a", Warehouses: []string{"w2", "w1"}}}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := s.Save(&buf); err != nil {
		t.Fatal(err)
	}
	l, err := LoadMemoryStore(bytes.NewReader(buf.Bytes()), 10)
	if err != nil {
		t.Fatal(err)
	}
	if first, _ := l.ReserveSeqs(ctx, "ut", 1); first != 13 {
		t.Errorf("seq after load: %d, want 13", first)
	}
	if first, _ := l.ReserveSeqs(ctx, "new", 1); first != 8 {
		t.Errorf("seq of a new source: %d, want 8", first)
	}
	var got []string
	_ = l.Missing(ctx, "ut", "cat", func(string) bool { return false }, func(o KnownOffer) error {
		got = append(got, o.SKU+":"+strings.Join(o.Warehouses, ","))
		return nil
	})
	if want := []string{"a:w1,w2", "b:"}; !slices.Equal(got, want) {
		t.Errorf("known after load: %q, want %q", got, want)
	}
	// The bound holds.
	err = l.Remember(ctx, "ut", "cat2", []KnownOffer{{SKU: "1"}, {SKU: "2"}, {SKU: "3"}, {SKU: "4"}, {SKU: "5"}, {SKU: "6"}, {SKU: "7"}, {SKU: "8"}, {SKU: "9"}})
	if !errors.Is(err, ErrStoreFull) || l.Known() != 10 {
		t.Errorf("over MaxKnownOffers: %v, %d known", err, l.Known())
	}
}

func TestConfigValidate(t *testing.T) {
	for name, mutate := range map[string]func(*Config){
		"no source":        func(c *Config) { c.Source = "" },
		"long source":      func(c *Config) { c.Source = strings.Repeat("s", MaxSourceBytes+1) },
		"bad currency":     func(c *Config) { c.DefaultCurrency = "руб" },
		"empty mapping":    func(c *Config) { c.Warehouses["g"] = "" },
		"empty price type": func(c *Config) { c.PriceTypes[""] = "base" },
		"zero batch":       func(c *Config) { c.MaxBatchEvents = 0 },
	} {
		cfg := DefaultConfig("ut")
		mutate(&cfg)
		if err := cfg.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := DefaultConfig("ut").Validate(); err != nil {
		t.Errorf("default: %v", err)
	}
}
