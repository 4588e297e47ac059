package reservation

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"stockd/reservation/jsonscan"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var decodeSeeds = []string{
	`{` + head + `,"type":"stock.set","sku":"8f1c#a2c4","warehouse":"wh-msk","qty":12,"handoff":["o1"]}`,
	`{` + head + `,"type":"stock.adjust","sku":"s","warehouse":"w","delta":-1.5}`,
	`{` + head + `,"type":"price.set","sku":"s","price_type":"retail","price":"1234.50","currency":"RUB"}`,
	`{` + head + `,"type":"item.upsert","sku":"k","name":"n","barcodes":["1",null],"kit":[{"sku":"a","qty":2},null]}`,
	`{` + head + `,"type":"item.delete","sku":"s"}`,
	`{` + head + `,"type":"reservation.handoff","reservation_id":"o1"}`,
	` { "v" : 1 , "id" : "a\u00e9\ud83d\ude00\ud800x\\\/\b\f\n\r\t" , "source":"s","seq":0,"at":"2026-11-21T10:00:00.123456789Z","type":"item.delete","sku":"\u0073"} `,
	`{"v":1,"id":"x","source":"s","seq":1,"at":"2026-11-21T10:00:00Z","type":"stock.set","sku":"s","warehouse":"w","qty":"1"}`,
	`{"v":1,"id":"x","source":"s","seq":1,"at":"2026-11-21T10:00:00Z","type":"stock.set","sku":"s","warehouse":"w","qty":[1, {"a" :null}]}`,
	`{"v":null,"type":"item.delete"}`,
	`null`,
	`[]`,
	`{"kit":[{"sku":1}]}`,
	`{"v":1e3}`,
	`{"v":01}`,
	"{\"v\":1,\"id\":\"\xff\xfe\"}",
	`{"v":1}x`,
	`{"handoff":"a"}`,
	`{"ID":"x"}`,
	`{"sku":"a","sku":"b"}`,
}

// FuzzDecodeEventMatchesReference: the hand-written decoder accepts and
// refuses exactly what the encoding/json reference does, with equal Events
// and equal errors (the same Field; the same message when a field is
// named). Inputs whose keys the two read differently by design (a key
// repeated, or matching a field only case-insensitively) must be refused
// as malformed.
func FuzzDecodeEventMatchesReference(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := DecodeEvent(data)
		if ambiguousKeys(data) {
			var ee *EventError
			if !errors.As(err, &ee) || ee.Field != "" {
				t.Fatalf("repeated or case-folded keys: got %+v, %v; want a malformed-JSON error", got, err)
			}
			return
		}
		want, wantErr := decodeEventReference(data)
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("%q:\ngot  %+v, %v\nwant %+v, %v", data, got, err, want, wantErr)
		}
		if err == nil {
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%q:\ngot  %+v\nwant %+v", data, got, want)
			}
			return
		}
		var ge, we *EventError
		if !errors.As(err, &ge) || !errors.As(wantErr, &we) || ge.Field != we.Field {
			t.Fatalf("%q: error %v, reference %v", data, err, wantErr)
		}
		if ge.Field != "" && ge.Error() != we.Error() {
			t.Fatalf("%q: error %q, reference %q", data, err, wantErr)
		}
	})
}

// ambiguousKeys reports whether an object the event decoder reads (the
// event, or an element of its kit) repeats a key or has a key that names a
// field only case-insensitively, which encoding/json accepts.
func ambiguousKeys(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	var obj map[string]json.RawMessage
	keys, err := objectKeys(dec)
	if err != nil {
		return false
	}
	if ambiguous(keys, eventKeys[:]) {
		return true
	}
	if json.Unmarshal(data, &obj) != nil {
		return false
	}
	var kit []json.RawMessage
	if json.Unmarshal(obj["kit"], &kit) != nil {
		return false
	}
	for _, raw := range kit {
		keys, err := objectKeys(json.NewDecoder(bytes.NewReader(raw)))
		if err == nil && ambiguous(keys, []string{"sku", "qty"}) {
			return true
		}
	}
	return false
}

// objectKeys returns the keys of the object at the decoder, in order.
func objectKeys(dec *json.Decoder) ([]string, error) {
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, errors.New("not an object")
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

func ambiguous(keys, names []string) bool {
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k] {
			return true
		}
		seen[k] = true
		for _, n := range names {
			if k != n && strings.EqualFold(k, n) {
				return true
			}
		}
	}
	return false
}

func TestDecodeEventMatchesReferenceOnSeeds(t *testing.T) {
	for _, s := range decodeSeeds {
		if ambiguousKeys([]byte(s)) {
			continue
		}
		got, err := DecodeEvent([]byte(s))
		want, wantErr := decodeEventReference([]byte(s))
		if !reflect.DeepEqual(got, want) || (err == nil) != (wantErr == nil) {
			t.Errorf("%s:\ngot  %+v, %v\nwant %+v, %v", s, got, err, want, wantErr)
		}
	}
}

