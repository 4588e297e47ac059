package reservation

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unsafe"
)

// HoldState is where a hold is in its life: held → confirmed → handed_off,
// or released / expired.
type HoldState uint8

const (
	// HoldHeld: stock is held until the hold's expiry.
	HoldHeld HoldState = iota + 1
	// HoldConfirmed: the order was placed; no expiry unless one was given.
	HoldConfirmed
	// HoldHandedOff: 1C now carries the order in its own stock figures.
	HoldHandedOff
	// HoldReleased: the hold was released; its stock is free again.
	HoldReleased
	// HoldExpired: the hold passed its expiry and was released by Expire.
	HoldExpired
)

var holdStateNames = [...]string{"", "held", "confirmed", "handed_off", "released", "expired"}

func (s HoldState) String() string {
	if int(s) < len(holdStateNames) && s != 0 {
		return holdStateNames[s]
	}
	return fmt.Sprintf("HoldState(%d)", uint8(s))
}

// Active reports whether the hold still holds stock (held or confirmed).
func (s HoldState) Active() bool { return s == HoldHeld || s == HoldConfirmed }

// Line is one requested (SKU, qty); the SKU may be a kit.
type Line struct {
	SKU string
	Qty int64
}

// ReserveRequest asks for a hold. Lines are all-or-nothing.
type ReserveRequest struct {
	// ID is the idempotency key (e.g. the order id).
	ID string
	// Channel is a configured channel name; it picks warehouses and strategy.
	Channel string
	Lines   []Line
	// TTL of a held hold; zero means Config.DefaultHoldTTL. For a forced
	// hold zero means no expiry.
	TTL time.Duration
	// Force records a marketplace order that was already sold: the hold is
	// created confirmed whatever the stock, and a SKU without enough stock
	// becomes short. Not settable from the reserve request JSON.
	Force bool
}

// ReserveResult is the outcome of a successful Reserve. Read the hold's
// allocations with Ledger.Hold.
type ReserveResult struct {
	// Seq is the record that created the hold: the reply may be sent once
	// the journal has made Seq durable (also for a replay).
	Seq       uint64
	Replayed  bool // an exact replay of an earlier request
	State     HoldState
	ExpiresAt time.Time // zero: no expiry
}

// Allocation is part of a line taken from one warehouse. For a kit line the
// SKU is the component.
type Allocation struct {
	Line      int // index into the hold's Lines
	SKU       string
	Warehouse string
	Qty       int64
	HandedOff bool // consumed by a stock figure that named the hold
}

// Hold is a copy of a hold for replies. Its slices are reused by Ledger.Hold.
type Hold struct {
	ID          string
	Channel     string
	State       HoldState
	Forced      bool
	TTL         time.Duration // as requested
	CreatedAt   time.Time
	ExpiresAt   time.Time // zero: no expiry
	Seq         uint64    // record that created it
	Lines       []Line
	Allocations []Allocation
}

// hold is the ledger's own record of a hold.
//
// The replay window keeps hundreds of thousands of closed holds, and the
// garbage collector would visit every pointer they hold on every cycle (at
// 200,000 holds with four pointers each, a cycle's marking took 10–20 ms
// and set the reserve API's p99). So a hold has no pointers, and the slab
// costs the collector nothing: the id's bytes are inline, the channel is
// an index into the ledger's table of hold channels, and lines and
// allocations sit in the inline buffers, counted; a hold that outgrows
// them is spilled, its lines and allocations in the hold index's arenas (spill.go).
type hold struct {
	state     HoldState
	forced    bool
	spilled   bool   // lines and allocations are in the index's arenas (moreOf)
	nLines    uint8  // lines in lineBuf (when not spilled)
	nAllocs   uint8  // allocations in allocBuf (when not spilled)
	idLen     uint8  // the id is idBuf[:idLen]
	channel   uint16 // index in Ledger.holdChans
	heapIdx   int32  // index in Ledger.expiry, -1 when not there
	ttl       int64  // as requested, ns
	createdAt int64
	expiresAt int64 // unix ns, 0 = no expiry
	seq       uint64
	ref       uint32 // slot in holdIndex's slab
	entry     uint64 // holdIndex slot value, 0 when not indexed
	// Small holds keep lines and allocations inline: no allocation of
	// their own, adjacent cache lines.
	lineBuf  [1]holdLine
	allocBuf [2]holdAlloc
	idBuf    [MaxIDBytes]byte // last: a short id touches one cache line more at most
}

