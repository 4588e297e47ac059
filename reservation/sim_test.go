package reservation

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

var (
	simSeeds = flag.Int("sim.seeds", 8, "TestSimulation runs seeds 1..N")
	simSteps = flag.Int("sim.steps", 2000, "TestSimulation steps per seed")
	simSeed  = flag.Uint64("sim.seed", 0, "TestSimulation runs only this seed")
)

// TestSimulation drives the ledger and a simple model with the same random
// commands and 1C events and compares them after every step; the journal
// can lose its unsynced tail (a crash), after which the ledger is rebuilt
// from the last synced snapshot and records and the model from its copy at
// the sync. A failure names the seed and step: rerun with -sim.seed=N.
func TestSimulation(t *testing.T) {
	seeds := []uint64{*simSeed}
	if *simSeed == 0 {
		seeds = nil
		for i := 1; i <= *simSeeds; i++ {
			seeds = append(seeds, uint64(i))
		}
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			newSim(t, seed).run(*simSteps)
		})
	}
}

var (
	simSKUs       = []string{"s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "zz"}
	simWarehouses = []string{"msk", "spb", "ekb", "kzn"}
	simChannels   = []string{"site", "ozon", "wb"}
)

func simConfig() Config {
	cfg := testConfig()
	cfg.Channels[2].AllowSplit = true // wb: priority with split; ozon: most_stock without
	cfg.SafetyStock = []SafetyStock{{Warehouse: "msk", Qty: 1}, {Warehouse: "spb", SKU: "s1", Qty: 2}}
	cfg.DefaultHoldTTL = 10 * time.Minute
	cfg.Limits = Limits{
		MaxLinesPerHold: 4, MaxQtyPerLine: 6, MaxHoldsPerSKU: 5, MaxActiveHolds: 40, MaxRetainedHolds: 15,
		MaxKitComponents: 3, MaxKitsPerComponent: 2, MaxAdjustDedupeIDs: 6, MaxHoldTTL: time.Hour,
	}
	return cfg
}

// simJournal is the journal as recovery sees it: appended records become
// durable at sync; a crash loses the rest.
type simJournal struct {
	records [][]byte
	synced  int
}

func (j *simJournal) append(rec []byte) { j.records = append(j.records, rec) }
func (j *simJournal) sync()             { j.synced = len(j.records) }
func (j *simJournal) crash() [][]byte {
	j.records = j.records[:j.synced]
	return j.records
}

type sim struct {
	t     *testing.T
	seed  uint64
	step  int
	rng   *rand.Rand
	cfg   Config
	l     *Ledger
	m     *model
	fx    Effects
	j     simJournal
	now   int64
	evSeq uint64
	op    string // the step's command, for failure messages

	offsets   [2]int64
	nextID    int
	ids       []string
	reqs      map[string]ReserveRequest
	adjustIDs []string

	snap        []byte // taken at a sync: recovery starts here
	syncedModel *model
	checkSnap   []byte // for snapshot+restore+replay checks
}

func newSim(t *testing.T, seed uint64) *sim {
	s := &sim{t: t, seed: seed, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), cfg: simConfig(),
		now: t0.UnixNano(), reqs: map[string]ReserveRequest{}}
	l, err := New(s.cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.l, s.m = l, newModel(s.cfg)
	s.syncedModel = s.m.clone()
	s.offsets = [2]int64{-1, -1}
	return s
}

func (s *sim) fatalf(format string, args ...any) {
	s.t.Helper()
	s.t.Fatalf("seed=%d step=%d: %s\nop: %s", s.seed, s.step, fmt.Sprintf(format, args...), s.op)
}

func (s *sim) run(steps int) {
	for s.step = 1; s.step <= steps; s.step++ {
		s.stepOnce()
		if s.step%250 == 0 {
			s.checkReplay()
		}
	}
	s.checkReplay()
}

func (s *sim) stepOnce() {
	before := s.channelQtys()
	wantRecords, single := s.randomOp()
	if got := len(s.fx.Records); got != wantRecords {
		s.fatalf("%d records, model expects %d", got, wantRecords)
	}
	s.checkChanges(before, single)
	for i := range s.fx.Records {
		s.j.append(MarshalRecord(&s.fx.Records[i]))
	}
	s.fx.Reset()
	s.checkState()
	switch r := s.rng.IntN(100); {
	case r < 8:
		s.sync()
	case r == 8:
		s.crash()
	}
	if s.rng.IntN(100) == 0 {
		s.checkSnap = s.l.Snapshot()
	}
}

func (s *sim) sync() {
	s.j.sync()
	s.syncedModel = s.m.clone()
	if s.rng.IntN(3) == 0 {
		s.snap = s.l.Snapshot()
	}
}

// crash loses the unsynced records and recovers both sides.
func (s *sim) crash() {
	s.l = replayJournal(s.t, s.cfg, s.snap, s.j.crash())
	s.m = s.syncedModel.clone()
	if s.checkSnap != nil {
		if snapSeq(s.t, s.cfg, s.checkSnap) > s.l.Seq() {
			s.checkSnap = nil
		}
	}
	s.checkState()
}

func snapSeq(tb testing.TB, cfg Config, snap []byte) uint64 {
	l, err := Restore(cfg, snap)
	if err != nil {
		tb.Fatal(err)
	}
	return l.Seq()
}

func (s *sim) checkReplay() {
	s.t.Helper()
	want := s.l.Snapshot()
	if got := replayJournal(s.t, s.cfg, nil, s.j.records).Snapshot(); !bytes.Equal(got, want) {
		s.fatalf("journal replayed into an empty ledger differs from the live state")
	}
	if s.checkSnap != nil {
		if got := replayJournal(s.t, s.cfg, s.checkSnap, s.j.records).Snapshot(); !bytes.Equal(got, want) {
			s.fatalf("snapshot + restore + replay differs from the live state")
		}
	}
	if restored, err := Restore(s.cfg, want); err != nil || !bytes.Equal(restored.Snapshot(), want) {
		s.fatalf("snapshot does not restore to itself: %v", err)
	}
}

// randomOp runs one command on both sides and compares the replies. It
// returns the records the model expects and whether it was one command.
func (s *sim) randomOp() (int, bool) {
	s.now += int64(s.rng.IntN(20)) * int64(time.Second)
	switch r := s.rng.IntN(100); {
	case r < 30:
		return s.opReserve(s.newRequest()), true
	case r < 34:
		return s.opReplay(false), true
	case r < 37:
		return s.opReplay(true), true
	case r < 44:
		return s.opConfirm(), true
	case r < 53:
		return s.opRelease(), true
	case r < 56:
		return s.opHandoff(), true
	case r < 61:
		return s.opExpire(), false
	case r < 73:
		return s.opEvent(s.stockEvent(EventStockSet)), true
	case r < 81:
		return s.opEvent(s.stockEvent(EventStockAdjust)), true
	case r < 86:
		return s.opEvent(s.upsertEvent()), true
	case r < 88:
		return s.opEvent(Event{Type: EventItemDelete, SKU: s.pick(simSKUs)}), true
	case r < 91:
		return s.opEvent(Event{Type: EventReservationHandoff, ReservationID: s.anyID()}), true
	case r < 93:
		return s.opEvent(Event{Type: EventPriceSet, SKU: s.pick(simSKUs), PriceType: s.pick([]string{"retail", "opt"}),
			Price: Decimal{Units: int64(s.rng.IntN(3)) * 100, Scale: 2}, Currency: "RUB"}), true
	case r < 95:
		return s.opRedeliver(), true
	case r < 96:
		return s.opSkip(), true
	default:
		s.now += int64(5+s.rng.IntN(15)) * int64(time.Minute)
		return s.opExpire(), false
	}
}

func (s *sim) pick(from []string) string { return from[s.rng.IntN(len(from))] }

func (s *sim) anyID() string {
	if len(s.ids) == 0 || s.rng.IntN(10) == 0 {
		return "nohold"
	}
	return s.ids[s.rng.IntN(len(s.ids))]
}

func (s *sim) newRequest() ReserveRequest {
	s.nextID++
	req := ReserveRequest{ID: fmt.Sprintf("h%d", s.nextID), Channel: s.pick(simChannels), Force: s.rng.IntN(12) == 0}
	if s.rng.IntN(40) == 0 {
		req.Channel = "nope"
	}
	for range 1 + s.rng.IntN(5) {
		req.Lines = append(req.Lines, Line{SKU: s.pick(simSKUs), Qty: 1 + int64(s.rng.IntN(7))})
	}
	switch s.rng.IntN(6) {
	case 0:
		req.TTL = time.Duration(1+s.rng.IntN(30)) * time.Minute
	case 1:
		req.TTL = time.Duration(50+s.rng.IntN(20)) * time.Minute
	}
	return req
}

func (s *sim) opReserve(req ReserveRequest) int {
	s.op = fmt.Sprintf("reserve %+v", req)
	got, err := s.l.Reserve(req, time.Unix(0, s.now), &s.fx)
	want, n, werr := s.m.reserve(req, s.now)
	s.sameErr("reserve "+req.ID, err, werr)
	if err == nil {
		if got.Replayed != want.Replayed || got.State != want.State || !got.ExpiresAt.Equal(want.ExpiresAt) {
			s.fatalf("reserve %s = %+v, model %+v", req.ID, got, want)
		}
		if _, seen := s.reqs[req.ID]; !seen {
			s.ids = append(s.ids, req.ID)
			s.reqs[req.ID] = req
		}
	}
	return n
}

func (s *sim) opReplay(conflict bool) int {
	if len(s.ids) == 0 {
		return s.opReserve(s.newRequest())
	}
	req := s.reqs[s.pick(s.ids)]
	req.Lines = slices.Clone(req.Lines)
	if conflict {
		req.Lines[0].Qty++
	}
	return s.opReserve(req)
}

func (s *sim) ttl() time.Duration {
	switch s.rng.IntN(4) {
	case 0:
		return 0
	case 1:
		return 2 * time.Hour
	}
	return time.Duration(1+s.rng.IntN(20)) * time.Minute
}

func (s *sim) opConfirm() int {
	id, ttl := s.anyID(), s.ttl()
	s.op = fmt.Sprintf("confirm %s %v", id, ttl)
	err := s.l.Confirm(id, ttl, time.Unix(0, s.now), &s.fx)
	n, werr := s.m.confirm(id, ttl, s.now)
	s.sameErr("confirm "+id, err, werr)
	return n
}

func (s *sim) opRelease() int {
	id := s.anyID()
	s.op = "release " + id
	err := s.l.Release(id, time.Unix(0, s.now), &s.fx)
	n, werr := s.m.release(id)
	s.sameErr("release "+id, err, werr)
	return n
}

func (s *sim) opHandoff() int {
	id := s.anyID()
	s.op = "handoff " + id
	err := s.l.Handoff(id, time.Unix(0, s.now), &s.fx)
	n, werr := s.m.handoff(id)
	s.sameErr("handoff "+id, err, werr)
	return n
}

func (s *sim) opExpire() int {
	maxHolds := 1 + s.rng.IntN(6)
	s.op = fmt.Sprintf("expire %d", maxHolds)
	n := s.l.Expire(time.Unix(0, s.now), maxHolds, &s.fx)
	want := s.m.expire(s.now, maxHolds)
	var got []string
	for _, r := range s.fx.Records {
		got = append(got, r.HoldID)
	}
	if n != len(want) || !slices.Equal(got, want) {
		s.fatalf("expired %v (%d), model %v", got, n, want)
	}
	if next, ok := s.l.NextExpiry(); n < maxHolds && ok && next.UnixNano() <= s.now {
		s.fatalf("a hold outlives its expiry %v after Expire(%v)", next, time.Unix(0, s.now))
	}
	return n
}

func (s *sim) handoffIDs() []string {
	if s.rng.IntN(3) != 0 {
		return nil
	}
	ids := []string{s.anyID()}
	if s.rng.IntN(3) == 0 {
		ids = append(ids, s.anyID())
	}
	return ids
}

func (s *sim) stockEvent(t EventType) Event {
	ev := Event{Type: t, SKU: s.pick(simSKUs[:10]), Warehouse: s.pick(simWarehouses), Handoff: s.handoffIDs()}
	if t == EventStockSet {
		ev.Qty = int64(s.rng.IntN(15)) - 2
		ev.At = time.Unix(0, s.now+int64(s.rng.IntN(5)-2)*int64(time.Second)).UTC()
		return ev
	}
	ev.Delta = int64(s.rng.IntN(9)) - 3
	if len(s.adjustIDs) > 0 && s.rng.IntN(3) == 0 {
		ev.ID = s.pick(s.adjustIDs)
	} else {
		ev.ID = fmt.Sprintf("adj-%d", len(s.adjustIDs))
		s.adjustIDs = append(s.adjustIDs, ev.ID)
	}
	return ev
}

func (s *sim) upsertEvent() Event {
	ev := Event{Type: EventItemUpsert, SKU: s.pick(simSKUs[:10]), Name: s.pick([]string{"", "Чайник", "Набор"})}
	if s.rng.IntN(2) == 0 {
		for range 1 + s.rng.IntN(4) {
			if c := s.pick(simSKUs[:10]); c != ev.SKU {
				ev.Kit = append(ev.Kit, KitComponent{SKU: c, Qty: 1 + int64(s.rng.IntN(3))})
			}
		}
	}
	return ev
}

func (s *sim) nextSource() Source {
	p := s.rng.IntN(2)
	s.offsets[p]++
	return Source{Topic: "onec.events", Partition: int32(p), Offset: s.offsets[p]}
}

func (s *sim) fill(ev *Event) {
	s.evSeq++
	ev.V, ev.Source, ev.Seq = 1, "ut11", s.evSeq
	if ev.ID == "" {
		ev.ID = fmt.Sprintf("e%d", s.evSeq)
	}
	if ev.At.IsZero() {
		ev.At = time.Unix(0, s.now).UTC()
	}
}

func (s *sim) opEvent(ev Event) int {
	s.fill(&ev)
	return s.applyEvent(ev, s.nextSource())
}

func (s *sim) applyEvent(ev Event, src Source) int {
	s.op = fmt.Sprintf("event %+v from %+v", ev, src)
	out, err := s.l.ApplyEvent(&ev, src, &s.fx)
	wout, n, werr := s.m.event(ev, src)
	s.sameErr(fmt.Sprintf("event %v %s", ev.Type, ev.SKU), err, werr)
	if out != wout {
		s.fatalf("event %+v: outcome %v, model %v", ev, out, wout)
	}
	return n
}

func (s *sim) opRedeliver() int {
	p := s.rng.IntN(2)
	if s.offsets[p] < 0 {
		return s.opSkip()
	}
	ev := Event{Type: EventItemDelete, SKU: "s0"}
	s.fill(&ev)
	return s.applyEvent(ev, Source{Topic: "onec.events", Partition: int32(p), Offset: s.rng.Int64N(s.offsets[p] + 1)})
}

func (s *sim) opSkip() int {
	src := s.nextSource()
	s.op = fmt.Sprintf("skip %+v", src)
	if err := s.l.SkipEvent(src, &s.fx); err != nil {
		s.fatalf("skip: %v", err)
	}
	s.m.offsets[Partition{src.Topic, src.Partition}] = src.Offset
	return 1
}

func errClass(err error) string {
	var le *LimitError
	if errors.As(err, &le) {
		return "limit " + le.Name
	}
	for _, sentinel := range []error{ErrInsufficientStock, ErrIdempotencyConflict, ErrHoldNotFound, ErrHoldNotActive,
		ErrHoldHandedOff, ErrUnknownChannel, ErrInvalidRequest, ErrInvalidEvent} {
		if errors.Is(err, sentinel) {
			return sentinel.Error()
		}
	}
	if err == nil {
		return "ok"
	}
	return "other: " + err.Error()
}

func (s *sim) sameErr(what string, got, want error) {
	s.t.Helper()
	if errClass(got) != errClass(want) {
		s.fatalf("%s: err %v, model %v", what, got, want)
	}
	var gi, wi *InsufficientError
	if errors.As(got, &gi) && errors.As(want, &wi) && !slices.Equal(gi.Lines, wi.Lines) {
		s.fatalf("%s: shortage %+v, model %+v", what, gi.Lines, wi.Lines)
	}
	if gi != nil {
		for _, ln := range gi.Lines {
			if ln.Available < 0 {
				s.fatalf("%s: negative available in reply %+v", what, ln)
			}
		}
	}
}
