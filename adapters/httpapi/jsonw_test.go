package httpapi

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"stockd/reservation"
)

// replyStrings are the awkward pieces random strings are made of: unicode,
// control characters, HTML, quotes, invalid UTF-8, U+2028/U+2029.
var replyStrings = []string{"a", "order-1001", "гвоздь#1", "8f1c#a2c4", "\x00", "\x01", "\x1f", "\x7f", "\b", "\f", "\n",
	"\r", "\t", `"`, `\`, "/", "<", ">", "&", "\u2028", "\u2029", "\xff", "\xe2\x80", "😀", "é", "\ufffd", " ", "ü\u00a0"}

func randString(r *rand.Rand) string {
	var b []byte
	for range r.IntN(6) {
		b = append(b, replyStrings[r.IntN(len(replyStrings))]...)
	}
	return string(b)
}

func randTime(r *rand.Rand) time.Time {
	ns := r.Int64N(4_000_000_000_000_000_000) + 1
	switch r.IntN(4) {
	case 0:
		ns -= ns % int64(time.Second)
	case 1:
		ns -= ns % int64(time.Millisecond)
	}
	t := time.Unix(0, ns)
	if r.IntN(2) == 0 {
		t = t.In(time.FixedZone("", 3*3600))
	}
	return t
}

func randHold(r *rand.Rand) reservation.Hold {
	h := reservation.Hold{
		ID: randString(r), Channel: randString(r), State: reservation.HoldState(1 + r.IntN(5)),
		Forced: r.IntN(2) == 0, TTL: time.Duration(r.Int64N(3)) * time.Duration(r.Int64N(1<<40)),
		CreatedAt: randTime(r),
	}
	if r.IntN(3) > 0 {
		h.ExpiresAt = randTime(r)
	}
	for range r.IntN(4) {
		h.Lines = append(h.Lines, reservation.Line{SKU: randString(r), Qty: r.Int64N(1 << 40)})
	}
	if len(h.Lines) > 0 {
		for range r.IntN(6) {
			h.Allocations = append(h.Allocations, reservation.Allocation{
				Line: r.IntN(len(h.Lines)), SKU: randString(r), Warehouse: randString(r),
				Qty: r.Int64N(1000) - 10, HandedOff: r.IntN(3) == 0,
			})
		}
	}
	return h
}

func encodeReference(tb testing.TB, v any) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(v); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// TestHoldReplyBytesMatchEncodingJSON: the hold reply is byte for byte
// what encoding/json writes for HoldReply.
func TestHoldReplyBytesMatchEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		h := randHold(r)
		got, want := appendHoldReply(nil, &h), encodeReference(t, holdReply(&h))
		if !bytes.Equal(got, want) {
			t.Fatalf("hold %d %+v:\ngot  %s\nwant %s", i, h, got, want)
		}
	}
}

func TestJSONStringMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		s := randString(r)
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("%q: got %s want %s", s, got, want)
		}
	}
	for b := range 256 {
		for at := range 17 {
			buf := []byte("abcdefghijklmnopq")
			buf[at] = byte(b)
			s := string(buf)
			want, _ := json.Marshal(s)
			if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
				t.Fatalf("%q: got %s want %s", s, got, want)
			}
		}
	}
}

func TestErrorBodyBytesMatchEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 5000 {
		var details map[string]any
		switch r.IntN(5) {
		case 1:
			details = map[string]any{"field": randString(r)}
		case 2:
			details = map[string]any{"limit": randString(r), "max": r.Int64N(1 << 40)}
		case 3:
			var lines []shortageReply
			for range r.IntN(3) {
				lines = append(lines, shortageReply{SKU: randString(r), Requested: r.Int64N(100), Available: r.Int64N(100)})
			}
			details = map[string]any{"lines": lines, randString(r): r.IntN(10)}
		case 4:
			details = map[string]any{}
		}
		code, msg := randString(r), randString(r)
		got, ok := appendErrorBody(nil, code, msg, details)
		want := encodeReference(t, errorBody{Error: code, Message: msg, Details: details})
		if !ok || !bytes.Equal(got, want) {
			t.Fatalf("%q %q %v:\ngot  %s (%v)\nwant %s", code, msg, details, got, ok, want)
		}
	}
	if got, ok := appendErrorBody([]byte("x"), "c", "m", map[string]any{"events": []eventError{{Index: 1}}}); ok || string(got) != "x" {
		t.Fatalf("unknown detail type written: %q %v", got, ok)
	}
}

// TestWrittenRepliesMatchWriteJSON: the response the handlers build is the
// one writeJSON built (status, content type, body).
func TestWrittenRepliesMatchWriteJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	h := randHold(r)
	var got, want fasthttp.RequestCtx
	writeHoldReply(&got, fasthttp.StatusCreated, &h)
	writeJSON(&want, fasthttp.StatusCreated, holdReply(&h))
	sameResponse(t, &got, &want)

	details := map[string]any{"lines": []shortageReply{{SKU: "a", Requested: 2, Available: 1}}}
	got, want = fasthttp.RequestCtx{}, fasthttp.RequestCtx{}
	writeError(&got, fasthttp.StatusConflict, "insufficient_stock", "not enough", details)
	writeJSON(&want, fasthttp.StatusConflict, errorBody{Error: "insufficient_stock", Message: "not enough", Details: details})
	sameResponse(t, &got, &want)
}

func sameResponse(t *testing.T, got, want *fasthttp.RequestCtx) {
	t.Helper()
	if got.Response.StatusCode() != want.Response.StatusCode() ||
		string(got.Response.Header.ContentType()) != string(want.Response.Header.ContentType()) ||
		!bytes.Equal(got.Response.Body(), want.Response.Body()) {
		t.Fatalf("got %d %s %s\nwant %d %s %s", got.Response.StatusCode(), got.Response.Header.ContentType(), got.Response.Body(),
			want.Response.StatusCode(), want.Response.Header.ContentType(), want.Response.Body())
	}
}

// BenchmarkHoldReply: a two-line hold written by appendHoldReply and by
// encoding/json (holdReply + Encoder), as the handlers did before.
func BenchmarkHoldReply(b *testing.B) {
	at := time.Date(2026, 11, 21, 10, 0, 0, 123456789, time.UTC)
	h := reservation.Hold{
		ID: "order-1001-3f0c9a7e", Channel: "site", State: reservation.HoldHeld, CreatedAt: at, ExpiresAt: at.Add(15 * time.Minute),
		Lines: []reservation.Line{{SKU: "8f1c2d3e-4f50-6172-8394-a5b6c7d8e9f0#a2c4e6f8-0a1b-2c3d-4e5f-60718293a4b5", Qty: 2},
			{SKU: "8f1c2d3e-4f50-6172-8394-a5b6c7d8e9f1", Qty: 1}},
		Allocations: []reservation.Allocation{
			{Line: 0, SKU: "8f1c2d3e-4f50-6172-8394-a5b6c7d8e9f0#a2c4e6f8-0a1b-2c3d-4e5f-60718293a4b5", Warehouse: "wh-msk", Qty: 2},
			{Line: 1, SKU: "8f1c2d3e-4f50-6172-8394-a5b6c7d8e9f1", Warehouse: "wh-spb", Qty: 1}},
	}
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		var ctx fasthttp.RequestCtx
		for b.Loop() {
			ctx.Response.ResetBody()
			writeHoldReply(&ctx, fasthttp.StatusCreated, &h)
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		var ctx fasthttp.RequestCtx
		for b.Loop() {
			ctx.Response.ResetBody()
			writeJSON(&ctx, fasthttp.StatusCreated, holdReply(&h))
		}
	})
}
