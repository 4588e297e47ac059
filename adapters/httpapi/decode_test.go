package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"stockd/reservation"
)

func TestDecodeReserve(t *testing.T) {
	ok := `{"id":"o-1","channel":"site","lines":[{"sku":"гвоздь#1","qty":2}],"ttl_seconds":60}`
	rb, err := DecodeReserve([]byte(ok), 10)
	if err != nil || rb.ID != "o-1" || rb.Lines[0].SKU != "гвоздь#1" || *rb.TTLSeconds != 60 {
		t.Fatalf("DecodeReserve(%s) = %+v, %v", ok, rb, err)
	}
	for name, tc := range map[string]struct {
		body  string
		field string // "" means a syntax error (400)
	}{
		"not json":      {`nope`, ""},
		"two values":    {ok + ok, ""},
		"array":         {`[]`, "body"},
		"no id":         {`{"channel":"site","lines":[{"sku":"a","qty":1}]}`, "id"},
		"long id":       {`{"id":"` + strings.Repeat("x", MaxHoldIDBytes+1) + `","channel":"site","lines":[{"sku":"a","qty":1}]}`, "id"},
		"no lines":      {`{"id":"a","channel":"site","lines":[]}`, "lines"},
		"zero qty":      {`{"id":"a","channel":"site","lines":[{"sku":"a","qty":0}]}`, "lines[0].qty"},
		"float qty":     {`{"id":"a","channel":"site","lines":[{"sku":"a","qty":1.5}]}`, "lines.qty"},
		"string qty":    {`{"id":"a","channel":"site","lines":[{"sku":"a","qty":"1"}]}`, "lines.qty"},
		"control char":  {`{"id":"a\u0001","channel":"site","lines":[{"sku":"a","qty":1}]}`, "id"},
		"long sku":      {`{"id":"a","channel":"site","lines":[{"sku":"` + strings.Repeat("s", 81) + `","qty":1}]}`, "lines[0].sku"},
		"negative ttl":  {`{"id":"a","channel":"site","lines":[{"sku":"a","qty":1}],"ttl_seconds":-1}`, "ttl_seconds"},
		"unknown field": {`{"id":"a","channel":"site","lines":[{"sku":"a","qty":1}],"extra":1}`, "extra"},
	} {
		t.Run(name, func(t *testing.T) {
			max := 10
			if name == "too many lines" {
				max = 1
			}
			_, err := DecodeReserve([]byte(tc.body), max)
			var fe *fieldError
			var se *syntaxError
			switch {
			case tc.field == "" && !errors.As(err, &se):
				t.Fatalf("err = %v, want a syntax error", err)
			case tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field):
				t.Fatalf("err = %#v, want a field error on %q", err, tc.field)
			}
		})
	}
}

// TestSmallBodiesMatchKeysExactly: the confirm, batch and channel-release
// bodies, read with encoding/json, keep the API's key rules as the reserve
// body does: a key that names a field only case-insensitively, or a key
// given twice, is refused (422) instead of read.
func TestSmallBodiesMatchKeysExactly(t *testing.T) {
	decoders := map[string]func(string) error{
		"confirm": func(b string) error { _, err := DecodeConfirm([]byte(b)); return err },
		"batch":   func(b string) error { _, err := DecodeBatch([]byte(b), 10); return err },
		"release": func(b string) error { _, _, err := decodeRelease([]byte(b)); return err },
	}
	for _, tc := range []struct{ decoder, body, field string }{
		{"confirm", `{"ttl_seconds":60}`, ""},
		{"confirm", `null`, ""},
		{"confirm", `{"TTL_SECONDS":60}`, "TTL_SECONDS"},
		{"confirm", `{"ttl_seconds":60,"ttl_seconds":0}`, "ttl_seconds"},
		{"batch", `{"skus":["a"],"channel":"site"}`, ""},
		{"batch", `{"SKUS":["a"],"skus":["b"]}`, "SKUS"},
		{"batch", `{"skus":["a"],"skus":["b"]}`, "skus"},
		{"batch", `{"skus":["a"],"Channel":"site"}`, "Channel"},
		{"release", `{"method":"stock","offer":"o-1","warehouse":"w"}`, ""},
		{"release", `{"method":"stock","Offer":"o-1"}`, "Offer"},
		{"release", `{"method":"stock","offer":"o-1","method":"price"}`, "method"},
	} {
		err := decoders[tc.decoder](tc.body)
		var fe *fieldError
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%s %s: %v, want it accepted", tc.decoder, tc.body, err)
		case tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field):
			t.Errorf("%s %s: err = %#v, want a field error on %q", tc.decoder, tc.body, err, tc.field)
		}
	}
}

