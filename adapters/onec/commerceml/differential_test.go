package commerceml

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// The tokenizer-based reader must read every input exactly as the encoding/xml-based
// reference (xmlref_test.go) does: the same items, warnings (with their lines) and
// summary, or an error from both. The only intended difference: a second XML declaration
// that switches the encoding is refused (errSecondEncoding), where encoding/xml stacks
// another decoder.

// outcome is everything one read produced.
type outcome struct {
	items *items
	sum   Summary
	err   error
}

func readNew(r *Reader, name string, src io.Reader) outcome {
	it := &items{}
	sum, err := r.Read(context.Background(), name, src, it.visitor())
	return outcome{it, sum, err}
}

func readRef(r *Reader, name string, src io.Reader) outcome {
	it := &items{}
	sum, err := refRead(context.Background(), r, name, src, it.visitor())
	return outcome{it, sum, err}
}

// sameOutcome reports how two reads differ, or "" when they agree: both succeeded with
// equal results, or both failed.
func sameOutcome(got, want outcome) string {
	switch {
	case got.err != nil && want.err != nil:
		return ""
	case got.err != nil || want.err != nil:
		return fmt.Sprintf("errors differ:\n got  %v\n want %v", got.err, want.err)
	}
	if !reflect.DeepEqual(got.items, want.items) {
		return fmt.Sprintf("items differ:\n got  %+v\n want %+v", got.items, want.items)
	}
	if !reflect.DeepEqual(got.sum, want.sum) {
		return fmt.Sprintf("summaries differ:\n got  %+v\n want %+v", got.sum, want.sum)
	}
	return ""
}

// checkDifferential reads data with both readers (fresh ones with limits) and, with the
// new reader, once more one byte at a time, which puts every token across a buffer refill.
func checkDifferential(tb testing.TB, limits Limits, name string, data []byte) {
	tb.Helper()
	newReader := func() *Reader {
		r, err := NewReader(limits)
		if err != nil {
			tb.Fatal(err)
		}
		return r
	}
	got := readNew(newReader(), name, bytes.NewReader(data))
	if errors.Is(got.err, errSecondEncoding) {
		return
	}
	want := readRef(newReader(), name, bytes.NewReader(data))
	if diff := sameOutcome(got, want); diff != "" {
		tb.Fatalf("%s: tokenizer and encoding/xml readers disagree: %s\ninput %q", name, diff, truncateForLog(data))
	}
	if got.err != nil {
		var pe *ParseError
		if !errors.As(got.err, &pe) || pe.File != name || pe.Line < 1 {
			tb.Fatalf("%s: error %v is not a ParseError with a line", name, got.err)
		}
	}
	slow := readNew(newReader(), name, iotest.OneByteReader(bytes.NewReader(data)))
	if diff := sameOutcome(slow, got); diff != "" {
		tb.Fatalf("%s: one byte at a time differs: %s", name, diff)
	}
	// runGuard checks MaxTextBytes as input arrives, so how the input is cut into reads
	// may decide whether that limit or a later fault is found first.
	if got.err != nil && !errors.Is(got.err, ErrLimitExceeded) && slow.err.Error() != got.err.Error() {
		tb.Fatalf("%s: one byte at a time gives another error:\n got  %v\n want %v", name, slow.err, got.err)
	}
}

func truncateForLog(data []byte) []byte {
	if len(data) > 2000 {
		return data[:2000]
	}
	return data
}

// differentialInputs returns the real samples, the testdata files, a generated offers
// file and documents written by WriteOrders, by name.
func differentialInputs(tb testing.TB) map[string][]byte {
	tb.Helper()
	inputs := map[string][]byte{}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.xml"))
	for _, f := range files {
		inputs[f] = testdata(tb, filepath.Base(f))
	}
	if dir := filepath.Join(repoRoot(tb), "..", "shared", "samples", "commerceml"); dirExists(dir) {
		samples, _ := filepath.Glob(filepath.Join(dir, "*", "*.xml"))
		for _, f := range samples {
			data, err := os.ReadFile(f)
			if err != nil {
				tb.Fatal(err)
			}
			inputs[filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f)] = data
		}
	}
	var gen bytes.Buffer
	if err := writeOffersFile(&gen, 500, nil); err != nil {
		tb.Fatal(err)
	}
	inputs["generated-offers.xml"] = gen.Bytes()
	for _, enc := range []Encoding{EncodingUTF8, EncodingWindows1251} {
		var buf bytes.Buffer
		opts := WriteOptions{Encoding: enc, SchemaVersion: "2.05", GeneratedAt: fixedTime, Container: enc == EncodingUTF8}
		if err := WriteOrders(&buf, []Order{sampleOrder(), sampleOrder()}, opts); err != nil {
			tb.Fatal(err)
		}
		inputs[fmt.Sprintf("written-%d.xml", enc)] = buf.Bytes()
	}
	for name, doc := range tokenizerCorpus() {
		inputs["corpus/"+name] = []byte(doc)
	}
	return inputs
}

