package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// catalogExchange drives one catalog exchange as 1C does: checkauth, init,
// the file, import until success, complete.
func catalogExchange(tb testing.TB, te *testEngine, name, doc string) {
	tb.Helper()
	c := &oneCSale{tb: tb, base: te.base}
	c.begin()
	call := func(mode, filename string, body []byte) string {
		tb.Helper()
		// oneCSale speaks type=sale; the catalog exchange differs only in type.
		return string(c.doType("catalog", mode, filename, body))
	}
	if got := call("file", name, []byte(doc)); !strings.HasPrefix(got, "success") {
		tb.Fatalf("file: %q", got)
	}
	for i := 0; ; i++ {
		got := call("import", name, nil)
		if strings.HasPrefix(got, "success") {
			break
		}
		if !strings.HasPrefix(got, "progress") || i == 200 {
			tb.Fatalf("import: %q", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := call("complete", "", nil); !strings.HasPrefix(got, "success") {
		tb.Fatalf("complete: %q", got)
	}
}

func knownOffersDoc(full bool, offers ...string) string {
	mode := ` СодержитТолькоИзменения="false"`
	if !full {
		mode = ` СодержитТолькоИзменения="true"`
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<КоммерческаяИнформация ВерсияСхемы="2.08" ДатаФормирования="2026-11-22T10:00:00">
<ПакетПредложений` + mode + `><Ид>cat#</Ид><ИдКаталога>cat</ИдКаталога><Предложения>`)
	for _, o := range offers {
		b.WriteString(`<Предложение><Ид>` + o + `</Ид><Наименование>n</Наименование><Склад ИдСклада="wh-msk" КоличествоНаСкладе="7"/></Предложение>`)
	}
	b.WriteString(`</Предложения></ПакетПредложений></КоммерческаяИнформация>`)
	return b.String()
}

// TestKnownOffersSurviveRestart: the offers a full snapshot reported are
// kept in a file, so that after a restart the next full snapshot that
// lacks one still zeroes it (zero_missing).
func TestKnownOffersSurviveRestart(t *testing.T) {
	cfg := saleConfig(t, false)
	cfg.OneC.Exchange.Accounts[0].Events.ZeroMissing = true
	te := startEngine(t, cfg, Deps{})
	catalogExchange(t, te, "offers.xml", knownOffersDoc(true, "KO-A", "KO-B"))
	waitFor(t, "KO-B stocked", 10*time.Second, func() bool { return siteAvailable(t, te, "KO-B") == 7 })
	te.stop()

	file := cfg.dataFile(cfg.OneC.KnownOffersFile, "onec-known-offers.json")
	raw, err := os.ReadFile(file)
	if err != nil || !strings.Contains(string(raw), "KO-B") {
		t.Fatalf("known offers file %s after shutdown: %v %.200s", filepath.Base(file), err, raw)
	}

	te = startEngine(t, cfg, Deps{})
	defer te.stop()
	catalogExchange(t, te, "offers.xml", knownOffersDoc(true, "KO-A"))
	waitFor(t, "KO-B zeroed as missing from the snapshot", 10*time.Second, func() bool { return siteAvailable(t, te, "KO-B") == 0 })
	if got := siteAvailable(t, te, "KO-A"); got != 7 {
		t.Errorf("KO-A available %d, want 7", got)
	}
}