func TestDecodeEventStrings(t *testing.T) {
	body := "{\"v\":1,\"id\":\"a\\u00e9\\ud83d\\ude00|\\ud800|\\udc00x|\xff|\\\"\\\\\\/\\b\\f\\n\\r\\t\",\"source\":\"s\",\"seq\":1," +
		"\"at\":\"2026-11-21T10:00:00Z\",\"type\":\"item.delete\",\"sku\":\"гвоздь#1\"}"
	ev, err := DecodeEvent([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if want := "aé😀|\uFFFD|\uFFFDx|\uFFFD|\"\\/\b\f\n\r\t"; ev.ID != want || ev.SKU != "гвоздь#1" {
		t.Fatalf("id %q sku %q, want %q", ev.ID, ev.SKU, want)
	}
}

func TestDecodeEventRefusesRepeatedAndFoldedKeys(t *testing.T) {
	for _, body := range []string{
		`{` + head + `,"type":"item.delete","sku":"s","sku":"t"}`,
		`{` + head + `,"type":"item.delete","SKU":"s"}`,
		`{` + head + `,"type":"item.delete","sku":"s","sku":null}`,
		`{` + head + `,"type":"item.upsert","sku":"k","kit":[{"sku":"a","sku":"b","qty":1}]}`,
		`{` + head + `,"type":"item.upsert","sku":"k","kit":[{"Sku":"a","qty":1}]}`,
	} {
		_, err := DecodeEvent([]byte(body))
		var ee *EventError
		if !errors.As(err, &ee) || ee.Field != "" {
			t.Errorf("%s: err = %v, want a malformed-JSON error", body, err)
		}
	}
}

func TestDecodeEventDepthLimit(t *testing.T) {
	deep := func(n int) string {
		return `{"v":1,"id":"x","source":"s","seq":1,"at":"2026-11-21T10:00:00Z","type":"stock.set","sku":"s","warehouse":"w","qty":` +
			strings.Repeat("[", n) + strings.Repeat("]", n) + `}`
	}
	for _, n := range []int{jsonscan.MaxDepth - 1, jsonscan.MaxDepth} {
		_, err := DecodeEvent([]byte(deep(n)))
		_, wantErr := decodeEventReference([]byte(deep(n)))
		var ge, we *EventError
		if !errors.As(err, &ge) || !errors.As(wantErr, &we) || ge.Field != we.Field {
			t.Errorf("depth %d: %v, reference %v", n, err, wantErr)
		}
	}
}

// BenchmarkDecodeEvent: typical events through DecodeEvent, and the
// encoding/json reference for comparison.
func BenchmarkDecodeEvent(b *testing.B) {
	events := map[string]string{
		"stock.set": `{"v":1,"id":"3f0c9a7e-1b2c-4d5e-8f90-a1b2c3d4e5f6","source":"ut11-main","seq":1042,` +
			`"at":"2026-11-21T10:00:00+03:00","type":"stock.set","sku":"8f1c2d3e-4f50-6172-8394-a5b6c7d8e9f0#a2c4e6f8-0a1b-2c3d-4e5f-60718293a4b5",` +
			`"warehouse":"wh-msk","qty":12}`,
		"stock.adjust": `{"v":1,"id":"3f0c9a7e-1b2c-4d5e-8f90-a1b2c3d4e5f7","source":"ut11-main","seq":1043,` +
			`"at":"2026-11-21T10:00:00.123+03:00","type":"stock.adjust","sku":"8f1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",` +
			`"warehouse":"wh-msk","delta":-2,"handoff":["order-1001"]}`,
		"item.upsert": `{"v":1,"id":"u1","source":"ut11-main","seq":1044,"at":"2026-11-21T10:00:00Z","type":"item.upsert",` +
			`"sku":"k","article":"A-1","name":"Набор","barcodes":["4600000000001"],"kit":[{"sku":"a","qty":2},{"sku":"b","qty":1}]}`,
	}
	for _, name := range []string{"stock.set", "stock.adjust", "item.upsert"} {
		data := []byte(events[name])
		for _, dec := range []struct {
			name string
			fn   func([]byte) (Event, error)
		}{{"", DecodeEvent}, {"/encoding_json", decodeEventReference}} {
			b.Run(name+dec.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(data)))
				cpu := startCPU()
				for b.Loop() {
					if _, err := dec.fn(data); err != nil {
						b.Fatal(err)
					}
				}
				cpu.report(b, "events/s")
			})
		}
	}
}

