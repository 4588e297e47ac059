package feeds

import (
	"bytes"
	"net/http"
	"sync"
	"testing"
	"time"

	"stockd/feeds/yml"
	"stockd/reservation"
)

func TestHubServesSiteYML(t *testing.T) {
	led := newFakeLedger()
	cfg := ChannelConfig{Name: "site", Kind: KindSite, Price: &PricePolicy{PriceType: "retail", OldPriceType: "list"},
		YML: YMLConfig{Enabled: true, Shop: "Shop"}}
	ch, err := BuildChannel(cfg, Deps{Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer CloseChannels([]Channel{ch})
	h := newHub(t, led, openFileAcks(t, t.TempDir()), ch)
	defer closeHub(t, h)
	h.OnChanges([]reservation.ChannelChange{led.setQty("a#1", "site", 4), led.setQty("b", "site", 2)},
		[]reservation.PriceChange{led.setPrice("a#1", "retail", "99.90"), led.setPrice("a#1", "list", "120")}, time.Now())
	resp, err := h.ServeYML("site", yml.Request{})
	if err != nil {
		t.Fatal(err)
	}
	want := `<offer id="a#1" available="true"><price>99.90</price><oldprice>120</oldprice><currencyId>RUR</currencyId><count>4</count></offer>`
	if resp.Status != http.StatusOK || !bytes.Contains(resp.Body, []byte(want)) {
		t.Fatalf("feed %d:\n%s\nwant %s", resp.Status, resp.Body, want)
	}
	if bytes.Contains(resp.Body, []byte(`id="b"`)) {
		t.Fatal("an offer without a price is listed")
	}
	again, _ := h.ServeYML("site", yml.Request{IfNoneMatch: resp.ETag})
	if again.Status != http.StatusNotModified {
		t.Fatalf("unchanged feed: %d, want 304", again.Status)
	}
	if _, err := h.ServeYML("nope", yml.Request{}); err == nil {
		t.Fatal("unknown channel served")
	}
}

// TestYMLPriceJumpWaitsForApproval: in the YML feed as in a push, a price
// that changes by more than max_change_pct keeps the old price and waits
// in quarantine; once approved the feed shows it.
func TestYMLPriceJumpWaitsForApproval(t *testing.T) {
	led := newFakeLedger()
	cfg := ChannelConfig{Name: "site", Kind: KindSite, Price: &PricePolicy{PriceType: "retail", MaxChangePct: 50},
		YML: YMLConfig{Enabled: true, Shop: "Shop"}}
	var mu sync.Mutex
	clock := time.Now()
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return clock
	}
	ch, err := BuildChannel(cfg, Deps{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	defer CloseChannels([]Channel{ch})
	h := newHub(t, led, openFileAcks(t, t.TempDir()), ch)
	defer closeHub(t, h)
	feedPrice := func() string {
		t.Helper()
		mu.Lock()
		clock = clock.Add(yml.DefaultMinRebuild) // past the feed's rebuild interval
		mu.Unlock()
		resp, err := h.ServeYML("site", yml.Request{})
		if err != nil {
			t.Fatal(err)
		}
		i := bytes.Index(resp.Body, []byte("<price>"))
		j := bytes.Index(resp.Body, []byte("</price>"))
		if i < 0 || j < i {
			t.Fatalf("no price in %s", resp.Body)
		}
		return string(resp.Body[i+len("<price>") : j])
	}
	h.OnChanges([]reservation.ChannelChange{led.setQty("a", "site", 4)},
		[]reservation.PriceChange{led.setPrice("a", "retail", "100")}, time.Now())
	if got := feedPrice(); got != "100" {
		t.Fatalf("first price %s, want 100", got)
	}
	h.OnChanges(nil, []reservation.PriceChange{led.setPrice("a", "retail", "120")}, time.Now())
	if got := feedPrice(); got != "120" {
		t.Fatalf("a 20%% change: %s, want 120", got)
	}
	h.OnChanges(nil, []reservation.PriceChange{led.setPrice("a", "retail", "1200")}, time.Now())
	if got := feedPrice(); got != "120" {
		t.Fatalf("a tenfold jump is shown before approval: %s", got)
	}
	q, err := h.Quarantined("site")
	if err != nil || len(q) != 1 || !q[0].NeedsApproval || q[0].Offer != "a" {
		t.Fatalf("quarantine %+v %v, want a awaiting approval", q, err)
	}
	if err := h.Approve("site", "a"); err != nil {
		t.Fatal(err)
	}
	if got := feedPrice(); got != "1200" {
		t.Fatalf("after approval: %s, want 1200", got)
	}
}
