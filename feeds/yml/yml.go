// Package yml builds a channel's Yandex Market YML feed (the "placement"
// file: price, currency, stock of each offer) for GET /feeds/{channel}.yml,
// served from memory: the document, its gzip form and a strong ETag are
// kept until an offer changes, and each offer's <offer> fragment is kept
// in a ristretto cache, so a rebuild after a few changes renders only
// those offers and concatenates the rest.
//
//	f, _ := yml.New(yml.DefaultConfig("My shop", "My company", "https://shop.example"))
//	defer f.Close()
//	f.Set(yml.Offer{ID: "КР-7/2", Price: 149900, Count: 5})
//	resp := f.Serve(yml.Request{IfNoneMatch: r.Header("If-None-Match"), AcceptGzip: true})
package yml

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dgraph-io/ristretto/v2"
)

// Limits and defaults.
const (
	// MaxOffers bounds the offers of one feed.
	MaxOffers = 1 << 21
	// MaxIDBytes bounds an offer id (Yandex Market allows 255 characters).
	MaxIDBytes = 1024
	// DefaultFragmentCacheBytes holds the fragments of about 200,000
	// offers.
	DefaultFragmentCacheBytes = 64 << 20
	// DefaultMinRebuild: requests within this of the last build get it,
	// even if offers changed since.
	DefaultMinRebuild = time.Second
	// dateLayout is RFC 3339 with the zone, as yml_catalog's date wants.
	dateLayout = "2006-01-02T15:04:05-07:00"
)

// Offer is one offer as the feed shows it. Amounts are kopecks.
type Offer struct {
	ID       string
	Price    int64
	OldPrice int64 // crossed-out price; 0: none
	Count    int64
}

// Config configures a Feed.
type Config struct {
	Shop, Company, URL string
	// CurrencyID is the YML currency ("RUR" for roubles).
	CurrencyID string
	Now        func() time.Time
	// MaxOffers bounds the offers; Set refuses more.
	MaxOffers int
	// FragmentCacheBytes is the ristretto cache's MaxCost.
	FragmentCacheBytes int64
	// MinRebuild: a request within this of the last build is served the
	// built document although offers changed since.
	MinRebuild time.Duration
	// GzipLevel is the compress/gzip level of the gzip form.
	GzipLevel int
}

// DefaultConfig is a feed in roubles at the package defaults.
func DefaultConfig(shop, company, url string) Config {
	return Config{Shop: shop, Company: company, URL: url, CurrencyID: "RUR", Now: time.Now, MaxOffers: MaxOffers,
		FragmentCacheBytes: DefaultFragmentCacheBytes, MinRebuild: DefaultMinRebuild, GzipLevel: gzip.BestSpeed}
}

// ErrTooManyOffers means Set would pass MaxOffers.
var ErrTooManyOffers = errors.New("yml: too many offers")

// Feed is one channel's YML document. Safe for concurrent use.
type Feed struct {
	cfg   Config
	cache *ristretto.Cache[string, *fragment]

	mu      sync.Mutex
	offers  map[string]Offer
	ids     []string // sorted; nil when it must be rebuilt
	changed bool
	doc     *document
	stats   Stats
}

type fragment struct {
	offer Offer
	xml   []byte
}

type document struct {
	body  []byte
	gz    []byte // built on the first request that accepts gzip
	etag  string
	built time.Time
}

// Stats count builds and renders, for tests and metrics.
type Stats struct {
	Builds   int
	Rendered int // offer fragments rendered (cache misses)
	Offers   int
	Bytes    int
}

