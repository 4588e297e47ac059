package engine

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"stockd/adapters/onec/commerceml"
	"stockd/adapters/onec/exchange"
	"stockd/adapters/testsvc"
	"stockd/reservation"
)

const (
	saleLogin    = "ut11"
	salePassword = "exchange-secret"
)

// saleConfig is an engine with one 1C exchange account over kfake.
func saleConfig(tb testing.TB, handoffOnSuccess bool) Config {
	tb.Helper()
	dir := tb.TempDir()
	cfg := testConfig(filepath.Join(dir, "journal"))
	cfg.Kafka = uniqueTopics(tb)
	cfg.Kafka.Brokers = testsvc.Kfake(tb, 2, cfg.Kafka.EventsTopic, cfg.Kafka.DLQTopic, cfg.Kafka.OrdersTopic)
	cfg.OneC.Exchange.Accounts = []exchange.Account{{Login: saleLogin, PasswordHash: exchange.HashPasswordSHA256(salePassword),
		OrdersContainer: true, OrdersSchemaVersion: "3.1"}}
	cfg.OneC.HandoffOnSuccess = handoffOnSuccess
	cfg.OneC.TimeZone = "Europe/Moscow"
	return cfg
}

// oneCSale plays 1C's side of type=sale over HTTP, as 1C drives it.
type oneCSale struct {
	tb     testing.TB
	base   string
	cookie string
}

func (c *oneCSale) do(method, mode, filename string, body []byte) []byte {
	c.tb.Helper()
	return c.request(method, "sale", mode, filename, body)
}

// doType is a call of another exchange type (catalog), as 1C makes it:
// POST with a body, GET without.
func (c *oneCSale) doType(typ, mode, filename string, body []byte) []byte {
	c.tb.Helper()
	method := "GET"
	if body != nil {
		method = "POST"
	}
	return c.request(method, typ, mode, filename, body)
}

func (c *oneCSale) request(method, typ, mode, filename string, body []byte) []byte {
	c.tb.Helper()
	q := url.Values{"type": {typ}, "mode": {mode}}
	if filename != "" {
		q.Set("filename", filename)
	}
	req, err := http.NewRequest(method, c.base+"/1c/exchange?"+q.Encode(), bytes.NewReader(body))
	if err != nil {
		c.tb.Fatal(err)
	}
	if mode == "checkauth" {
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(saleLogin+":"+salePassword)))
	} else {
		req.Header.Set("Cookie", c.cookie)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		c.tb.Fatalf("%s: %v", mode, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		c.tb.Fatalf("%s: %d %v %q", mode, resp.StatusCode, err, data)
	}
	return data
}

// begin is checkauth and init.
func (c *oneCSale) begin() {
	c.tb.Helper()
	lines := strings.Split(string(c.do("GET", "checkauth", "", nil)), "\n")
	if len(lines) < 3 || lines[0] != "success" {
		c.tb.Fatalf("checkauth: %q", lines)
	}
	c.cookie = lines[1] + "=" + lines[2]
	if init := string(c.do("GET", "init", "", nil)); !strings.HasPrefix(init, "zip=") {
		c.tb.Fatalf("init: %q", init)
	}
}

// query takes the orders and reads them back with the project's reader.
func (c *oneCSale) query() []commerceml.Order {
	c.tb.Helper()
	doc := c.do("GET", "query", "", nil)
	r, err := commerceml.NewReader(commerceml.DefaultLimits())
	if err != nil {
		c.tb.Fatal(err)
	}
	var got []commerceml.Order
	var warnings []commerceml.Warning
	_, err = r.Read(context.Background(), "query.xml", bytes.NewReader(doc), commerceml.VisitorFuncs{
		OnOrder:   func(_ context.Context, o commerceml.Order) error { got = append(got, o); return nil },
		OnWarning: func(_ context.Context, w commerceml.Warning) error { warnings = append(warnings, w); return nil },
	})
	if err != nil || len(warnings) > 0 {
		c.tb.Fatalf("query document: %v, warnings %v\n%s", err, warnings, doc)
	}
	return got
}

func (c *oneCSale) success() {
	c.tb.Helper()
	if got := string(c.do("GET", "success", "", nil)); got != "success" {
		c.tb.Fatalf("success: %q", got)
	}
}

// confirmedSiteHold holds and confirms a website order over the API.
func confirmedSiteHold(tb testing.TB, te *testEngine, id, sku string, qty int) {
	tb.Helper()
	body := `{"id":"` + id + `","channel":"site","lines":[{"sku":"` + sku + `","qty":` + strconv.Itoa(qty) + `}]}`
	wantStatus(tb, call(tb, "POST", te.base+"/v1/reservations", testKey, body), 201, "")
	wantStatus(tb, call(tb, "POST", te.base+"/v1/reservations/"+id+"/confirm", testKey, "{}"), 200, "")
}

// marketOrder records a marketplace order as the intake does.
func marketOrder(tb testing.TB, te *testEngine, id, channel, sku string, qty int64) {
	tb.Helper()
	if _, _, err := (orderLedger{te.eng}).RecordOrder(context.Background(), id, channel,
		[]reservation.Line{{SKU: sku, Qty: qty}}); err != nil {
		tb.Fatalf("record %s: %v", id, err)
	}
}

