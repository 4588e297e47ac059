package reservation

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// testConfig: three warehouses, three channels with every strategy shape.
func testConfig() Config {
	return Config{
		Channels: []ChannelConfig{
			{Name: "site", Warehouses: []string{"msk", "spb"}, Strategy: StrategyPriority, AllowSplit: true},
			{Name: "ozon", Warehouses: []string{"msk", "spb", "ekb"}, Strategy: StrategyMostStock},
			{Name: "wb", Warehouses: []string{"ekb", "msk"}, Strategy: StrategyPriority},
		},
		DefaultHoldTTL: 15 * time.Minute,
	}
}

// env drives a ledger the way the engine does: every command's records are
// encoded into a journal, which tests replay into fresh ledgers.
type env struct {
	tb      testing.TB
	cfg     Config
	l       *Ledger
	fx      Effects
	journal [][]byte
	seq     uint64
	offset  int64
	now     time.Time
}

func newEnv(tb testing.TB, cfg Config) *env {
	tb.Helper()
	l, err := New(cfg)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return &env{tb: tb, cfg: cfg, l: l, now: t0}
}

// commit moves the last command's records to the journal and returns the
// channel changes.
func (e *env) commit() []ChannelChange {
	for i := range e.fx.Records {
		e.journal = append(e.journal, MarshalRecord(&e.fx.Records[i]))
	}
	changes := append([]ChannelChange(nil), e.fx.Changes...)
	e.fx.Reset()
	return changes
}

func (e *env) event(ev Event) (Outcome, error) {
	e.tb.Helper()
	e.seq++
	e.offset++
	ev.V, ev.Source, ev.Seq = 1, "ut11", e.seq
	if ev.ID == "" {
		ev.ID = fmt.Sprintf("ev-%d", e.seq)
	}
	if ev.At.IsZero() {
		ev.At = e.now
	}
	out, err := e.l.ApplyEvent(&ev, Source{Topic: "onec.events", Partition: 0, Offset: e.offset}, &e.fx)
	e.commit()
	return out, err
}

func (e *env) mustEvent(ev Event) Outcome {
	e.tb.Helper()
	out, err := e.event(ev)
	if err != nil {
		e.tb.Fatalf("event %v %s: %v", ev.Type, ev.SKU, err)
	}
	return out
}

func (e *env) set(sku, wh string, qty int64, handoff ...string) Outcome {
	e.tb.Helper()
	return e.mustEvent(Event{Type: EventStockSet, SKU: sku, Warehouse: wh, Qty: qty, Handoff: handoff})
}

func (e *env) kit(sku string, comps ...KitComponent) Outcome {
	e.tb.Helper()
	return e.mustEvent(Event{Type: EventItemUpsert, SKU: sku, Kit: comps})
}

func (e *env) reserve(id, channel string, lines ...Line) (ReserveResult, error) {
	e.tb.Helper()
	res, err := e.l.Reserve(ReserveRequest{ID: id, Channel: channel, Lines: lines}, e.now, &e.fx)
	e.commit()
	return res, err
}

func (e *env) mustReserve(id, channel string, lines ...Line) ReserveResult {
	e.tb.Helper()
	res, err := e.reserve(id, channel, lines...)
	if err != nil {
		e.tb.Fatalf("Reserve %s: %v", id, err)
	}
	return res
}

func (e *env) avail(sku, channel string) int64 {
	e.tb.Helper()
	q, err := e.l.Available(sku, channel)
	if err != nil {
		e.tb.Fatalf("Available: %v", err)
	}
	return q
}

func (e *env) wantAvail(sku, channel string, want int64) {
	e.tb.Helper()
	if got := e.avail(sku, channel); got != want {
		e.tb.Fatalf("Available(%s, %s) = %d, want %d", sku, channel, got, want)
	}
}

func (e *env) hold(id string) Hold {
	e.tb.Helper()
	var h Hold
	if !e.l.Hold(id, &h) {
		e.tb.Fatalf("hold %s not found", id)
	}
	return h
}

// replayed rebuilds a ledger from the journal alone.
func (e *env) replayed() *Ledger {
	e.tb.Helper()
	return replayJournal(e.tb, e.cfg, nil, e.journal)
}

// checkReplay asserts that the journal reproduces the ledger exactly.
func (e *env) checkReplay() {
	e.tb.Helper()
	if got, want := e.replayed().Snapshot(), e.l.Snapshot(); !bytes.Equal(got, want) {
		e.tb.Fatalf("replayed state differs from live state")
	}
}

// replayJournal restores snapshot (nil: empty) and applies the encoded
// records after its Seq.
func replayJournal(tb testing.TB, cfg Config, snapshot []byte, journal [][]byte) *Ledger {
	tb.Helper()
	var l *Ledger
	var err error
	if snapshot == nil {
		l, err = New(cfg)
	} else {
		l, err = Restore(cfg, snapshot)
	}
	if err != nil {
		tb.Fatalf("restore: %v", err)
	}
	for i, raw := range journal {
		rec, err := DecodeRecord(raw)
		if err != nil {
			tb.Fatalf("journal[%d]: %v", i, err)
		}
		if rec.Seq <= l.Seq() {
			continue
		}
		if err := l.ApplyRecord(&rec, nil); err != nil {
			tb.Fatalf("journal[%d]: %v", i, err)
		}
	}
	return l
}
