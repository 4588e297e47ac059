package marketsim

import (
	"math"
	"math/rand/v2"
	"time"
)

// DemandOffer is an offer buyers may order, at the warehouse it ships from.
type DemandOffer struct {
	OfferID     string
	WarehouseID string
}

// Demand describes simulated buyers: orders arrive as a Poisson process of
// PerMinute on average, each with 1..MaxLines lines of 1..MaxQty units of
// offers from one warehouse, and CancelShare of them are cancelled within
// CancelAfter of their creation.
type Demand struct {
	PerMinute   float64
	Offers      []DemandOffer
	MaxLines    int
	MaxQty      int64
	CancelShare float64
	CancelAfter time.Duration
	Seed        uint64
}

// MaxDueOrders bounds the orders one Due call makes, so a clock that jumps
// far ahead cannot make a simulator allocate without end.
const MaxDueOrders = 10000

// GenOrder is one generated order.
type GenOrder struct {
	At          time.Time
	WarehouseID string
	Lines       []OrderLine
	CancelAt    time.Time // zero: never cancelled
}

// OrderGen generates the orders of a Demand from a seeded generator, so
// the same seed and clock readings give the same orders. Not safe for
// concurrent use: a simulator calls it under its own lock.
type OrderGen struct {
	d    Demand
	rng  *rand.Rand
	next time.Time
}

// NewOrderGen starts generating at start. A demand with no offers or no
// rate generates nothing.
func NewOrderGen(d Demand, start time.Time) *OrderGen {
	if d.MaxLines < 1 {
		d.MaxLines = 1
	}
	if d.MaxQty < 1 {
		d.MaxQty = 1
	}
	g := &OrderGen{d: d, rng: rand.New(rand.NewPCG(d.Seed, d.Seed^0x2545f4914f6cdd1d))}
	g.next = start.Add(g.gap())
	return g
}

// Due returns the orders created up to now that were not returned before.
func (g *OrderGen) Due(now time.Time) []GenOrder {
	if g.d.PerMinute <= 0 || len(g.d.Offers) == 0 {
		return nil
	}
	var out []GenOrder
	for !g.next.After(now) && len(out) < MaxDueOrders {
		out = append(out, g.order(g.next))
		g.next = g.next.Add(g.gap())
	}
	return out
}

func (g *OrderGen) gap() time.Duration {
	if g.d.PerMinute <= 0 {
		return time.Duration(math.MaxInt64)
	}
	mean := float64(time.Minute) / g.d.PerMinute
	return time.Duration(g.rng.ExpFloat64()*mean) + 1
}

func (g *OrderGen) order(at time.Time) GenOrder {
	first := g.d.Offers[g.rng.IntN(len(g.d.Offers))]
	o := GenOrder{At: at, WarehouseID: first.WarehouseID}
	lines := 1 + g.rng.IntN(g.d.MaxLines)
	seen := make(map[string]bool, lines)
	for i := 0; i < lines; i++ {
		offer := first
		if i > 0 {
			offer = g.d.Offers[g.rng.IntN(len(g.d.Offers))]
		}
		if offer.WarehouseID != o.WarehouseID || seen[offer.OfferID] {
			continue
		}
		seen[offer.OfferID] = true
		o.Lines = append(o.Lines, OrderLine{OfferID: offer.OfferID, Qty: 1 + g.rng.Int64N(g.d.MaxQty)})
	}
	if g.rng.Float64() < g.d.CancelShare {
		after := time.Duration(1)
		if g.d.CancelAfter > 0 {
			after += time.Duration(g.rng.Int64N(int64(g.d.CancelAfter)))
		}
		o.CancelAt = at.Add(after)
	}
	return o
}
