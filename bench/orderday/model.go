package main

import (
	"fmt"
	"time"

	"stockd/engine/intake"
	"stockd/feeds"
	"stockd/feeds/limit"
)

// The channels of the day: the website and the three marketplaces, all
// selling from one 1C warehouse.
const (
	chSite = iota
	chOzon
	chWB
	chYM
	numChannels
)

var channelNames = [numChannels]string{"site", "ozon", "wildberries", "yandexmarket"}

const warehouse = "wh-msk"

// Params describe one simulated day.
type Params struct {
	// Orders is the buyers arriving over the day on all channels (the
	// accepted orders are fewer: a buyer finding nothing leaves).
	Orders int
	Day    time.Duration
	SKUs   int
	// ZipfS skews demand over SKUs (rank k has weight 1/k^s).
	ZipfS float64
	// Share of the buyers per channel.
	Share [numChannels]float64
	// Buffer is the marketplaces' stock policy buffer (percent 100).
	Buffer int64
	// Poll is the intake interval per marketplace (0 for the site).
	Poll [numChannels]time.Duration
	// ExchangeEvery is how often 1C takes orders (type=sale&mode=query).
	ExchangeEvery time.Duration
	// OneCDelay is the mean delay of a 1C stock figure (exponential,
	// at least OneCMinDelay), in order per SKU (one Kafka partition).
	OneCDelay, OneCMinDelay time.Duration
	// LeadTimeMin..LeadTimeMax is when a replenishment arrives after the
	// reorder point is reached.
	LeadTimeMin, LeadTimeMax time.Duration
	// CancelShare of marketplace orders are cancelled within CancelWithin.
	CancelShare  float64
	CancelWithin time.Duration
	// PushLatency is a push request's round trip.
	PushLatency time.Duration
	// Forget sends a marketplace's figure for a SKU again after the
	// intake recorded or released an order of it there (feeds.Hub.Forget
	// wired to intake.Config.Touched).
	Forget bool
	Seed   uint64
}

// DefaultParams is the day the figures in BENCHMARKS.md come from.
func DefaultParams() Params {
	return Params{
		Orders: 100_000, Day: 24 * time.Hour, SKUs: 5000, ZipfS: 1.05,
		Share:  [numChannels]float64{0.40, 0.25, 0.20, 0.15},
		Buffer: 1,
		Poll: [numChannels]time.Duration{0, intake.DefaultOzonPollInterval, intake.DefaultWildberriesPollInterval,
			intake.DefaultYandexMarketPollInterval},
		ExchangeEvery: 5 * time.Minute,
		OneCDelay:     60 * time.Second, OneCMinDelay: 5 * time.Second,
		LeadTimeMin: 2 * time.Hour, LeadTimeMax: 8 * time.Hour,
		CancelShare: 0.05, CancelWithin: time.Hour,
		PushLatency: 300 * time.Millisecond,
		Forget:      true,
		Seed:        1,
	}
}

func (p Params) validate() error {
	switch {
	case p.Orders < 1 || p.SKUs < 1 || p.Day <= 0:
		return fmt.Errorf("orders, skus and day must be positive")
	case p.Buffer < 0:
		return fmt.Errorf("buffer must not be negative")
	case p.ExchangeEvery <= 0 || p.OneCDelay <= 0 || p.LeadTimeMax < p.LeadTimeMin || p.CancelWithin <= 0:
		return fmt.Errorf("exchange, 1C delay, lead time and cancellation window must be positive")
	}
	for c := chOzon; c < numChannels; c++ {
		if p.Poll[c] <= 0 {
			return fmt.Errorf("poll interval of %s must be positive", channelNames[c])
		}
	}
	return nil
}

// pushRules are a marketplace stock method as the clients pace it: the
// documented limits at feeds.DefaultHeadroom, the batch maximum and the
// per-item cooldown the hub keeps (Ozon).
type pushRules struct {
	minGap      time.Duration // between requests
	batch       int
	itemsPerSec float64 // 0: not limited per item
	cooldown    time.Duration
}

func rulesFor(c int) pushRules {
	h := feeds.DefaultHeadroom
	gap := func(n int, per time.Duration) time.Duration {
		return time.Duration(float64(time.Second) / (h * limit.PerPeriod(n, per)))
	}
	switch c {
	case chOzon: // 80 stock requests/min, 100 pairs, 30 s per pair (+0.5 s margin)
		return pushRules{minGap: gap(80, time.Minute), batch: 100, cooldown: 30*time.Second + 500*time.Millisecond}
	case chWB: // 300 requests/min, 1000 items
		return pushRules{minGap: gap(300, time.Minute), batch: 1000}
	default: // YM: 100,000 offers/min, 2000 a request
		return pushRules{minGap: 0, batch: 2000, itemsPerSec: h * 100_000 / 60}
	}
}