func dirExists(dir string) bool {
	info, err := os.Stat(dir)
	return err == nil && info.IsDir()
}

func cp1251(tb testing.TB, s string) string {
	tb.Helper()
	out, err := charmap.Windows1251.NewEncoder().String(s)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// tokenizerCorpus holds documents aimed at the tokenizer's corners, well-formed or not.
func tokenizerCorpus() map[string]string {
	offer := func(body string) string {
		return string(offersDoc(``, ``, body))
	}
	win := func(s string) string {
		out, _ := charmap.Windows1251.NewEncoder().String(s)
		return out
	}
	return map[string]string{
		"entities":        offer(`<Предложение><Ид>a&amp;b&#35;&#x23;c</Ид><Наименование>&lt;x&gt; &quot;q&quot; &apos;a&apos; &#1071;&#x44F;&#xD800;</Наименование><Количество>&#49;&#x32;</Количество></Предложение>`),
		"attr entities":   offer(`<Предложение Статус="&lt;&#x41;&gt;"><Ид>p</Ид><Склад ИдСклада='w&amp;1' КоличествоНаСкладе = "&#51;" /></Предложение>`),
		"crlf":            strings.ReplaceAll(offer("<Предложение>\r\n<Ид>p\r1\r\n2</Ид>\r<Склад ИдСклада=\"a\rb\r\nc\" КоличествоНаСкладе=\"1\"/></Предложение>"), "\n", "\r\n"),
		"cdata":           offer(`<Предложение><Ид><![CDATA[p<1>&amp;]]></Ид><Наименование>a<![CDATA[]]>b<![CDATA[x]y]]z]]]>c</Наименование><Количество><![CDATA[ 5 ]]></Количество></Предложение>`),
		"cdata crlf":      offer("<Предложение><Ид><![CDATA[a\r\nb\rc]]></Ид></Предложение>"),
		"comments":        offer(`<!----><Предложение><!-- a - b --><Ид>p<!--x-->1</Ид><!--<Ид>no</Ид>--><Количество>2</Количество></Предложение><!-- -->`),
		"pis":             offer(`<?pi?><Предложение><?target data ? > x?><Ид>p</Ид><?a-b.c ?></Предложение>`),
		"doctype":         `<?xml version="1.0"?><!DOCTYPE КоммерческаяИнформация [<!ENTITY x "y"> <!-- <> --> <!ELEMENT a (b)> '>' ">"]>` + offer(`<Предложение><Ид>p</Ид></Предложение>`)[len(`<?xml version="1.0" encoding="UTF-8"?>`):],
		"directive odd":   offer(`<Предложение><!'><!<x>><Ид>p</Ид><!x <!y> <!--a--> "'" ></Предложение>`),
		"prefixes":        `<c:КоммерческаяИнформация xmlns:c="urn:1C.ru:commerceml_2" c:ВерсияСхемы="2.08"><c:ПакетПредложений><c:Ид>x#</c:Ид><c:Предложения><c:Предложение><c:Ид>p</c:Ид><c:Склад c:ИдСклада="w" КоличествоНаСкладе="1"/></c:Предложение></c:Предложения></c:ПакетПредложений></c:КоммерческаяИнформация>`,
		"odd colons":      `<КоммерческаяИнформация><:ПакетПредложений><Предложения/></:ПакетПредложений><ПакетПредложений:><Предложения/></ПакетПредложений:></КоммерческаяИнформация>`,
		"two colons":      `<КоммерческаяИнформация><a:b:c/></КоммерческаяИнформация>`,
		"spaces in tags":  "<КоммерческаяИнформация\n\tВерсияСхемы\n=\n'2.07'  ><ПакетПредложений  ><Ид >x</Ид\n><Предложения/></ПакетПредложений\t></КоммерческаяИнформация >",
		"no attr space":   `<КоммерческаяИнформация ВерсияСхемы="2.07"ДатаФормирования="x"/>`,
		"bom only text":   "\ufeff \ufeff\n<КоммерческаяИнформация/>\n \t",
		"nbsp epilog":     "<КоммерческаяИнформация/>\u00a0\u2003",
		"self closing":    offer(`<Предложение/><Предложение><Ид/></Предложение><Предложение><Ид>p</Ид><Цены/><Остатки/><Склады/></Предложение>`),
		"names":           `<КоммерческаяИнформация><ÀÖ-ø.·̀ ÿ="1"/><Ё_ё.1/><ЀЍѐѝ/></КоммерческаяИнформация>`,
		"name digits":     `<КоммерческаяИнформация><1a/></КоммерческаяИнформация>`,
		"cp1251":          `<?xml version="1.0" encoding="windows-1251"?>` + win(offer(`<Предложение><Ид>p</Ид><Наименование>Кружка №1 «синяя» €</Наименование></Предложение>`)[len(`<?xml version="1.0" encoding="UTF-8"?>`):]),
		"cp1251 label":    `<?xml version='1.0' encoding='CP1251' standalone="yes"?>` + win(`<КоммерческаяИнформация><Каталог><Ид>к</Ид><Товары><Товар><Ид>т</Ид><Наименование>Товар</Наименование></Товар></Товары></Каталог></КоммерческаяИнформация>`),
		"utf8 declared":   `<?xml version="1.0" encoding="Utf-8"?><КоммерческаяИнформация/>`,
		"second decl":     `<КоммерческаяИнформация><?xml version="1.0" encoding="UTF-8"?></КоммерческаяИнформация>`,
		"late 1251":       `<КоммерческаяИнформация><Каталог><Ид>a</Ид><?xml encoding="windows-1251"?><Наименование>` + win("Каталог") + `</Наименование></Каталог></КоммерческаяИнформация>`,
		"bad version":     `<?xml version="1.1"?><КоммерческаяИнформация/>`,
		"koi8":            `<?xml version="1.0" encoding="koi8-r"?><КоммерческаяИнформация/>`,
		"bad entity":      offer(`<Предложение><Ид>&nbsp;</Ид></Предложение>`),
		"entity no semi":  offer(`<Предложение><Ид>&amp</Ид></Предложение>`),
		"entity space":    offer(`<Предложение><Ид>a & b</Ид></Предложение>`),
		"char ref 0":      offer(`<Предложение><Ид>&#0;</Ид></Предложение>`),
		"char ref big":    offer(`<Предложение><Ид>&#x110000;</Ид></Предложение>`),
		"char ref huge":   offer(`<Предложение><Ид>&#99999999999999999999999;</Ид></Предложение>`),
		"char ref empty":  offer(`<Предложение><Ид>&#;</Ид></Предложение>`),
		"char ref X":      offer(`<Предложение><Ид>&#X41;</Ид></Предложение>`),
		"char ref fffe":   offer(`<Предложение><Ид>&#xFFFE;</Ид></Предложение>`),
		"control char":    offer("<Предложение><Ид>a\x01b</Ид></Предложение>"),
		"control attr":    offer("<Предложение Статус=\"\x0b\"><Ид>a</Ид></Предложение>"),
		"fffe raw":        offer("<Предложение><Ид>a\uFFFEb</Ид></Предложение>"),
		"cdata control":   offer("<Предложение><Ид><![CDATA[\x02]]></Ид></Предложение>"),
		"cdata bad utf8":  offer("<Предложение><Ид><![CDATA[\xd0]]></Ид></Предложение>"),
		"comment utf8":    offer("<Предложение><!-- \xff\x01 --><Ид>p</Ид></Предложение>"),
		"bad utf8 attr":   offer("<Предложение Статус=\"\xd0\"><Ид>p</Ид></Предложение>"),
		"bad utf8 name":   "<КоммерческаяИнформация><a\xff/></КоммерческаяИнформация>",
		"cdata end text":  offer(`<Предложение><Ид>a]]>b</Ид></Предложение>`),
		"brackets":        offer(`<Предложение><Ид>a]]b]</Ид><Наименование>]</Наименование><Артикул>]]</Артикул></Предложение>`),
		"brackets attr":   offer(`<Предложение Статус="]]>"><Ид>p</Ид></Предложение>`),
		"lt in attr":      offer(`<Предложение Статус="<"><Ид>p</Ид></Предложение>`),
		"gt in attr":      offer(`<Предложение Статус="a>b"><Ид>p</Ид></Предложение>`),
		"unquoted attr":   `<КоммерческаяИнформация a=b/>`,
		"attr no value":   `<КоммерческаяИнформация a/>`,
		"slash space":     `<КоммерческаяИнформация/ >`,
		"end space":       `<КоммерческаяИнформация></КоммерческаяИнформация x>`,
		"comment dashes":  offer(`<!-- a -- b -->`),
		"comment 3dash":   offer(`<!-- a --->`),
		"bad bang":        offer(`<!-x->`),
		"bad cdata":       offer(`<![CDAT[x]]>`),
		"pi no target":    offer(`<? x?>`),
		"unclosed pi":     `<КоммерческаяИнформация><?x `,
		"unclosed cmt":    `<КоммерческаяИнформация><!-- `,
		"unclosed cdata":  `<КоммерческаяИнформация><![CDATA[ ]]`,
		"unclosed dir":    `<КоммерческаяИнформация><!DOCTYPE x "`,
		"unclosed tag":    `<КоммерческаяИнформация a="1"`,
		"unclosed attr":   `<КоммерческаяИнформация a="1`,
		"lone lt":         `<КоммерческаяИнформация><`,
		"lt space":        `<КоммерческаяИнформация>< a/></КоммерческаяИнформация>`,
		"end no name":     `<КоммерческаяИнформация></>`,
		"text at eof":     "<КоммерческаяИнформация/>\n\n",
		"junk at eof":     "<КоммерческаяИнформация/>x",
		"mismatch":        `<КоммерческаяИнформация><a></b></КоммерческаяИнформация>`,
		"prefix mismatch": `<КоммерческаяИнформация><a:x></b:x></КоммерческаяИнформация>`,
		"two roots":       `<КоммерческаяИнформация/><КоммерческаяИнформация/>`,
		"other root":      `<Root/>`,
		"empty":           ``,
		"only text":       ` `,
		"orders attrs":    `<КоммерческаяИнформация ВерсияСхемы="2.03"><Документ Ид="7" Номер="7" ХозОперация="Заказ товара" Сумма="1&#160;000,5" ПометкаУдаления="нет"><Товары><Товар><Ид>x</Ид><БазоваяЕдиница Код="796 ">шт</БазоваяЕдиница><Количество>2</Количество></Товар></Товары></Документ></КоммерческаяИнформация>`,
	}
}

func TestDifferentialInputs(t *testing.T) {
	for name, data := range differentialInputs(t) {
		t.Run(name, func(t *testing.T) {
			checkDifferential(t, DefaultLimits(), name, data)
		})
	}
}

// TestDifferentialSplitSet reads the real split exchange with one Reader each, so the
// declarations of one file shape the warnings of the next.
func TestDifferentialSplitSet(t *testing.T) {
	dir := samplesDir(t)
	newR, refR := newTestReader(t), newTestReader(t)
	for _, f := range []string{"classifier.xml", "import.xml", "offers.xml", "prices.xml", "rests.xml", "documents.xml"} {
		data, err := os.ReadFile(filepath.Join(dir, "cml31-ut11-bitrix6", f))
		if err != nil {
			t.Fatal(err)
		}
		got := readNew(newR, f, bytes.NewReader(data))
		want := readRef(refR, f, bytes.NewReader(data))
		if diff := sameOutcome(got, want); diff != "" || got.err != nil {
			t.Fatalf("%s: %s (error %v)", f, diff, got.err)
		}
	}
}

// TestDifferentialMutations damages every input in many seeded ways (truncation, dropped,
// repeated and replaced bytes, inserted markup) and requires both readers to agree.
func TestDifferentialMutations(t *testing.T) {
	const seed = 20260101
	rng := rand.New(rand.NewPCG(seed, seed))
	limits := DefaultLimits()
	limits.MaxTextBytes = 512
	limits.MaxElementDepth = 16
	inserts := []string{"<", ">", "&", "]]>", "<!--", "-->", "<![CDATA[", "<?x ", "?>", "\"", "'", "\r", "\xd0", "\xff",
		"&#x", ";", "</a>", "<a>", "/>", ":", "=", " ", "\ufeff", `<?xml encoding="windows-1251"?>`}
	for name, data := range differentialInputs(t) {
		if len(data) > 64<<10 {
			data = data[:64<<10]
		}
		for k := 0; k < 40; k++ {
			m := bytes.Clone(data)
			pos := rng.IntN(len(m) + 1)
			switch k % 5 {
			case 0:
				m = m[:pos]
			case 1:
				if pos < len(m) {
					m = append(m[:pos], m[pos+1:]...)
				}
			case 2:
				if pos < len(m) {
					m[pos] = byte(rng.IntN(256))
				}
			case 3:
				ins := inserts[rng.IntN(len(inserts))]
				m = append(m[:pos], append([]byte(ins), data[pos:]...)...)
			case 4:
				end := min(len(m), pos+rng.IntN(64))
				m = append(m[:end], append(bytes.Clone(m[pos:end]), data[end:]...)...)
			}
			checkDifferential(t, limits, fmt.Sprintf("%s#%d", name, k), m)
		}
	}
}

// TestDifferentialLimits runs both readers at the edge of MaxTextBytes and MaxElementDepth.
func TestDifferentialLimits(t *testing.T) {
	for _, n := range []int{62, 63, 64, 65, 66} {
		limits := DefaultLimits()
		limits.MaxTextBytes = 64
		limits.MaxElementDepth = 4
		docs := []string{
			`<КоммерческаяИнформация>` + strings.Repeat("x", n) + `</КоммерческаяИнформация>`,
			`<КоммерческаяИнформация a="` + strings.Repeat("x", n-5) + `"/>`,
			`<КоммерческаяИнформация><!--` + strings.Repeat("<", n) + strings.Repeat("y", n) + `--></КоммерческаяИнформация>`,
			`<КоммерческаяИнформация><Каталог><Ид><![CDATA[` + strings.Repeat("<", n) + `]]></Ид></Каталог></КоммерческаяИнформация>`,
			`<КоммерческаяИнформация>` + strings.Repeat("<a>", n/16) + strings.Repeat("</a>", n/16) + `</КоммерческаяИнформация>`,
			`<?xml version="1.0" encoding="windows-1251"?>` + cp1251(t, "<КоммерческаяИнформация>") + strings.Repeat("\xe0", n) + cp1251(t, "</КоммерческаяИнформация>"),
		}
		for i, doc := range docs {
			checkDifferential(t, limits, fmt.Sprintf("limit-%d-%d", n, i), []byte(doc))
		}
	}
}

// FuzzDifferential feeds the same bytes to both readers; they must agree.
func FuzzDifferential(f *testing.F) {
	for _, data := range differentialInputs(f) {
		if len(data) <= 16<<10 {
			f.Add(data)
		}
	}
	limits := DefaultLimits()
	limits.MaxElementDepth = 24
	limits.MaxTextBytes = 4 << 10
	limits.MaxTrackedIDs = 1024
	limits.MaxWarnings = 16
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDifferential(t, limits, "fuzz.xml", data)
	})
}