func holdState(tb testing.TB, te *testEngine, id string) reservation.HoldState {
	tb.Helper()
	h, err := te.eng.Hold(context.Background(), id)
	if err != nil {
		tb.Fatalf("hold %s: %v", id, err)
	}
	return h.State
}

// stockEvent applies a stock.set naming holds, as 1C's figure after it
// booked them.
func stockEvent(tb testing.TB, te *testEngine, sku string, qty, offset int64, handoff ...string) {
	tb.Helper()
	ev := reservation.Event{V: 1, ID: fmt.Sprintf("fig-%d", offset), Source: "ut11", Seq: uint64(offset),
		At: time.Unix(1_800_000_000+offset, 0), Type: reservation.EventStockSet, SKU: sku, Warehouse: "wh-msk",
		Qty: qty, Handoff: handoff}
	res, err := te.eng.ApplyEvents(context.Background(), []SourcedEvent{{Event: ev,
		Source: reservation.Source{Topic: "onec.events", Partition: 0, Offset: offset}}})
	if err != nil || res[0].Err != nil {
		tb.Fatalf("stock.set %s=%d handoff %v: %v %+v", sku, qty, handoff, err, res)
	}
}

// TestSaleExchangeAsOneCDrivesIt: checkauth → init → query → success over
// HTTP returns the confirmed website and marketplace holds as documents
// the CommerceML reader reads without a warning, marks them taken, and
// (handoff_on_success off) leaves the holds to 1C's figures.
func TestSaleExchangeAsOneCDrivesIt(t *testing.T) {
	te := startEngine(t, saleConfig(t, false), Deps{})
	setStock(t, te.eng, "sku-1", "wh-msk", 10, 1)
	confirmedSiteHold(t, te, "L1", "sku-1", 3)
	wantStatus(t, call(t, "POST", te.base+"/v1/reservations", testKey,
		`{"id":"L2","channel":"site","lines":[{"sku":"sku-1","qty":1}]}`), 201, "") // held, not confirmed
	marketOrder(t, te, "ozon:4000-1", "ozon", "sku-1", 2)

	c := &oneCSale{tb: t, base: te.base}
	c.begin()
	got := c.query()
	if len(got) != 2 {
		t.Fatalf("query: %d orders, want the 2 confirmed ones: %+v", len(got), got)
	}
	for i, want := range []struct{ id, channel string }{{"L1", "site"}, {"ozon:4000-1", "ozon"}} {
		o := got[i]
		if o.ID != want.id || o.Number != want.id || o.Operation != commerceml.OrderOperation || len(o.Lines) != 1 ||
			o.Lines[0].ProductID != "sku-1" || o.Counterparty.ID != "stockd#"+want.channel {
			t.Errorf("order %d = %+v, want %s of %s", i, o, want.id, want.channel)
		}
	}
	c.success()
	if again := c.query(); len(again) != 0 {
		t.Fatalf("query after success: %d orders, want none", len(again))
	}
	c.success()
	for _, id := range []string{"L1", "ozon:4000-1"} {
		if got, want := holdState(t, te, id), reservation.HoldConfirmed; got != want {
			t.Errorf("%s after success = %v, want %v (handoff_on_success off)", id, got, want)
		}
	}
	if got, want := siteAvailable(t, te, "sku-1"), int64(10-3-1-2); got != want {
		t.Fatalf("available = %d, want %d", got, want)
	}

	// A new order is served to the next exchange; the old ones are not.
	confirmedSiteHold(t, te, "L3", "sku-1", 1)
	c.begin()
	if got := c.query(); len(got) != 1 || got[0].ID != "L3" {
		t.Fatalf("next exchange: %+v, want L3 only", got)
	}
}