// An id's length is kept in a byte.
const _ = uint8(MaxIDBytes)

// idView is the hold's id, a view of the hold's memory: valid while the
// hold is (its slab slot is reused after it leaves the replay window), so
// anything that outlives the call copies it or uses the caller's id.
func (h *hold) idView() string {
	return unsafe.String(&h.idBuf[0], int(h.idLen))
}

func (h *hold) setID(id string) {
	assert(len(id) <= MaxIDBytes, "hold id length")
	h.idLen = uint8(copy(h.idBuf[:], id))
}

type holdLine struct {
	sku uint32
	qty int64
}

type holdAlloc struct {
	sku      uint32
	wh       uint16
	line     uint16
	consumed bool // handed off by a stock figure
	qty      int64
}

// newHold returns a hold from the slab with empty lines and allocations,
// which go inline until they outgrow the buffers. The caller sets every
// other field.
func (l *Ledger) newHold() *hold {
	h := l.holds.alloc()
	l.holds.unspill(h)
	h.nLines, h.nAllocs = 0, 0
	h.heapIdx, h.entry = -1, 0
	return h
}

// maxHoldChannels bounds the distinct channel names of holds: the
// configured channels and any that restored holds name.
const maxHoldChannels = 1 << 12

// holdChannel returns the index of a hold's channel name, adding it to
// the table; ok is false when the table is full.
func (l *Ledger) holdChannel(name string) (uint16, bool) {
	if len(l.holdChans) <= 8 {
		for i, n := range l.holdChans {
			if n == name {
				return uint16(i), true
			}
		}
	} else if i, ok := l.holdChanIDs[name]; ok {
		return i, true
	}
	if len(l.holdChans) >= maxHoldChannels {
		return 0, false
	}
	i := uint16(len(l.holdChans))
	l.holdChans = append(l.holdChans, name)
	l.holdChanIDs[name] = i
	return i, true
}

// channelOf is the name of h's channel.
func (l *Ledger) channelOf(h *hold) string { return l.holdChans[h.channel] }

// Hold copies the hold with this id into dst, reusing dst's slices. It
// reports false when the id is unknown (or left the replay window).
func (l *Ledger) Hold(id string, dst *Hold) bool {
	h, ok := l.holds.get(id)
	if !ok {
		return false
	}
	*dst = Hold{
		ID: id, Channel: l.channelOf(h), State: h.state, Forced: h.forced,
		TTL: time.Duration(h.ttl), CreatedAt: timeOf(h.createdAt), ExpiresAt: timeOf(h.expiresAt),
		Seq: h.seq, Lines: dst.Lines[:0], Allocations: dst.Allocations[:0],
	}
	for _, ln := range l.holds.lines(h) {
		var d *Line
		dst.Lines, d = extend(dst.Lines)
		d.SKU, d.Qty = l.skus[ln.sku].name, ln.qty
	}
	for _, a := range l.holds.allocs(h) {
		var d *Allocation
		dst.Allocations, d = extend(dst.Allocations)
		d.Line, d.SKU, d.Warehouse, d.Qty, d.HandedOff = int(a.line), l.skus[a.sku].name, l.whs[a.wh].name, a.qty, a.consumed
	}
	return true
}

func (l *Ledger) result(h *hold, replayed bool) ReserveResult {
	return ReserveResult{Seq: h.seq, Replayed: replayed, State: h.state, ExpiresAt: timeOf(h.expiresAt)}
}

// Reserve creates a hold for all lines or none. An exact replay of an
// earlier request with the same id returns the original result; the same id
// with another body fails with ErrIdempotencyConflict. On success fx gets
// one record and the changed channel quantities.
func (l *Ledger) Reserve(req ReserveRequest, now time.Time, fx *Effects) (ReserveResult, error) {
	// The id's index slot is prefetched now and read only once the hold is
	// placed, which hides most of the cache miss; an existing hold then
	// decides the answer and the placement is undone.
	idHash := l.holds.hash(req.ID)
	l.holds.prefetchSlot(idHash)
	if err := l.checkRequest(&req); err != nil {
		return ReserveResult{}, err
	}
	err := l.planRequest(&req)
	if err != nil || len(l.plan.unknown) > 0 {
		// a forced hold that would intern SKUs looks first: interning
		// cannot be undone
		if h := l.holds.find(req.ID, idHash); h != nil {
			return l.replayed(h, &req)
		}
		if err != nil {
			return ReserveResult{}, err
		}
	}
	assert(fx != nil, "command without Effects")
	changes := len(fx.Changes)
	h := l.buildHold(&req, now.UnixNano())
	l.beginViews(fx)
	l.holdStock(h)
	l.endViews(fx)
	l.recordReserve(h, req.ID, fx)
	if old := l.holds.find(req.ID, idHash); old != nil {
		l.undoReserve(h, fx, changes)
		return l.replayed(old, &req)
	}
	l.holds.put(h, idHash)
	return l.result(h, false), nil
}

