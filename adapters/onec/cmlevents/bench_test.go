package cmlevents

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"stockd/adapters/onec/commerceml"
)

// BenchmarkImportOffers reads an offers file of 10 000 offers, each with 3 warehouse
// figures and 2 prices (one configured), into events published to a sink that
// discards them.
func BenchmarkImportOffers(b *testing.B) {
	const offers = 10_000
	var body strings.Builder
	for i := range offers {
		fmt.Fprintf(&body, `<Предложение><Ид>%08d-0000-0000-0000-000000000000#%08d-0000-0000-0000-000000000001</Ид><Наименование>offer %d</Наименование>`+
			`<Цены><Цена><ИдТипаЦены>base</ИдТипаЦены><ЦенаЗаЕдиницу>%d.50</ЦенаЗаЕдиницу><Валюта>руб</Валюта></Цена>`+
			`<Цена><ИдТипаЦены>other</ИдТипаЦены><ЦенаЗаЕдиницу>1</ЦенаЗаЕдиницу><Валюта>RUB</Валюта></Цена></Цены>`+
			`<Склад ИдСклада="w1" КоличествоНаСкладе="%d"/><Склад ИдСклада="w2" КоличествоНаСкладе="0"/><Склад ИдСклада="w3" КоличествоНаСкладе="1.5"/></Предложение>`+"\n",
			i, i, i, i, i%100)
	}
	doc := offersDoc("2026-01-01T10:00:00", ` СодержитТолькоИзменения="false"`, body.String())
	cfg := DefaultConfig("bench")
	cfg.PriceTypes["base"] = "base"
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		store := NewMemoryStore(0, offers)
		imp, err := NewImport(cfg, store, DiscardSink{}, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		r, _ := commerceml.NewReader(commerceml.DefaultLimits())
		if _, err := r.Read(ctx, "offers.xml", strings.NewReader(doc), imp); err != nil {
			b.Fatal(err)
		}
		sum, err := imp.Finish(ctx)
		if err != nil || sum.Events != offers*4 {
			b.Fatalf("events %d, err %v", sum.Events, err)
		}
	}
	b.ReportMetric(float64(offers*b.N)/b.Elapsed().Seconds(), "offers/s")
}