// TestDecodeReserveTooManyLines: more lines than MaxLinesPerHold is the
// ledger's limit error (422 limit_exceeded naming the limit), as the ledger
// itself would answer, not a field error.
func TestDecodeReserveTooManyLines(t *testing.T) {
	body := `{"id":"a","channel":"site","lines":[{"sku":"a","qty":1},{"sku":"b","qty":1}]}`
	if _, err := DecodeReserve([]byte(body), 2); err != nil {
		t.Fatalf("two lines at a limit of 2: %v", err)
	}
	_, err := DecodeReserve([]byte(body), 1)
	var le *reservation.LimitError
	if !errors.As(err, &le) || le.Name != "MaxLinesPerHold" || le.Limit != 1 || le.Got != 2 {
		t.Fatalf("err = %#v, want the MaxLinesPerHold limit (1) with 2 lines", err)
	}
	if !errors.Is(err, reservation.ErrLimitExceeded) {
		t.Fatalf("err = %v does not unwrap to ErrLimitExceeded", err)
	}
}

// FuzzDecodeReserve: any body decodes or fails with a 400/422 error, never
// panics, and what decodes satisfies every documented bound.
func FuzzDecodeReserve(f *testing.F) {
	f.Add([]byte(`{"id":"o-1","channel":"site","lines":[{"sku":"a","qty":2}],"ttl_seconds":60}`))
	f.Add([]byte(`{"id":"","lines":null}`))
	f.Add([]byte(`[{"id":1}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		rb, err := DecodeReserve(body, 8)
		if err != nil {
			var fe *fieldError
			var se *syntaxError
			var le *reservation.LimitError
			if !errors.As(err, &fe) && !errors.As(err, &se) && !errors.As(err, &le) {
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			return
		}
		if rb.ID == "" || len(rb.ID) > MaxHoldIDBytes || len(rb.Lines) == 0 || len(rb.Lines) > 8 {
			t.Fatalf("decoded out of bounds: %+v", rb)
		}
		for _, ln := range rb.Lines {
			if ln.Qty <= 0 || ln.SKU == "" || len(ln.SKU) > MaxSKUBytes {
				t.Fatalf("line out of bounds: %+v", ln)
			}
		}
	})
}

func FuzzSplitEvents(f *testing.F) {
	f.Add([]byte(`[{"v":1},{"v":2}]`))
	f.Add([]byte("{\"v\":1}\n\n{\"v\":2}\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		raws, err := splitEvents(body)
		if err == nil && (len(raws) == 0 || len(raws) > MaxEventsPerRequest) {
			t.Fatalf("split into %d events without an error", len(raws))
		}
	})
}

// decodeReserveReference is DecodeReserve as it was written on
// encoding/json, the reference the hand-written reader is compared with.
func decodeReserveReference(body []byte, maxLines int) (ReserveBody, error) {
	var rb ReserveBody
	if err := decodeStrict(body, &rb); err != nil {
		return ReserveBody{}, err
	}
	return checkReserve(rb, maxLines)
}

var reserveSeeds = []string{
	`{"id":"o-1","channel":"site","lines":[{"sku":"a","qty":2}],"ttl_seconds":60}`,
	` {"id" : "o\u00e9\ud83d\ude00\ud800" , "channel":"site","lines":[{"qty":1,"sku":"гвоздь#1"},null],"ttl_seconds":null}`,
	`{"id":"","lines":null}`,
	`[{"id":1}]`,
	`5x`,
	`5 x`,
	`null`,
	`{"lines":{}}`,
	`{"lines":[5]}`,
	`{"lines":[{"qty":1.5,"x":1}],"id":5}`,
	`{"lines":[{"qty":9223372036854775808}]}`,
	`{"lines":[{"qty":-9223372036854775808}]}`,
	`{"ttl_seconds":"5"}`,
	`{"extra":1,"id":true}`,
	"{\"id\":\"\xff\",\"channel\":\"c\",\"lines\":[{\"sku\":\"a\\n\",\"qty\":1}]}",
	`{"id":"a","channel":"b","lines":[{"sku":"a","qty":1}]} {}`,
	`{"ID":"a"}`,
	`{"id":"a","id":"b"}`,
}

// FuzzDecodeReserveMatchesReference: the hand-written reader decodes and
// refuses exactly as the encoding/json reference: equal bodies, the same
// kind of error (400 syntax or 422 field) and, for a field error, the same
// field and reason. Bodies whose keys the two read differently by design
// (a known key repeated, or matched only case-insensitively) must be
// refused.
func FuzzDecodeReserveMatchesReference(f *testing.F) {
	for _, s := range reserveSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := DecodeReserve(body, 8)
		if ambiguousReserveKeys(body) {
			if err == nil {
				t.Fatalf("%q: repeated or case-folded keys accepted: %+v", body, got)
			}
			return
		}
		want, wantErr := decodeReserveReference(body, 8)
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("%q:\ngot  %+v, %v\nwant %+v, %v", body, got, err, want, wantErr)
		}
		if err == nil {
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%q:\ngot  %+v\nwant %+v", body, got, want)
			}
			return
		}
		var gf, wf *fieldError
		var gs, ws *syntaxError
		switch {
		case errors.As(wantErr, &wf):
			if !errors.As(err, &gf) || *gf != *wf {
				t.Fatalf("%q: error %#v, reference %#v", body, err, wantErr)
			}
		case errors.As(wantErr, &ws):
			if !errors.As(err, &gs) {
				t.Fatalf("%q: error %#v, reference %#v", body, err, wantErr)
			}
		default:
			t.Fatalf("reference error of unexpected type %T", wantErr)
		}
	})
}

// ambiguousReserveKeys reports whether the body object or a line object
// has a known key twice (exactly or case-folded) or a key that names a
// field only case-insensitively, which encoding/json accepts.
func ambiguousReserveKeys(body []byte) bool {
	keys, err := objectKeys(body)
	if err != nil {
		return false
	}
	if ambiguousKeys(keys, "id", "channel", "lines", "ttl_seconds") {
		return true
	}
	var obj map[string]json.RawMessage
	var lines []json.RawMessage
	if json.Unmarshal(body, &obj) != nil || json.Unmarshal(obj["lines"], &lines) != nil {
		return false
	}
	for _, ln := range lines {
		if keys, err := objectKeys(ln); err == nil && ambiguousKeys(keys, "sku", "qty") {
			return true
		}
	}
	return false
}

// objectKeys returns the keys of a JSON object, in order.
func objectKeys(data []byte) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
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

func ambiguousKeys(keys []string, names ...string) bool {
	seen := map[string]bool{}
	for _, k := range keys {
		for _, n := range names {
			if strings.EqualFold(k, n) {
				if k != n || seen[n] {
					return true
				}
				seen[n] = true
			}
		}
	}
	return false
}

func TestDecodeReserveMatchesReferenceOnSeeds(t *testing.T) {
	for _, s := range reserveSeeds {
		got, err := DecodeReserve([]byte(s), 8)
		if ambiguousReserveKeys([]byte(s)) {
			if err == nil {
				t.Errorf("%s: accepted", s)
			}
			continue
		}
		want, wantErr := decodeReserveReference([]byte(s), 8)
		if !reflect.DeepEqual(got, want) || fmt.Sprintf("%T", err) != fmt.Sprintf("%T", wantErr) {
			t.Errorf("%s:\ngot  %+v, %#v\nwant %+v, %#v", s, got, err, want, wantErr)
		}
	}
}

func TestDecodeReserveRefusesRepeatedAndFoldedKeys(t *testing.T) {
	for body, field := range map[string]string{
		`{"id":"a","id":"b","channel":"site","lines":[{"sku":"a","qty":1}]}`:              "id",
		`{"ID":"a","channel":"site","lines":[{"sku":"a","qty":1}]}`:                       "ID",
		`{"id":"a","channel":"site","lines":[{"sku":"a","qty":1,"qty":2}]}`:               "qty",
		`{"id":"a","channel":"site","lines":[{"sku":"a","Qty":1}]}`:                       "Qty",
		`{"id":"a","channel":"site","lines":[{"sku":"a","qty":1}],"lines":[{"sku":"b"}]}`: "lines",
	} {
		_, err := DecodeReserve([]byte(body), 8)
		var fe *fieldError
		if !errors.As(err, &fe) || fe.Field != field {
			t.Errorf("%s: err = %#v, want a field error on %q", body, err, field)
		}
	}
}

func BenchmarkDecodeReserve(b *testing.B) {
	body := []byte(`{"id":"order-1001-3f0c9a7e","channel":"site","lines":[{"sku":"8f1c2d3e-4f50-6172-8394-a5b6c7d8e9f0#a2c4e6f8-0a1b-2c3d-4e5f-60718293a4b5","qty":2},` +
		`{"sku":"8f1c2d3e-4f50-6172-8394-a5b6c7d8e9f1","qty":1}],"ttl_seconds":900}`)
	for _, dec := range []struct {
		name string
		fn   func([]byte, int) (ReserveBody, error)
	}{{"reader", DecodeReserve}, {"encoding_json", decodeReserveReference}} {
		b.Run(dec.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := dec.fn(body, 100); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestIDProblem(t *testing.T) {
	for _, v := range []string{"a", "order-1001-3f0c9a7e-long-enough", "гвоздь#1", "a\x01b", "\x7f", "abcdefgh\x1fijkl",
		"abcdefghijklmnop\xff", "a\x01\xff", "\xffa\x01", "aaaaaaaaaaaaaa\u2028", ""} {
		got, gotOK := idProblem(v, 1000)
		want, wantOK := "", true
		switch {
		case v == "":
			want, wantOK = "is required", false
		case !utf8.ValidString(v):
			want, wantOK = "is not valid UTF-8", false
		case strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }):
			want, wantOK = "contains a control character", false
		}
		if got != want || gotOK != wantOK {
			t.Errorf("idProblem(%q) = %q, %v; want %q, %v", v, got, gotOK, want, wantOK)
		}
	}
}