// undoReserve takes back a Reserve whose id turned out to exist: its record,
// its channel changes (those after the first changes), its stock and its
// (never indexed) hold.
func (l *Ledger) undoReserve(h *hold, fx *Effects, changes int) {
	fx.Records = fx.Records[:len(fx.Records)-1]
	l.seq--
	fx.Changes = fx.Changes[:changes]
	l.unholdStock(h)
}

// replayed answers a Reserve whose id exists.
func (l *Ledger) replayed(h *hold, req *ReserveRequest) (ReserveResult, error) {
	if !l.sameRequest(h, req) {
		return ReserveResult{}, fmt.Errorf("%w: hold %q exists with another body", ErrIdempotencyConflict, req.ID)
	}
	return l.result(h, true), nil
}

// planRequest checks the channel and the active-hold limit and plans the
// allocations into l.plan.
func (l *Ledger) planRequest(req *ReserveRequest) error {
	chIdx, ok := l.channelIndex(req.Channel)
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownChannel, req.Channel)
	}
	if l.active >= l.lim.MaxActiveHolds {
		return limitErr("MaxActiveHolds", int64(l.lim.MaxActiveHolds), int64(l.active+1), "")
	}
	return l.planHold(req, &l.channels[chIdx])
}

func (l *Ledger) checkRequest(req *ReserveRequest) error {
	if req.ID == "" || len(req.ID) > MaxIDBytes {
		return requestErr("id", fmt.Sprintf("must be 1..%d bytes", MaxIDBytes))
	}
	if req.Channel == "" {
		return requestErr("channel", "required")
	}
	if len(req.Lines) == 0 {
		return requestErr("lines", "at least one line is required")
	}
	if len(req.Lines) > l.lim.MaxLinesPerHold {
		return limitErr("MaxLinesPerHold", int64(l.lim.MaxLinesPerHold), int64(len(req.Lines)), req.ID)
	}
	for i, ln := range req.Lines {
		if ln.SKU == "" || len(ln.SKU) > MaxSKUBytes {
			return requestErr(fmt.Sprintf("lines[%d].sku", i), fmt.Sprintf("must be 1..%d bytes", MaxSKUBytes))
		}
		if ln.Qty < 1 {
			return requestErr(fmt.Sprintf("lines[%d].qty", i), "must be at least 1")
		}
		if ln.Qty > l.lim.MaxQtyPerLine {
			return limitErr("MaxQtyPerLine", l.lim.MaxQtyPerLine, ln.Qty, ln.SKU)
		}
	}
	if req.TTL < 0 || req.TTL > l.lim.MaxHoldTTL {
		return limitErr("MaxHoldTTL", int64(l.lim.MaxHoldTTL/time.Second), int64(req.TTL/time.Second), req.ID)
	}
	return nil
}

// sameRequest: an exact replay has the same channel, lines, ttl and force.
func (l *Ledger) sameRequest(h *hold, req *ReserveRequest) bool {
	lines := l.holds.lines(h)
	if l.channelOf(h) != req.Channel || h.forced != req.Force || h.ttl != int64(req.TTL) || len(lines) != len(req.Lines) {
		return false
	}
	for i, ln := range lines {
		if ln.qty != req.Lines[i].Qty || l.skus[ln.sku].name != req.Lines[i].SKU {
			return false
		}
	}
	return true
}

