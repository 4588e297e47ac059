package feeds

import (
	"bytes"
	"net/http"
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