// New makes an empty feed; Close releases its cache.
func New(cfg Config) (*Feed, error) {
	switch {
	case cfg.Now == nil:
		return nil, errors.New("yml: no clock")
	case cfg.CurrencyID == "":
		return nil, errors.New("yml: no currency id")
	case cfg.MaxOffers < 1 || cfg.MaxOffers > MaxOffers:
		return nil, fmt.Errorf("yml: MaxOffers %d outside 1..%d", cfg.MaxOffers, MaxOffers)
	case cfg.FragmentCacheBytes < 1<<10:
		return nil, errors.New("yml: FragmentCacheBytes below 1 KiB")
	case cfg.MinRebuild < 0:
		return nil, errors.New("yml: negative MinRebuild")
	case cfg.GzipLevel < gzip.HuffmanOnly || cfg.GzipLevel > gzip.BestCompression:
		return nil, fmt.Errorf("yml: gzip level %d", cfg.GzipLevel)
	}
	cache, err := ristretto.NewCache(&ristretto.Config[string, *fragment]{
		NumCounters:            int64(cfg.MaxOffers) * 10, // ristretto advises 10× the items kept
		MaxCost:                cfg.FragmentCacheBytes,
		BufferItems:            64, // ristretto's recommended Get buffer size
		Metrics:                false,
		OnEvict:                nil,
		OnReject:               nil,
		OnExit:                 nil,
		ShouldUpdate:           func(cur, prev *fragment) bool { return true },
		KeyToHash:              nil, // ristretto's default hash of a string key
		Cost:                   nil, // the cost is given to Set: the fragment's bytes
		IgnoreInternalCost:     true,
		TtlTickerDurationInSec: 60, // no entry has a TTL; the ticker only idles
	})
	if err != nil {
		return nil, fmt.Errorf("yml: cache: %w", err)
	}
	return &Feed{cfg: cfg, cache: cache, offers: make(map[string]Offer)}, nil
}

// Close releases the cache.
func (f *Feed) Close() { f.cache.Close() }

// Set adds or replaces offers.
func (f *Feed) Set(offers ...Offer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, o := range offers {
		if o.ID == "" || len(o.ID) > MaxIDBytes {
			return fmt.Errorf("yml: offer id of %d bytes", len(o.ID))
		}
		old, ok := f.offers[o.ID]
		if !ok {
			if len(f.offers) >= f.cfg.MaxOffers {
				return fmt.Errorf("%w: %d", ErrTooManyOffers, f.cfg.MaxOffers)
			}
			f.ids = nil
		}
		if ok && old == o {
			continue
		}
		f.offers[o.ID] = o
		f.changed = true
	}
	return nil
}

// Remove takes offers out of the feed.
func (f *Feed) Remove(ids ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		if _, ok := f.offers[id]; ok {
			delete(f.offers, id)
			f.ids = nil
			f.changed = true
		}
	}
}

// Stats returns the counters.
func (f *Feed) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

// Request is what Serve needs of an HTTP request.
type Request struct {
	IfNoneMatch string // the If-None-Match header
	AcceptGzip  bool   // Accept-Encoding allows gzip
}

// Response is what the HTTP layer writes back.
type Response struct {
	Status          int    // 200 or 304
	Body            []byte // nil for 304; shared, do not modify
	ContentType     string
	ContentEncoding string // "gzip" or ""
	ETag            string
	Vary            string
	LastModified    string // http.TimeFormat
}

// Serve returns the feed, rebuilt if offers changed (at most once per
// MinRebuild), or 304 when If-None-Match names the current ETag.
func (f *Feed) Serve(req Request) Response {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.cfg.Now()
	if f.doc == nil || (f.changed && now.Sub(f.doc.built) >= f.cfg.MinRebuild) {
		f.build(now)
	}
	d := f.doc
	resp := Response{ContentType: "application/xml; charset=utf-8", ETag: d.etag, Vary: "Accept-Encoding",
		LastModified: d.built.UTC().Format(http.TimeFormat)}
	if etagMatches(req.IfNoneMatch, d.etag) {
		resp.Status = http.StatusNotModified
		return resp
	}
	resp.Status = http.StatusOK
	resp.Body = d.body
	if req.AcceptGzip {
		if d.gz == nil {
			d.gz = gzipBytes(d.body, f.cfg.GzipLevel)
		}
		resp.Body, resp.ContentEncoding = d.gz, "gzip"
	}
	return resp
}