// buildHold turns a successful plan into a hold, interning the SKUs a forced
// hold names that the ledger has not seen yet.
func (l *Ledger) buildHold(req *ReserveRequest, now int64) *hold {
	for _, name := range l.plan.unknown {
		l.internSKU(name)
	}
	h := l.newHold()
	ch, ok := l.holdChannel(req.Channel)
	assert(ok, "a configured channel has a hold channel index")
	h.setID(req.ID)
	h.channel, h.forced = ch, req.Force
	h.ttl, h.createdAt, h.state = int64(req.TTL), now, HoldHeld
	h.seq = l.seq + 1 // the record that will be emitted for it
	h.expiresAt = 0
	switch {
	case req.Force:
		h.state = HoldConfirmed
		if req.TTL > 0 {
			h.expiresAt = now + int64(req.TTL)
		}
	case req.TTL > 0:
		h.expiresAt = now + int64(req.TTL)
	default:
		h.expiresAt = now + int64(l.cfg.DefaultHoldTTL)
	}
	for i, ln := range req.Lines {
		l.holds.addLine(h, holdLine{sku: l.plan.lineIDs[i], qty: ln.Qty})
	}
	l.holds.addAllocs(h, l.plan.allocs...)
	return h
}

// installHold adds a complete hold to the ledger: the path for replayed and
// restored holds. The caller has begun views.
func (l *Ledger) installHold(h *hold, idHash uint32) {
	l.holdStock(h)
	l.holds.put(h, idHash)
}

// holdStock applies a new hold's allocations to the cells and counts it as
// active; unholdStock undoes it exactly for a hold that was never indexed.
func (l *Ledger) holdStock(h *hold) {
	allocs := l.holds.allocs(h)
	for i, a := range allocs {
		if !a.consumed {
			if firstOfSKU(allocs, i) {
				l.skus[a.sku].holds++
			}
			l.addHeld(a.sku, a.wh, a.qty)
		}
	}
	l.active++
	if h.expiresAt != 0 {
		l.expiry.push(h)
	}
}

func (l *Ledger) unholdStock(h *hold) {
	allocs := l.holds.allocs(h)
	for i, a := range allocs {
		if !a.consumed {
			if firstOfSKU(allocs, i) {
				l.skus[a.sku].holds--
			}
			l.addHeld(a.sku, a.wh, -a.qty)
		}
	}
	l.active--
	l.expiry.remove(h)
	l.holds.unalloc(h)
}

// firstOfSKU reports whether allocs[i] is the first unconsumed allocation
// of its SKU: per-SKU hold counts move once per hold, not per allocation.
func firstOfSKU(allocs []holdAlloc, i int) bool {
	if allocs[i].consumed {
		return false
	}
	for j := range i {
		if !allocs[j].consumed && allocs[j].sku == allocs[i].sku {
			return false
		}
	}
	return true
}

// Confirm marks a hold as an order. ttl zero means no expiry; otherwise the
// hold expires at now+ttl. Confirming a handed-off hold is a no-op.
func (l *Ledger) Confirm(id string, ttl time.Duration, now time.Time, fx *Effects) error {
	if ttl < 0 || ttl > l.lim.MaxHoldTTL {
		return limitErr("MaxHoldTTL", int64(l.lim.MaxHoldTTL/time.Second), int64(ttl/time.Second), id)
	}
	h, err := l.activeHold(id)
	if err != nil || h == nil {
		return err
	}
	expiresAt := int64(0)
	if ttl > 0 {
		expiresAt = now.UnixNano() + int64(ttl)
	}
	if h.state == HoldConfirmed && h.expiresAt == expiresAt {
		return nil
	}
	l.confirm(h, expiresAt)
	rec := l.record(fx, RecordConfirm, now.UnixNano(), id)
	rec.TTL, rec.ExpiresAt = ttl, expiresAt
	return nil
}

func (l *Ledger) confirm(h *hold, expiresAt int64) {
	h.state = HoldConfirmed
	l.expiry.remove(h)
	h.expiresAt = expiresAt
	if expiresAt != 0 {
		l.expiry.push(h)
	}
}

// activeHold returns the active hold, (nil, nil) for a handed-off one, or
// ErrHoldNotFound / ErrHoldNotActive.
func (l *Ledger) activeHold(id string) (*hold, error) {
	h, ok := l.holds.get(id)
	switch {
	case !ok:
		return nil, fmt.Errorf("%w: %q", ErrHoldNotFound, id)
	case h.state == HoldHandedOff:
		return nil, nil
	case !h.state.Active():
		return nil, fmt.Errorf("%w: %q is %v", ErrHoldNotActive, id, h.state)
	}
	return h, nil
}