// TestSaleFileReportsOrderStates: 1C uploads the state of the orders it
// took (type=sale&mode=file, in two chunks); the exchange reads it once
// whole and the source counts the cancelled and shipped ones.
func TestSaleFileReportsOrderStates(t *testing.T) {
	te := startEngine(t, saleConfig(t, false), Deps{})
	setStock(t, te.eng, "sku-1", "wh-msk", 10, 1)
	confirmedSiteHold(t, te, "L1", "sku-1", 1)
	confirmedSiteHold(t, te, "L2", "sku-1", 1)
	c := &oneCSale{tb: t, base: te.base}
	c.begin()
	if got := c.query(); len(got) != 2 {
		t.Fatalf("query: %d orders", len(got))
	}
	c.success()
	doc := []byte(`<?xml version="1.0" encoding="UTF-8"?>
<КоммерческаяИнформация xmlns="urn:1C.ru:commerceml_3" ВерсияСхемы="3.1" ДатаФормирования="2026-11-21T10:00:00">
<Контейнер><Документ><Ид>L1</Ид><Номер>L1</Номер><Номер1С>УТ-000123  </Номер1С><Дата>2026-11-21</Дата>
<ХозОперация>Заказ товара</ХозОперация><Роль>Продавец</Роль><Валюта>руб</Валюта><Курс>1</Курс><Сумма>0</Сумма>
<ЗначенияРеквизитов><ЗначениеРеквизита><Наименование>Отменен</Наименование><Значение>true</Значение></ЗначениеРеквизита></ЗначенияРеквизитов>
</Документ></Контейнер>
<Контейнер><Документ><Ид>L2</Ид><Номер>L2</Номер><Дата>2026-11-21</Дата>
<ХозОперация>Заказ товара</ХозОперация><Роль>Продавец</Роль><Валюта>руб</Валюта><Курс>1</Курс><Сумма>0</Сумма>
<ЗначенияРеквизитов><ЗначениеРеквизита><Наименование>Отгружен</Наименование><Значение>true</Значение></ЗначениеРеквизита></ЗначенияРеквизитов>
</Документ></Контейнер>
<Контейнер><Документ><Ид>999</Ид><Номер>999</Номер><Дата>2026-11-21</Дата>
<ХозОперация>Заказ товара</ХозОперация><Роль>Продавец</Роль><Валюта>руб</Валюта><Курс>1</Курс><Сумма>0</Сумма>
</Документ></Контейнер>
</КоммерческаяИнформация>`)
	half := len(doc) / 2
	for _, chunk := range [][]byte{doc[:half], doc[half:]} {
		if got := string(c.do("POST", "file", `C:\v8_8789_c.xml`, chunk)); got != "success" {
			t.Fatalf("file chunk: %q", got)
		}
	}
	if got := string(c.do("GET", "import", "v8_8789_c.xml", nil)); got != "success" {
		t.Fatalf("import: %q", got)
	}
	st := te.eng.handoff.source.UpdateStats()
	if st.Files != 1 || st.Orders != 3 || st.Ours != 2 || st.Cancelled != 1 || st.Shipped != 1 {
		t.Fatalf("update stats = %+v, want 1 file, 3 orders, 2 ours, 1 cancelled, 1 shipped", st)
	}
	if got, want := holdState(t, te, "L1"), reservation.HoldConfirmed; got != want {
		t.Fatalf("L1 after 1C cancelled it = %v, want %v (reported, not released)", got, want)
	}
}

// TestHandoffOnSuccessConsumesOnce: with handoff_on_success, success hands
// the holds off in the same step; 1C's figure that names a hold later, a
// repeated success and a hand-off of a hold a figure consumed first change
// nothing: every unit is subtracted exactly once.
func TestHandoffOnSuccessConsumesOnce(t *testing.T) {
	te := startEngine(t, saleConfig(t, true), Deps{})
	setStock(t, te.eng, "sku-1", "wh-msk", 10, 1)
	setStock(t, te.eng, "sku-2", "wh-msk", 10, 2)
	confirmedSiteHold(t, te, "L1", "sku-1", 3)
	marketOrder(t, te, "wildberries:77", "wildberries", "sku-1", 1)

	c := &oneCSale{tb: t, base: te.base}
	c.begin()
	if got := c.query(); len(got) != 2 {
		t.Fatalf("query: %d orders, want 2", len(got))
	}
	c.success()
	for _, id := range []string{"L1", "wildberries:77"} {
		if got, want := holdState(t, te, id), reservation.HoldHandedOff; got != want {
			t.Fatalf("%s after success = %v, want %v", id, got, want)
		}
	}
	// Before 1C's lower figure arrives its old one counts alone (the window
	// docs/ORDERS.md describes); the figure naming the holds then gives 6.
	if got, want := siteAvailable(t, te, "sku-1"), int64(10); got != want {
		t.Fatalf("available after success = %d, want %d", got, want)
	}
	stockEvent(t, te, "sku-1", 6, 10, "L1", "wildberries:77")
	if got, want := siteAvailable(t, te, "sku-1"), int64(6); got != want {
		t.Fatalf("available after the figure naming the holds = %d, want %d (no double count)", got, want)
	}
	c.success() // repeated: nothing was queried
	if n, err := te.eng.handoffHolds(context.Background(), []string{"L1", "wildberries:77", "no-such"}); err != nil || n != 0 {
		t.Fatalf("hand off again = %d, %v; want 0, nil", n, err)
	}

	// The other order: 1C's figure names the hold before any success.
	confirmedSiteHold(t, te, "L2", "sku-2", 2)
	stockEvent(t, te, "sku-2", 8, 11, "L2")
	if got, want := holdState(t, te, "L2"), reservation.HoldHandedOff; got != want {
		t.Fatalf("L2 after the figure = %v, want %v", got, want)
	}
	if got := c.query(); len(got) != 0 {
		t.Fatalf("query: %+v, want nothing (L2 is 1C's already)", got)
	}
	if n, err := te.eng.handoffHolds(context.Background(), []string{"L2"}); err != nil || n != 0 {
		t.Fatalf("hand off L2 = %d, %v; want 0, nil", n, err)
	}
	if got, want := siteAvailable(t, te, "sku-2"), int64(8); got != want {
		t.Fatalf("sku-2 available = %d, want %d", got, want)
	}
}
