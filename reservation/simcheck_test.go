package reservation

import (
	"reflect"
	"slices"
	"time"
)

type skuChannel struct{ sku, channel string }

func (s *sim) channelQtys() map[skuChannel]int64 {
	out := map[skuChannel]int64{}
	for _, sku := range simSKUs {
		for _, ch := range simChannels {
			out[skuChannel{sku, ch}] = s.m.chanQty(sku, ch)
		}
	}
	return out
}

// checkChanges: every (SKU, channel) whose quantity moved is reported with
// its final quantity; one command reports nothing else.
func (s *sim) checkChanges(before map[skuChannel]int64, single bool) {
	after := s.channelQtys()
	last := map[skuChannel]int64{}
	for _, c := range s.fx.Changes {
		last[skuChannel{c.SKU, c.Channel}] = c.Qty
	}
	for k, q := range after {
		reported, ok := last[k]
		switch {
		case q != before[k] && !ok:
			s.fatalf("%v changed %d → %d but was not reported (changes %+v)", k, before[k], q, s.fx.Changes)
		case ok && reported != q:
			s.fatalf("%v reported %d, now %d", k, reported, q)
		case ok && single && q == before[k]:
			s.fatalf("%v reported without a change (%d)", k, q)
		}
	}
	for k := range last {
		if _, ok := after[k]; !ok && slices.Contains(simSKUs, k.sku) {
			s.fatalf("reported %v outside the universe", k)
		}
	}
}

func (s *sim) checkState() {
	s.t.Helper()
	if err := s.l.checkInvariants(); err != nil {
		s.fatalf("invariant: %v", err)
	}
	for _, sku := range simSKUs {
		s.checkSKU(sku)
	}
	if got, want := s.l.Short(nil), s.m.short(); !slices.Equal(got, want) {
		s.fatalf("short %v, model %v", got, want)
	}
	if got, want := s.l.ActiveHolds(), s.m.activeHolds(); got != want {
		s.fatalf("active holds %d, model %d", got, want)
	}
	for _, id := range s.ids {
		s.checkHold(id)
	}
	var offsets []Source
	for p, o := range s.m.offsets {
		offsets = append(offsets, Source{Topic: p.Topic, Partition: p.Partition, Offset: o})
	}
	slices.SortFunc(offsets, func(a, b Source) int { return int(a.Partition - b.Partition) })
	if got := s.l.Offsets(nil); !slices.Equal(got, offsets) {
		s.fatalf("offsets %+v, model %+v", got, offsets)
	}
	for k, want := range s.m.prices {
		if got, ok := s.l.Price(k[0], k[1]); !ok || got != want {
			s.fatalf("price %v = %+v, model %+v", k, got, want)
		}
	}
}

func (s *sim) checkSKU(sku string) {
	for _, ch := range simChannels {
		got, err := s.l.Available(sku, ch)
		if want := s.m.chanQty(sku, ch); err != nil || got != want || got < 0 {
			s.fatalf("Available(%s, %s) = %d %v, model %d", sku, ch, got, err, want)
		}
	}
	ws := s.l.Warehouses(sku, nil)
	if (len(ws) > 0) != s.m.known[sku] {
		s.fatalf("%s: ledger knows it %v, model %v", sku, len(ws) > 0, s.m.known[sku])
	}
	if _, isKit := s.m.kits[sku]; isKit {
		return
	}
	for _, w := range ws {
		k := [2]string{sku, w.Warehouse}
		want := WarehouseStock{Warehouse: w.Warehouse, Free: s.m.free[k], Held: s.m.held(sku, w.Warehouse),
			Safety: s.m.safety(sku, w.Warehouse), Available: s.m.avail(sku, w.Warehouse)}
		if w != want {
			s.fatalf("%s: %+v, model %+v", sku, w, want)
		}
	}
}

func (s *sim) checkHold(id string) {
	var got Hold
	found := s.l.Hold(id, &got)
	mh, ok := s.m.holds[id]
	if found != ok {
		s.fatalf("hold %s: found %v, model %v", id, found, ok)
	}
	if !ok {
		return
	}
	want := Hold{ID: id, Channel: mh.req.Channel, State: mh.state, Forced: mh.req.Force, TTL: mh.req.TTL,
		CreatedAt: timeOf(mh.createdAt), ExpiresAt: timeOf(mh.expiresAt), Seq: got.Seq, Lines: mh.req.Lines, Allocations: mh.allocs}
	if !reflect.DeepEqual(got, want) {
		s.fatalf("hold %s:\n%+v\nmodel\n%+v", id, got, want)
	}
	if got.State == HoldHeld && (got.ExpiresAt.IsZero() || got.ExpiresAt.Before(time.Unix(0, 0))) {
		s.fatalf("held hold %s without expiry", id)
	}
}