// Release frees a hold's stock. Releasing a released or expired hold is a
// no-op; a handed-off hold returns ErrHoldHandedOff.
func (l *Ledger) Release(id string, now time.Time, fx *Effects) error {
	h, ok := l.holds.get(id)
	switch {
	case !ok:
		return fmt.Errorf("%w: %q", ErrHoldNotFound, id)
	case h.state == HoldHandedOff:
		return fmt.Errorf("%w: %q", ErrHoldHandedOff, id)
	case !h.state.Active():
		return nil
	}
	l.beginViews(fx)
	l.closeHold(h, HoldReleased)
	l.endViews(fx)
	l.record(fx, RecordRelease, now.UnixNano(), id)
	return nil
}

// Handoff records that 1C took over the hold's stock (e.g. after the 1C
// exchange protocol's mode=success): its remaining allocations are consumed.
// Send it after 1C's lower stock figures, so the window is conservative.
func (l *Ledger) Handoff(id string, now time.Time, fx *Effects) error {
	h, err := l.activeHold(id)
	if err != nil || h == nil {
		return err
	}
	l.beginViews(fx)
	l.handoffAll(h)
	l.endViews(fx)
	l.record(fx, RecordHandoff, now.UnixNano(), id)
	return nil
}

// Expire releases, in order of expiry then id, the holds whose expiry is at
// or before now, at most maxHolds of them; it returns how many. Call it
// again while it returns maxHolds.
func (l *Ledger) Expire(now time.Time, maxHolds int, fx *Effects) int {
	at := now.UnixNano()
	n := 0
	for n < maxHolds && len(l.expiry) > 0 && l.expiry[0].expiresAt <= at {
		h := l.expiry[0]
		id := strings.Clone(h.idView()) // the record outlives the hold's slot
		l.beginViews(fx)
		l.closeHold(h, HoldExpired)
		l.endViews(fx)
		l.record(fx, RecordExpire, at, id)
		n++
	}
	return n
}

// NextExpiry returns the earliest expiry of an active hold, if any.
func (l *Ledger) NextExpiry() (time.Time, bool) {
	if len(l.expiry) == 0 {
		return time.Time{}, false
	}
	return timeOf(l.expiry[0].expiresAt), true
}

// closeHold returns the unconsumed allocations to stock and ends the hold.
func (l *Ledger) closeHold(h *hold, state HoldState) {
	allocs := l.holds.allocs(h)
	for i, a := range allocs {
		if !a.consumed {
			if firstOfSKU(allocs, i) {
				l.skus[a.sku].holds--
			}
			l.addHeld(a.sku, a.wh, -a.qty)
		}
	}
	l.endHold(h, state)
}

// handoffAll consumes every remaining allocation of an active hold, which
// ends it.
func (l *Ledger) handoffAll(h *hold) {
	for {
		allocs := l.holds.allocs(h)
		i := slices.IndexFunc(allocs, func(a holdAlloc) bool { return !a.consumed })
		assert(i >= 0, "active hold with nothing left to hold")
		if l.consumeSKU(h, allocs[i].sku) {
			return
		}
	}
}

// consumeSKU consumes the hold's allocations of one SKU (the double-count
// window: the stock figure that names the hold already subtracts them). When
// nothing is left the hold is handed off and consumeSKU reports true (h
// must not be used after that).
func (l *Ledger) consumeSKU(h *hold, sku uint32) bool {
	found := false
	allocs := l.holds.allocs(h)
	for i := range allocs {
		a := &allocs[i]
		if a.sku == sku && !a.consumed {
			a.consumed = true
			l.addHeld(sku, a.wh, -a.qty)
			found = true
		}
	}
	if !found {
		return false
	}
	l.skus[sku].holds--
	for _, a := range allocs {
		if !a.consumed {
			return false
		}
	}
	l.endHold(h, HoldHandedOff)
	return true
}

// endHold moves a hold whose stock is settled into the replay window (the
// oldest closed hold leaves it). h must not be used afterwards.
func (l *Ledger) endHold(h *hold, state HoldState) {
	assert(h.state.Active(), "ending an inactive hold")
	h.state = state
	l.expiry.remove(h)
	l.active--
	l.holds.retire(h)
}
