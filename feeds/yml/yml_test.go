package yml

import (
	"bytes"
	"compress/gzip"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

func newFeed(tb testing.TB) (*Feed, *clock) {
	tb.Helper()
	c := &clock{t: time.Date(2026, 11, 21, 10, 0, 0, 0, time.FixedZone("MSK", 3*3600))}
	cfg := DefaultConfig("Shop & Co", "Company", "https://shop.example")
	cfg.Now = c.Now
	f, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(f.Close)
	return f, c
}

type catalog struct {
	Date string `xml:"date,attr"`
	Shop struct {
		Name   string `xml:"name"`
		Offers []struct {
			ID        string `xml:"id,attr"`
			Available bool   `xml:"available,attr"`
			Price     string `xml:"price"`
			OldPrice  string `xml:"oldprice"`
			Currency  string `xml:"currencyId"`
			Count     int64  `xml:"count"`
		} `xml:"offers>offer"`
	} `xml:"shop"`
}

func TestFeedContent(t *testing.T) {
	f, _ := newFeed(t)
	if err := f.Set(Offer{ID: "КР-7/2", Price: 149950, OldPrice: 199900, Count: 5}, Offer{ID: "a&b", Price: 1000, Count: 0}); err != nil {
		t.Fatal(err)
	}
	resp := f.Serve(Request{})
	if resp.Status != http.StatusOK || resp.ContentEncoding != "" || !strings.HasPrefix(resp.ContentType, "application/xml") {
		t.Fatalf("response %+v", resp)
	}
	var c catalog
	if err := xml.Unmarshal(resp.Body, &c); err != nil {
		t.Fatalf("not XML: %v\n%s", err, resp.Body)
	}
	if c.Date != "2026-11-21T10:00:00+03:00" || c.Shop.Name != "Shop & Co" || len(c.Shop.Offers) != 2 {
		t.Fatalf("catalog %+v", c)
	}
	a, k := c.Shop.Offers[0], c.Shop.Offers[1] // sorted by id: "a&b" < "КР-7/2"
	if a.ID != "a&b" || a.Available || a.Price != "10" || a.OldPrice != "" || a.Count != 0 {
		t.Fatalf("offer a&b = %+v", a)
	}
	if k.ID != "КР-7/2" || !k.Available || k.Price != "1499.50" || k.OldPrice != "1999" || k.Currency != "RUR" || k.Count != 5 {
		t.Fatalf("offer КР-7/2 = %+v", k)
	}
}

func TestETagAnd304(t *testing.T) {
	f, c := newFeed(t)
	f.Set(Offer{ID: "A", Price: 100, Count: 1})
	first := f.Serve(Request{})
	if len(first.ETag) < 10 || first.ETag[0] != '"' {
		t.Fatalf("ETag %q is not a strong tag", first.ETag)
	}
	if r := f.Serve(Request{IfNoneMatch: `"other", ` + first.ETag}); r.Status != http.StatusNotModified || r.Body != nil {
		t.Fatalf("matching If-None-Match: %d", r.Status)
	}
	if r := f.Serve(Request{IfNoneMatch: `W/` + first.ETag}); r.Status != http.StatusNotModified {
		t.Fatalf("weak form: %d", r.Status)
	}
	c.t = c.t.Add(2 * time.Second)
	f.Set(Offer{ID: "A", Price: 100, Count: 0})
	second := f.Serve(Request{IfNoneMatch: first.ETag})
	if second.Status != http.StatusOK || second.ETag == first.ETag {
		t.Fatalf("after a change: status %d etag %s (was %s)", second.Status, second.ETag, first.ETag)
	}
	// Setting the same values changes nothing: same document, same tag.
	c.t = c.t.Add(2 * time.Second)
	f.Set(Offer{ID: "A", Price: 100, Count: 0})
	if r := f.Serve(Request{IfNoneMatch: second.ETag}); r.Status != http.StatusNotModified {
		t.Fatalf("unchanged feed rebuilt: %d", r.Status)
	}
}

func TestGzip(t *testing.T) {
	f, _ := newFeed(t)
	for i := range 1000 {
		f.Set(Offer{ID: fmt.Sprintf("offer-%04d", i), Price: int64(1000 + i), Count: int64(i % 7)})
	}
	plain := f.Serve(Request{})
	gz := f.Serve(Request{AcceptGzip: true})
	if gz.ContentEncoding != "gzip" || gz.Vary != "Accept-Encoding" || gz.ETag != plain.ETag {
		t.Fatalf("gzip response %+v", gz)
	}
	r, err := gzip.NewReader(bytes.NewReader(gz.Body))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, plain.Body) {
		t.Fatalf("gunzipped body differs (%v)", err)
	}
	if len(gz.Body)*3 > len(plain.Body) {
		t.Fatalf("gzip %d bytes for %d: not compressed", len(gz.Body), len(plain.Body))
	}
}

func TestRebuildRendersOnlyChangedOffers(t *testing.T) {
	f, c := newFeed(t)
	const n = 5000
	for i := range n {
		f.Set(Offer{ID: fmt.Sprintf("offer-%05d", i), Price: 1000, Count: 1})
	}
	f.Serve(Request{})
	if got := f.Stats().Rendered; got != n {
		t.Fatalf("first build rendered %d, want %d", got, n)
	}
	c.t = c.t.Add(time.Minute)
	f.Set(Offer{ID: "offer-00042", Price: 1000, Count: 9}, Offer{ID: "offer-04999", Price: 2000, Count: 1})
	f.Remove("offer-00007")
	resp := f.Serve(Request{})
	st := f.Stats()
	if st.Rendered != n+2 || st.Builds != 2 || st.Offers != n-1 {
		t.Fatalf("stats %+v, want %d rendered, 2 builds, %d offers", st, n+2, n-1)
	}
	if !bytes.Contains(resp.Body, []byte(`<offer id="offer-00042" available="true"><price>10</price><currencyId>RUR</currencyId><count>9</count>`)) ||
		bytes.Contains(resp.Body, []byte(`offer-00007`)) {
		t.Fatal("rebuilt body misses the change")
	}
}

func TestMinRebuildServesTheBuiltDocument(t *testing.T) {
	f, c := newFeed(t)
	f.Set(Offer{ID: "A", Price: 100, Count: 1})
	first := f.Serve(Request{})
	c.t = c.t.Add(100 * time.Millisecond)
	f.Set(Offer{ID: "A", Price: 100, Count: 2})
	if r := f.Serve(Request{}); r.ETag != first.ETag {
		t.Fatal("rebuilt within MinRebuild")
	}
	c.t = c.t.Add(time.Second)
	if r := f.Serve(Request{}); r.ETag == first.ETag {
		t.Fatal("not rebuilt after MinRebuild")
	}
}

func BenchmarkServe100k(b *testing.B) {
	f, c := newFeed(b)
	const n = 100000
	for i := range n {
		f.Set(Offer{ID: fmt.Sprintf("offer-%06d", i), Price: int64(1000 + i), Count: int64(i % 9)})
	}
	f.Serve(Request{AcceptGzip: true})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		c.t = c.t.Add(2 * time.Second)
		f.Set(Offer{ID: fmt.Sprintf("offer-%06d", i%n), Price: int64(i), Count: 1}) // one offer changed
		resp := f.Serve(Request{AcceptGzip: true})
		if resp.Status != http.StatusOK {
			b.Fatal(resp.Status)
		}
	}
	b.ReportMetric(float64(f.Stats().Bytes), "feed_bytes")
}
