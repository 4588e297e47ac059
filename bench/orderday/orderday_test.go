package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// smallDay is a short, busy day: few SKUs, so the last units are fought over.
func smallDay(seed uint64, buffer int64) Params {
	p := DefaultParams()
	p.Orders, p.SKUs, p.Day, p.Seed, p.Buffer = 2000, 100, time.Hour, seed, buffer
	p.LeadTimeMin, p.LeadTimeMax = 5*time.Minute, 20*time.Minute
	return p
}

func play(tb testing.TB, p Params) Result {
	tb.Helper()
	s, err := newSim(p)
	if err != nil {
		tb.Fatal(err)
	}
	r, err := s.run()
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func TestDayIsDeterministicAndAccountsForEveryBuyer(t *testing.T) {
	a, b := play(t, smallDay(7, 1)), play(t, smallDay(7, 1))
	if a.Accepted != b.Accepted || a.Oversold != b.Oversold || a.Exposure != b.Exposure || a.Pushes != b.Pushes {
		t.Errorf("same seed, different days:\n%+v\n%+v", a, b)
	}
	for c := range numChannels {
		if got, want := a.Accepted[c]+a.Lost[c], a.Buyers[c]; got != want {
			t.Errorf("%s: accepted %d + lost %d != buyers %d", channelNames[c], a.Accepted[c], a.Lost[c], want)
		}
		if a.Buyers[c] == 0 || a.Accepted[c] == 0 {
			t.Errorf("%s: no buyers or no orders: %+v", channelNames[c], a)
		}
	}
	if a.RecordedShort[chSite] != 0 {
		t.Errorf("a website order was recorded short: %d", a.RecordedShort[chSite])
	}
	if a.Cancelled == 0 || a.Receipts == 0 || a.Pushes[chOzon] == 0 {
		t.Errorf("the day exercised too little: %+v", a)
	}
}

// TestBufferLowersMarketplaceExposure: holding one unit back from every
// marketplace shows them less than is really there, summed over a few
// busy days.
func TestBufferLowersMarketplaceExposure(t *testing.T) {
	var with, without float64
	for seed := uint64(1); seed <= 3; seed++ {
		w, o := play(t, smallDay(seed, 1)), play(t, smallDay(seed, 0))
		for c := chOzon; c < numChannels; c++ {
			with += w.Exposure[c]
			without += o.Exposure[c]
		}
	}
	if with >= without {
		t.Errorf("marketplace exposure with buffer 1: %.1f unit·h, without: %.1f; want lower with", with, without)
	}
}

func TestCommandPrintsTheMarkdownBlock(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"-orders", "2000", "-skus", "100", "-seeds", "1"}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"buffer 1:", "buffer 0:", "| marketplace buffer |", "\n| 1 | ", "\n| 0 | "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestParamsAreChecked(t *testing.T) {
	p := DefaultParams()
	p.Poll[chYM] = 0
	if _, err := newSim(p); err == nil {
		t.Error("a zero poll interval was accepted")
	}
}