func TestKeyIndexMatchesEventKeys(t *testing.T) {
	for k, name := range eventKeys {
		if got := keyIndex([]byte(name)); got != k {
			t.Errorf("keyIndex(%q) = %d, want %d", name, got, k)
		}
	}
	if got := keyIndex([]byte("Sku")); got != -1 {
		t.Errorf("keyIndex(Sku) = %d", got)
	}
}

// TestDecodeEventEveryByte: every byte value at every position of a string
// decodes (or is refused) as the reference does.
func TestDecodeEventEveryByte(t *testing.T) {
	for b := range 256 {
		for at := range 17 {
			id := []byte("abcdefghijklmnopq")
			id[at] = byte(b)
			body := []byte(`{"v":1,"id":"` + string(id) + `","source":"s","seq":1,"at":"2026-11-21T10:00:00Z","type":"item.delete","sku":"s"}`)
			got, err := DecodeEvent(body)
			want, wantErr := decodeEventReference(body)
			if !reflect.DeepEqual(got, want) || (err == nil) != (wantErr == nil) {
				t.Fatalf("%q:\ngot  %+v, %v\nwant %+v, %v", body, got, err, want, wantErr)
			}
		}
	}
}

func TestParseEventTimeMatchesTimeParse(t *testing.T) {
	cases := []string{
		"2026-11-21T10:00:00Z", "2026-11-21T10:00:00+03:00", "2026-11-21T10:00:00-03:30", "2024-02-29T23:59:59.999999999Z",
		"2023-02-29T00:00:00Z", "2026-11-21T24:00:00Z", "2026-11-21T23:59:60Z", "2026-11-21T10:00:00+23:59", "2026-11-21T10:00:00+24:00",
		"2026-11-21T10:00:00-00:00", "2026-11-21t10:00:00Z", "2026-11-21T10:00:00z", "2026-11-21T10:00:00.1234567891234Z",
		"2026-11-21T10:00:00,5Z", "2026-11-21T10:00:00.Z", "2026-11-21T10:00:00.5+03:00", "0000-01-01T00:00:00Z",
		"9999-12-31T23:59:59.9Z", "1970-01-01T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-31T00:00:00Z", "2026-11-21 10:00:00Z",
		"2026-11-21T10:00Z", "2026-11-21T10:00:00", "2026-11-21T10:00:00+0300", "+2026-11-21T10:00:00Z", "2026-11-21T10:00:00.000Z",
		"1900-02-29T00:00:00Z", "2000-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-11-21T10:00:00+03:60", "２026-11-21T10:00:00Z",
	}
	for _, s := range cases {
		got, err := parseEventTime(s)
		want, wantErr := time.Parse(time.RFC3339Nano, s)
		want = want.UTC()
		if (err == nil) != (wantErr == nil) || !reflect.DeepEqual(got, want) {
			t.Errorf("%q: got %v, %v; want %v, %v", s, got, err, want, wantErr)
		}
	}
}

func TestDaysFromCivilMatchesTimeDate(t *testing.T) {
	for year := 0; year <= 9999; year++ {
		for month := 1; month <= 12; month++ {
			for _, day := range []int{1, 28, daysIn(month, year)} {
				want := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC).Unix() / 86400
				if got := daysFromCivil(year, month, day); got != want {
					t.Fatalf("%04d-%02d-%02d: got day %d, want %d", year, month, day, got, want)
				}
			}
		}
	}
}

// TestDecodeEventErrorsQuoteLittle: an error quotes at most
// maxQuotedInput bytes of the input (cut at a character), so a huge bad
// value makes a short reason.
func TestDecodeEventErrorsQuoteLittle(t *testing.T) {
	long := strings.Repeat("ё", 100_000)
	for _, body := range []string{
		`{"v":1,"type":"` + long + `"}`,
		`{"v":1,"` + long + `":1}`,
		`{"v":1,"v":1,"` + long + `":1}`,
		`{"v":1,"type":"item.upsert","kit":[{"` + long + `":1}]}`,
	} {
		_, err := DecodeEvent([]byte(body))
		if err == nil {
			t.Fatalf("%.40s…: decoded", body)
		}
		if msg := err.Error(); len(msg) > 300 || !utf8.ValidString(msg) {
			t.Fatalf("%.40s…: a %d-byte error (valid UTF-8 %v)", body, len(msg), utf8.ValidString(msg))
		}
	}
	if got := quoteInput("short"); got != `"short"` {
		t.Fatalf("quoteInput(short) = %s", got)
	}
}

// TestCutText: a cut ends on a character boundary, never past n bytes.
func TestCutText(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{{"abc", 5, "abc"}, {"abc", 2, "ab"}, {"жжж", 3, "ж"}, {"жжж", 4, "жж"}, {"ж", 1, ""}, {"abc", 0, ""}} {
		if got := CutText(tc.s, tc.n); got != tc.want {
			t.Errorf("CutText(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}
