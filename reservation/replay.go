package reservation

import "fmt"

// SkipEvent advances a partition's offset past a message that could not be
// decoded (it went to the DLQ), so a restart does not consume it again. It
// makes one RecordSkip record, or nothing if the offset was applied.
func (l *Ledger) SkipEvent(src Source, fx *Effects) error {
	if src.Topic == "" {
		return requestErr("source", "topic is required")
	}
	if err := l.checkSource(src); err != nil {
		return err
	}
	if l.offsetApplied(src) {
		return nil
	}
	l.noteOffset(src)
	l.record(fx, RecordSkip, 0, "").Source = src
	return nil
}

// ApplyRecord replays one journal record: recovery runs Restore on the
// latest snapshot, then ApplyRecord on every later record in Seq order.
// Policy limits are not applied, so what was acknowledged is reproduced.
// A record whose Seq is not Seq()+1 fails with ErrRecordOutOfOrder and
// changes nothing; one that does not fit the state fails with
// ErrReplayDiverged, after which the ledger must be discarded (the journal
// and the snapshot disagree). fx may be nil; if set it receives the channel and price changes
// (no records).
func (l *Ledger) ApplyRecord(r *Record, fx *Effects) error {
	if r.Seq != l.seq+1 {
		return fmt.Errorf("%w: record %d after %d", ErrRecordOutOfOrder, r.Seq, l.seq)
	}
	l.replaying = true
	defer func() { l.replaying = false }()
	l.beginViews(fx)
	err := l.replay(r, fx)
	l.endViews(fx)
	if err != nil {
		return err
	}
	l.seq = r.Seq
	return nil
}

func diverged(r *Record, format string, args ...any) error {
	return fmt.Errorf("%w: record %d (%v): %s", ErrReplayDiverged, r.Seq, r.Kind, fmt.Sprintf(format, args...))
}

func (l *Ledger) replay(r *Record, fx *Effects) error {
	switch r.Kind {
	case RecordReserve:
		return l.replayReserve(r)
	case RecordEvent:
		return l.replayEvent(r, fx)
	case RecordSkip:
		if l.offsetApplied(r.Source) {
			return diverged(r, "offset %d already applied", r.Source.Offset)
		}
		l.noteOffset(r.Source)
		return nil
	}
	h, ok := l.holds.get(r.HoldID)
	if !ok || !h.state.Active() {
		return diverged(r, "hold %q is not active", r.HoldID)
	}
	switch r.Kind {
	case RecordConfirm:
		l.confirm(h, r.ExpiresAt)
	case RecordRelease:
		l.closeHold(h, HoldReleased)
	case RecordExpire:
		if h.expiresAt == 0 || h.expiresAt > r.At {
			return diverged(r, "hold %q does not expire by %d", r.HoldID, r.At)
		}
		l.closeHold(h, HoldExpired)
	case RecordHandoff:
		l.handoffAll(h)
	default:
		return diverged(r, "unknown kind")
	}
	return nil
}

func (l *Ledger) replayReserve(r *Record) error {
	if _, ok := l.holds.get(r.HoldID); ok {
		return diverged(r, "hold %q exists", r.HoldID)
	}
	if len(r.Lines) == 0 || len(r.Lines) > 65535 || len(r.Allocations) == 0 {
		return diverged(r, "hold without lines or allocations")
	}
	if !r.Forced && r.ExpiresAt == 0 {
		return diverged(r, "a held hold without expiry")
	}
	for _, a := range r.Allocations {
		if a.Line < 0 || a.Line >= len(r.Lines) || a.Qty < 1 {
			return diverged(r, "allocation for line %d qty %d", a.Line, a.Qty)
		}
	}
	ch, ok := l.holdChannel(r.Channel)
	if !ok {
		return diverged(r, "more than %d distinct hold channels", maxHoldChannels)
	}
	h := l.newHold()
	h.setID(r.HoldID)
	h.channel, h.forced, h.state = ch, r.Forced, HoldHeld
	if r.Forced {
		h.state = HoldConfirmed
	}
	h.ttl, h.createdAt, h.expiresAt, h.seq = int64(r.TTL), r.At, r.ExpiresAt, r.Seq
	for _, ln := range r.Lines {
		l.holds.addLine(h, holdLine{sku: l.internSKU(ln.SKU), qty: ln.Qty})
	}
	for _, a := range r.Allocations {
		l.holds.addAllocs(h, holdAlloc{
			sku: l.internSKU(a.SKU), wh: l.internWarehouse(a.Warehouse), line: uint16(a.Line), qty: a.Qty,
		})
	}
	l.installHold(h, l.holds.hash(r.HoldID))
	return nil
}

func (l *Ledger) replayEvent(r *Record, fx *Effects) error {
	if err := r.Event.Validate(); err != nil {
		return diverged(r, "%v", err)
	}
	if l.offsetApplied(r.Source) {
		return diverged(r, "offset %d already applied", r.Source.Offset)
	}
	if r.Outcome != OutcomeRejected {
		out, err := l.applyBody(&r.Event, fx)
		if err != nil || out != r.Outcome {
			return diverged(r, "outcome %v (%v), recorded %v", out, err, r.Outcome)
		}
	}
	l.noteOffset(r.Source)
	return nil
}

// Replay applies records in order; it stops at the first error.
func (l *Ledger) Replay(records []Record, fx *Effects) error {
	for i := range records {
		if err := l.ApplyRecord(&records[i], fx); err != nil {
			return err
		}
	}
	return nil
}