// build renders the document from cached fragments, rendering the offers
// whose fragment is missing or stale.
func (f *Feed) build(now time.Time) {
	if f.ids == nil {
		f.ids = make([]string, 0, len(f.offers))
		for id := range f.offers {
			f.ids = append(f.ids, id)
		}
		sort.Strings(f.ids)
	}
	var b bytes.Buffer
	size := 512
	if f.doc != nil {
		size = len(f.doc.body) + 4096
	}
	b.Grow(size)
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	fmt.Fprintf(&b, `<yml_catalog date="%s">`+"\n<shop>\n", now.Format(dateLayout))
	writeElement(&b, "name", f.cfg.Shop)
	writeElement(&b, "company", f.cfg.Company)
	writeElement(&b, "url", f.cfg.URL)
	b.WriteString(`<currencies><currency id="`)
	xml.EscapeText(&b, []byte(f.cfg.CurrencyID))
	b.WriteString(`" rate="1"/></currencies>` + "\n<offers>\n")
	for _, id := range f.ids {
		o := f.offers[id]
		frag, ok := f.cache.Get(id)
		if !ok || frag.offer != o {
			frag = &fragment{offer: o, xml: renderOffer(o, f.cfg.CurrencyID)}
			f.cache.Set(id, frag, int64(len(frag.xml)+len(id)))
			f.stats.Rendered++
		}
		b.Write(frag.xml)
	}
	b.WriteString("</offers>\n</shop>\n</yml_catalog>\n")
	f.cache.Wait() // the fragments just set are there for the next build
	sum := sha256.Sum256(b.Bytes())
	f.doc = &document{body: b.Bytes(), etag: `"` + hex.EncodeToString(sum[:16]) + `"`, built: now}
	f.changed = false
	f.stats.Builds++
	f.stats.Offers = len(f.ids)
	f.stats.Bytes = b.Len()
}

func writeElement(b *bytes.Buffer, name, text string) {
	b.WriteString("<" + name + ">")
	xml.EscapeText(b, []byte(text))
	b.WriteString("</" + name + ">\n")
}

// renderOffer is one <offer>: available says whether any unit can be
// ordered; count is the stock.
func renderOffer(o Offer, currency string) []byte {
	var b bytes.Buffer
	b.WriteString(`<offer id="`)
	xml.EscapeText(&b, []byte(o.ID))
	b.WriteString(`" available="` + strconv.FormatBool(o.Count > 0) + `"><price>` + amount(o.Price) + "</price>")
	if o.OldPrice > o.Price {
		b.WriteString("<oldprice>" + amount(o.OldPrice) + "</oldprice>")
	}
	b.WriteString("<currencyId>")
	xml.EscapeText(&b, []byte(currency))
	b.WriteString("</currencyId><count>" + strconv.FormatInt(max(o.Count, 0), 10) + "</count></offer>\n")
	return b.Bytes()
}

// amount renders kopecks: whole roubles, or two decimals.
func amount(kopecks int64) string {
	if kopecks%100 == 0 {
		return strconv.FormatInt(kopecks/100, 10)
	}
	return fmt.Sprintf("%d.%02d", kopecks/100, kopecks%100)
}

func gzipBytes(body []byte, level int) []byte {
	var b bytes.Buffer
	w, err := gzip.NewWriterLevel(&b, level)
	if err != nil {
		panic(err) // the level was checked by New
	}
	w.Write(body)
	w.Close()
	return b.Bytes()
}

// etagMatches applies If-None-Match (weak comparison, "*" matches all).
func etagMatches(header, etag string) bool {
	for _, part := range strings.Split(header, ",") {
		part = strings.TrimPrefix(strings.TrimSpace(part), "W/")
		if part == "*" || (part != "" && part == etag) {
			return true
		}
	}
	return false
}
