package httpapi

import (
	"errors"
	"strings"
	"testing"
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
		"not json":       {`nope`, ""},
		"two values":     {ok + ok, ""},
		"array":          {`[]`, "body"},
		"no id":          {`{"channel":"site","lines":[{"sku":"a","qty":1}]}`, "id"},
		"long id":        {`{"id":"` + strings.Repeat("x", MaxHoldIDBytes+1) + `","channel":"site","lines":[{"sku":"a","qty":1}]}`, "id"},
		"no lines":       {`{"id":"a","channel":"site","lines":[]}`, "lines"},
		"too many lines": {`{"id":"a","channel":"site","lines":[{"sku":"a","qty":1},{"sku":"b","qty":1}]}`, "lines"},
		"zero qty":       {`{"id":"a","channel":"site","lines":[{"sku":"a","qty":0}]}`, "lines[0].qty"},
		"float qty":      {`{"id":"a","channel":"site","lines":[{"sku":"a","qty":1.5}]}`, "lines.qty"},
		"string qty":     {`{"id":"a","channel":"site","lines":[{"sku":"a","qty":"1"}]}`, "lines.qty"},
		"control char":   {`{"id":"a\u0001","channel":"site","lines":[{"sku":"a","qty":1}]}`, "id"},
		"long sku":       {`{"id":"a","channel":"site","lines":[{"sku":"` + strings.Repeat("s", 81) + `","qty":1}]}`, "lines[0].sku"},
		"negative ttl":   {`{"id":"a","channel":"site","lines":[{"sku":"a","qty":1}],"ttl_seconds":-1}`, "ttl_seconds"},
		"unknown field":  {`{"id":"a","channel":"site","lines":[{"sku":"a","qty":1}],"extra":1}`, "extra"},
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
			if !errors.As(err, &fe) && !errors.As(err, &se) {
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