// TestValidNameMatchesEncodingXML checks the fast name paths against encoding/xml for
// every rune of the Basic Multilingual Plane, first and later in a name.
func TestValidNameMatchesEncodingXML(t *testing.T) {
	for r := rune(0); r < 0x10000; r++ {
		if r < utf8.RuneSelf && !nameByte[r] || !utf8.ValidRune(r) {
			continue
		}
		for _, name := range [][]byte{utf8.AppendRune(nil, r), utf8.AppendRune([]byte("a"), r)} {
			if got, want := validName(name), validNameSlow(name); got != want {
				t.Fatalf("validName(%q) = %v, encoding/xml says %v", name, got, want)
			}
		}
	}
}

// TestTokenizerErrorsHavePositions checks that malformed input gives ErrMalformed with
// the line and byte offset of the fault.
func TestTokenizerErrorsHavePositions(t *testing.T) {
	doc := "<КоммерческаяИнформация>\n<Каталог>\n<Ид>a &bad; b</Ид>\n</Каталог>\n</КоммерческаяИнформация>"
	_, _, err := readWith(t, newTestReader(t), "bad.xml", []byte(doc))
	var pe *ParseError
	if !errors.Is(err, ErrMalformed) || !errors.As(err, &pe) {
		t.Fatalf("got %v, want a ParseError wrapping ErrMalformed", err)
	}
	if got, want := pe.Line, 3; got != want {
		t.Errorf("line: got %d, want %d", got, want)
	}
	if got, want := pe.Offset, int64(strings.Index(doc, "&bad;")); got != want {
		t.Errorf("offset: got %d, want %d", got, want)
	}
	if !strings.Contains(err.Error(), "&bad;") {
		t.Errorf("message %q does not name the entity", err)
	}
}

