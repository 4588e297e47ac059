package feeds

import (
	"errors"
	"strings"
	"testing"
)

func TestMappingCSVReportsBadRowsWithLines(t *testing.T) {
	csv := "sku,offer_id\n" +
		"a,OF-1\n" +
		"b," + strings.Repeat("x", 51) + "\n" + // over Ozon's 50 characters
		"# a comment\n" +
		"c,OF-1\n" + // offer_id taken by a
		"a,OF-3\n" + // sku repeated
		",OF-4\n" + // no sku
		"d, OF-5 \n" // spaces trimmed: valid
	m, err := ParseMapping(KindOzon, "ozon.csv", []byte(csv))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.Len(), 2; got != want {
		t.Fatalf("%d good rows, want %d", got, want)
	}
	var lines []int
	for _, b := range m.Bad {
		lines = append(lines, b.Line)
	}
	if got, want := lines, []int{3, 5, 6, 7}; !equalInts(got, want) {
		t.Fatalf("bad lines %v, want %v (%v)", got, want, m.Bad)
	}
	if !strings.Contains(m.Bad[0].Error(), "ozon.csv:3") || !strings.Contains(m.Bad[0].Error(), "longer than 50") {
		t.Fatalf("error %q names no line or reason", m.Bad[0].Error())
	}
	if o, ok := m.Lookup("d"); !ok || o.StockID != "OF-5" {
		t.Fatalf("Lookup(d) = %+v %v", o, ok)
	}
	if err := m.StrictError(); err == nil || !strings.Contains(err.Error(), "4 bad rows") {
		t.Fatalf("StrictError = %v", err)
	}
}

func TestMappingWildberriesYAML(t *testing.T) {
	y := `
- {sku: "g#s", chrt_id: 12345678, nm_id: 87654321}
- {sku: "g#m", chrt_id: 12345679, nm_id: 87654321}
- {sku: "g#l", chrt_id: abc, nm_id: 87654321}
- {sku: "h", offer_id: "X-1"}
`
	m, err := ParseMapping(KindWildberries, "wb.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	if m.Len() != 2 || len(m.Bad) != 2 || m.Bad[0].Line != 4 || m.Bad[1].Line != 5 {
		t.Fatalf("good %d bad %+v", m.Len(), m.Bad)
	}
	s, _ := m.Lookup("g#s")
	l, _ := m.Lookup("g#m")
	if !m.IsPriceSource(s) || m.IsPriceSource(l) {
		t.Fatal("the first size of a card must be its price source, and only it")
	}
}

func TestMappingYandexMarketAllowsSlash(t *testing.T) {
	m, err := ParseMapping(KindYandexMarket, "ym.csv", []byte("sku,offer_id\na,КР-7/2\nb,\"bad\x01\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Len() != 1 || len(m.Bad) != 1 || m.Bad[0].Line != 3 {
		t.Fatalf("good %d bad %v", m.Len(), m.Bad)
	}
}

func TestMappingStructuralErrors(t *testing.T) {
	for name, data := range map[string]string{
		"x.csv":  "",
		"y.csv":  "offer_id\nOF-1\n",
		"z.txt":  "sku,offer_id\n",
		"w.yaml": "sku: a\n",
	} {
		if _, err := ParseMapping(KindOzon, name, []byte(data)); !errors.Is(err, ErrMapping) {
			t.Errorf("%s: %v, want ErrMapping", name, err)
		}
	}
}

func TestBuildChannelStrictMappingRefusesToStart(t *testing.T) {
	cfg := ChannelConfig{Name: "oz", Kind: KindOzon, Warehouses: []TargetConfig{{ID: "1"}},
		Offers:  MappingConfig{File: "m.csv", Strict: true},
		Account: AccountConfig{ClientID: SecretRef{Env: "OZ_ID"}, APIKey: SecretRef{Env: "OZ_KEY"}}}
	d := Deps{Secrets: mapSecrets{"OZ_ID": "1", "OZ_KEY": "k"}, Now: nowFunc,
		ReadFile: func(string) ([]byte, error) { return []byte("sku,offer_id\na,OF-1\nb,\n"), nil }}
	if _, err := BuildChannel(cfg, d); err == nil || !strings.Contains(err.Error(), "m.csv:3") {
		t.Fatalf("strict mapping with a bad row: %v", err)
	}
	cfg.Offers.Strict = false
	ch, err := BuildChannel(cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	if ch.Offers.Len() != 1 || len(ch.Offers.Bad) != 1 || ch.Stock == nil || len(ch.Limiters) != 2 {
		t.Fatalf("channel %+v", ch)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
