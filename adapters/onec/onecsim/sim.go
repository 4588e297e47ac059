// Package onecsim simulates a 1C base sending stock and price events, for
// `stockd demo` and load tests: a full stock snapshot of every SKU first,
// then a steady stream of document lines (stock.adjust), recounts
// (stock.set) and price changes, in the event format of onec.events.
//
//	sim := onecsim.New(onecsim.Config{SKUs: 2000, Warehouses: []string{"wh-msk"}, Seed: 1})
//	msgs := sim.Snapshot(now)   // one stock.set and price.set per SKU
//	msgs = sim.Next(now, 100)   // the next 100 changes
package onecsim

import (
	"fmt"
	"math/rand/v2"
	"time"

	"stockd/reservation"
)

// Config shapes the simulated catalog.
type Config struct {
	Source     string   // the 1C base name in events
	SKUs       int      // catalog size
	Warehouses []string // 1C warehouse ids
	PriceType  string   // 1C price type Ид of the retail price
	MaxStock   int64    // initial stock per cell is uniform in [0, MaxStock]
	Seed       uint64
}

// MaxSKUs bounds the simulated catalog.
const MaxSKUs = 1_000_000

// Message is one event ready for Kafka: key and JSON value.
type Message struct {
	Key   string
	Value []byte
}

// Sim generates events. Not safe for concurrent use.
type Sim struct {
	cfg   Config
	rng   *rand.Rand
	seq   uint64
	stock [][]int64 // [sku][warehouse], as 1C last reported it
	price []int64   // kopecks
}

// New returns a simulator; it panics on a config that cannot work.
func New(cfg Config) *Sim {
	if cfg.SKUs <= 0 || cfg.SKUs > MaxSKUs || len(cfg.Warehouses) == 0 {
		panic(fmt.Sprintf("onecsim: need 1..%d SKUs and a warehouse", MaxSKUs))
	}
	if cfg.Source == "" {
		cfg.Source = "demo-ut11"
	}
	if cfg.PriceType == "" {
		cfg.PriceType = "retail"
	}
	if cfg.MaxStock <= 0 {
		cfg.MaxStock = 20
	}
	s := &Sim{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))}
	s.stock = make([][]int64, cfg.SKUs)
	s.price = make([]int64, cfg.SKUs)
	for i := range s.stock {
		s.stock[i] = make([]int64, len(cfg.Warehouses))
		for w := range s.stock[i] {
			s.stock[i][w] = s.rng.Int64N(cfg.MaxStock + 1)
		}
		s.price[i] = 10000 + s.rng.Int64N(500000)
	}
	return s
}

// SKU names the i-th simulated SKU.
func SKU(i int) string { return fmt.Sprintf("demo-sku-%d", i+1) }

// Snapshot returns a stock.set for every cell and a price.set per SKU.
func (s *Sim) Snapshot(now time.Time) []Message {
	out := make([]Message, 0, s.cfg.SKUs*(len(s.cfg.Warehouses)+1))
	for i := range s.stock {
		for w := range s.stock[i] {
			out = append(out, s.stockSet(i, w, now))
		}
		out = append(out, s.priceSet(i, now))
	}
	return out
}

// Next returns n changes: mostly sales and receipts (stock.adjust),
// some recounts (stock.set) and price changes.
func (s *Sim) Next(now time.Time, n int) []Message {
	out := make([]Message, 0, n)
	for range n {
		i := s.rng.IntN(s.cfg.SKUs)
		w := s.rng.IntN(len(s.cfg.Warehouses))
		switch r := s.rng.IntN(100); {
		case r < 70:
			out = append(out, s.adjust(i, w, now))
		case r < 90:
			s.stock[i][w] = s.rng.Int64N(s.cfg.MaxStock + 1)
			out = append(out, s.stockSet(i, w, now))
		default:
			s.price[i] += s.price[i] * (s.rng.Int64N(11) - 5) / 100
			s.price[i] = max(s.price[i], 100)
			out = append(out, s.priceSet(i, now))
		}
	}
	return out
}

func (s *Sim) adjust(i, w int, now time.Time) Message {
	delta := s.rng.Int64N(5) + 1
	if s.rng.IntN(2) == 0 && s.stock[i][w] >= delta {
		delta = -delta // a sale in 1C
	}
	s.stock[i][w] += delta
	ev := s.event(reservation.EventStockAdjust, i, now)
	ev.Warehouse, ev.Delta = s.cfg.Warehouses[w], delta
	return encode(&ev)
}

func (s *Sim) stockSet(i, w int, now time.Time) Message {
	ev := s.event(reservation.EventStockSet, i, now)
	ev.Warehouse, ev.Qty = s.cfg.Warehouses[w], s.stock[i][w]
	return encode(&ev)
}

func (s *Sim) priceSet(i int, now time.Time) Message {
	ev := s.event(reservation.EventPriceSet, i, now)
	ev.PriceType, ev.Currency = s.cfg.PriceType, "RUB"
	d, err := reservation.ParseDecimal(fmt.Sprintf("%d.%02d", s.price[i]/100, s.price[i]%100))
	if err != nil {
		panic("onecsim: price: " + err.Error())
	}
	ev.Price = d
	return encode(&ev)
}

func (s *Sim) event(t reservation.EventType, i int, now time.Time) reservation.Event {
	s.seq++
	return reservation.Event{V: reservation.EventSchemaVersion, ID: fmt.Sprintf("%s-%d", s.cfg.Source, s.seq),
		Source: s.cfg.Source, Seq: s.seq, At: now.Add(time.Duration(s.seq) * time.Microsecond), Type: t, SKU: SKU(i)}
}

func encode(ev *reservation.Event) Message {
	data, err := reservation.EncodeEvent(ev)
	if err != nil {
		panic("onecsim: generated an invalid event: " + err.Error())
	}
	return Message{Key: ev.SKU, Value: data}
}