// TestLongNamesAndCDATABounded: a name over maxNameBytes fails, and a CDATA section or a
// comment much longer than MaxTextBytes in a skipped element is read without holding it.
func TestLongNamesAndCDATABounded(t *testing.T) {
	limits := DefaultLimits()
	limits.MaxTextBytes = 16 << 10
	r, err := NewReader(limits)
	if err != nil {
		t.Fatal(err)
	}
	long := "<КоммерческаяИнформация><" + strings.Repeat("a", maxNameBytes+1) + "/></КоммерческаяИнформация>"
	if _, _, err := readWith(t, r, "name.xml", []byte(long)); !errors.Is(err, ErrLimitExceeded) {
		t.Errorf("long name: got %v, want ErrLimitExceeded", err)
	}
	chunk := strings.Repeat("x", 1000) + "<"
	big := "<КоммерческаяИнформация><Описание><![CDATA[" + strings.Repeat(chunk, 1000) + "]]><!--" +
		strings.Repeat(chunk, 1000) + "--></Описание></КоммерческаяИнформация>"
	if _, _, err := readWith(t, r, "cdata.xml", []byte(big)); err != nil {
		t.Errorf("skipped 1 MB CDATA and comment: %v", err)
	}
	r2, _ := NewReader(limits)
	kept := "<КоммерческаяИнформация><Каталог><Ид><![CDATA[" + strings.Repeat(chunk, 20) + "]]></Ид></Каталог></КоммерческаяИнформация>"
	if _, _, err := readWith(t, r2, "kept.xml", []byte(kept)); !errors.Is(err, ErrLimitExceeded) {
		t.Errorf("kept CDATA over MaxTextBytes: got %v, want ErrLimitExceeded", err)
	}
}

// TestSecondEncodingDeclarationRefused: one XML declaration may switch the encoding; a
// second one that would stack another decoder is malformed.
func TestSecondEncodingDeclarationRefused(t *testing.T) {
	doc := `<?xml version="1.0" encoding="windows-1251"?>` + cp1251(t, `<КоммерческаяИнформация><?xml encoding="cp1251"?></КоммерческаяИнформация>`)
	_, _, err := readWith(t, newTestReader(t), "two.xml", []byte(doc))
	if !errors.Is(err, ErrMalformed) || !errors.Is(err, errSecondEncoding) {
		t.Errorf("got %v, want ErrMalformed for a second encoding declaration", err)
	}
}

// TestTextLimitCountsDecodedText: MaxTextBytes applies to an element's text as read, so
// references that shrink it do not count at their written length.
func TestTextLimitCountsDecodedText(t *testing.T) {
	limits := DefaultLimits()
	limits.MaxTextBytes = 64
	amps := strings.Repeat("&amp;", 10)
	doc := `<КоммерческаяИнформация><Каталог><Ид>` + amps + `<!-- -->` + amps + `<!-- -->` + amps + `</Ид></Каталог></КоммерческаяИнформация>`
	checkDifferential(t, limits, "amps.xml", []byte(doc))
	r, err := NewReader(limits)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := readWith(t, r, "amps.xml", []byte(doc)); err != nil {
		t.Errorf("30 characters of text written as 150 bytes: %v", err)
	}
}
