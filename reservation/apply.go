package reservation

import (
	"fmt"
	"slices"
	"strings"
)

// Partition is a Kafka (topic, partition).
type Partition struct {
	Topic     string
	Partition int32
}

// Source is where an event came from. The ledger keeps the last applied
// offset per partition so consumption resumes from the ledger state; an
// empty Topic means the event is not tracked.
type Source struct {
	Topic     string
	Partition int32
	Offset    int64
}

// Outcome says what ApplyEvent did with an event.
type Outcome uint8

const (
	// OutcomeApplied: the event changed the state as it says.
	OutcomeApplied Outcome = iota + 1
	// OutcomeStale: a stock.set older (at, seq) than the applied one; the
	// figure was ignored but its handoff holds were consumed.
	OutcomeStale
	// OutcomeDuplicate: a stock.adjust id within the dedupe window.
	OutcomeDuplicate
	// OutcomeNoop: nothing to do (unknown item deleted, handoff of an
	// unknown or closed hold, same price again).
	OutcomeNoop
	// OutcomeRejected: valid JSON that the ledger cannot apply (kit rules,
	// limits); the error says why. The offset still advances.
	OutcomeRejected
	// OutcomeAlreadyApplied: the partition offset was applied before;
	// nothing happened and no record was made.
	OutcomeAlreadyApplied
)

var outcomeNames = [...]string{"", "applied", "stale", "duplicate", "noop", "rejected", "already_applied"}

func (o Outcome) String() string {
	if o != 0 && int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// maxFree bounds free stock after adjustments.
const maxFree = 1_000_000_000_000_000

// PrefetchEvent starts loading memory that ApplyEvent will read for ev, so
// that a caller applying a batch can overlap those cache misses with the
// events before it: call it for the event ahead places later (4 or so)
// before applying the current one. It changes nothing.
func (l *Ledger) PrefetchEvent(ev *Event, ahead int) {
	if ev.Type == EventStockAdjust {
		l.dedupe.prefetch(ev.ID, ahead)
	}
}

// ApplyEvent applies one 1C event. An event whose offset was already applied
// returns OutcomeAlreadyApplied and changes nothing. Otherwise one record is
// made, whatever the outcome, so the offset advances exactly once; a
// rejected event returns OutcomeRejected and an error for the DLQ. An event
// that fails Validate is refused without a record.
func (l *Ledger) ApplyEvent(ev *Event, src Source, fx *Effects) (Outcome, error) {
	return l.applyEvent(ev, src, fx, true)
}

// ApplyEventUnlessRejected is ApplyEvent, except that a rejected event
// makes no record and leaves its offset where it was: the ledger is as
// before the call. The caller sends the event to the DLQ first, then
// advances its offset with SkipEvent, so that a crash between the two
// can only send it to the DLQ again, never lose it.
func (l *Ledger) ApplyEventUnlessRejected(ev *Event, src Source, fx *Effects) (Outcome, error) {
	return l.applyEvent(ev, src, fx, false)
}

func (l *Ledger) applyEvent(ev *Event, src Source, fx *Effects, recordRejected bool) (Outcome, error) {
	if err := ev.Validate(); err != nil {
		return OutcomeRejected, err
	}
	if err := l.checkSource(src); err != nil {
		return OutcomeRejected, err
	}
	if l.offsetApplied(src) {
		return OutcomeAlreadyApplied, nil
	}
	l.beginViews(fx)
	out, err := l.applyBody(ev, fx)
	l.endViews(fx)
	if out == OutcomeRejected && !recordRejected {
		return out, err // applyBody changed nothing
	}
	l.noteOffset(src)
	r := l.record(fx, RecordEvent, 0, "")
	r.Event, r.Source, r.Outcome = *ev, src, out
	return out, err
}

func (l *Ledger) checkSource(src Source) error {
	if src.Topic == "" {
		return nil
	}
	if len(src.Topic) > MaxIDBytes || src.Partition < 0 || src.Offset < 0 {
		return requestErr("source", "topic longer than 128 bytes or negative partition/offset")
	}
	if l.offsetOf(src) == nil && !l.replaying && len(l.offsets) >= l.lim.MaxPartitions {
		return limitErr("MaxPartitions", int64(l.lim.MaxPartitions), int64(len(l.offsets)+1), src.Topic)
	}
	return nil
}

// offsetOf is the last applied offset of src's partition, nil when none
// was applied.
func (l *Ledger) offsetOf(src Source) *int64 {
	if l.lastOffset != nil && l.lastPart.Partition == src.Partition && l.lastPart.Topic == src.Topic {
		return l.lastOffset
	}
	p := Partition{src.Topic, src.Partition}
	o := l.offsets[p]
	if o != nil {
		l.lastPart, l.lastOffset = p, o
	}
	return o
}

func (l *Ledger) offsetApplied(src Source) bool {
	if src.Topic == "" {
		return false
	}
	last := l.offsetOf(src)
	return last != nil && src.Offset <= *last
}

func (l *Ledger) noteOffset(src Source) {
	if src.Topic == "" {
		return
	}
	o := l.offsetOf(src)
	if o == nil {
		o = new(int64)
		p := Partition{src.Topic, src.Partition}
		l.offsets[p] = o
		l.lastPart, l.lastOffset = p, o
	}
	*o = src.Offset
}

// Offset returns the last applied offset of a partition: resume at +1.
func (l *Ledger) Offset(topic string, partition int32) (int64, bool) {
	if o := l.offsets[Partition{topic, partition}]; o != nil {
		return *o, true
	}
	return 0, false
}

// Offsets appends the last applied offset of every partition, sorted by
// topic and partition, and returns dst.
func (l *Ledger) Offsets(dst []Source) []Source {
	start := len(dst)
	for p, o := range l.offsets {
		dst = append(dst, Source{Topic: p.Topic, Partition: p.Partition, Offset: *o})
	}
	slices.SortFunc(dst[start:], func(a, b Source) int {
		if c := strings.Compare(a.Topic, b.Topic); c != 0 {
			return c
		}
		return int(a.Partition) - int(b.Partition)
	})
	return dst
}

// applyBody changes the state for one event. A rejection returns before
// anything changes, so replaying a rejected record needs only the offset.
func (l *Ledger) applyBody(ev *Event, fx *Effects) (Outcome, error) {
	switch ev.Type {
	case EventStockSet, EventStockAdjust:
		return l.applyStock(ev)
	case EventPriceSet:
		return l.applyPrice(ev, fx)
	case EventItemUpsert:
		kit := mergedKit(ev.Kit)
		if err := l.checkUpsert(ev.SKU, kit); err != nil {
			return OutcomeRejected, err
		}
		l.upsertItem(ev, kit)
		return OutcomeApplied, nil
	case EventItemDelete:
		id, ok := l.skuIDs[ev.SKU]
		if !ok || l.skus[id].flags&skuDeleted != 0 {
			return OutcomeNoop, nil
		}
		l.deleteItem(id)
		return OutcomeApplied, nil
	case EventReservationHandoff:
		h, ok := l.holds.get(ev.ReservationID)
		if !ok || !h.state.Active() {
			return OutcomeNoop, nil
		}
		l.handoffAll(h)
		return OutcomeApplied, nil
	}
	panic("reservation: validated event of unknown type")
}

// applyStock applies stock.set / stock.adjust and consumes the named holds'
// lines for this SKU in the same step (the double-count window). A stale
// stock.set still consumes them: the newer figure already applied came
// later in 1C's time, so it accounts for the order too.
func (l *Ledger) applyStock(ev *Event) (Outcome, error) {
	var idHash uint32
	if ev.Type == EventStockAdjust {
		var dup bool
		if idHash, dup = l.dedupe.lookup(ev.ID); dup {
			return OutcomeDuplicate, nil
		}
	}
	// One lookup each for a known SKU and warehouse (the usual event); a
	// new one is checked against its limit before either is added, so a
	// rejected event adds nothing.
	sku, skuKnown := l.skuIDs[ev.SKU]
	if !skuKnown {
		if err := l.roomForSKUs(1, ev.SKU); err != nil {
			return OutcomeRejected, err
		}
	}
	wh, whKnown := l.whIDs[ev.Warehouse]
	if !whKnown {
		if err := l.roomForWarehouse(ev.Warehouse); err != nil {
			return OutcomeRejected, err
		}
	}
	if !skuKnown {
		sku = l.internSKU(ev.SKU)
	}
	if !whKnown {
		wh = l.internWarehouse(ev.Warehouse)
	}
	c := l.cellFor(sku, wh)
	out := OutcomeApplied
	if ev.Type == EventStockSet {
		at := ev.At.UnixNano()
		if c.flags&cellStamped != 0 && (at < c.setAt || at == c.setAt && ev.Seq <= c.setSeq) {
			out = OutcomeStale
		} else {
			l.setFree(sku, wh, c, ev.Qty)
			c.setAt, c.setSeq, c.flags = at, ev.Seq, c.flags|cellStamped
		}
	} else {
		l.dedupe.insert(ev.ID, idHash)
		l.setFree(sku, wh, c, min(max(c.free+ev.Delta, -maxFree), maxFree))
	}
	for _, id := range ev.Handoff {
		if h, ok := l.holds.get(id); ok && h.state.Active() {
			l.consumeSKU(h, sku)
		}
	}
	return out, nil
}

func (l *Ledger) unknownSKUs(sku string) int {
	if _, ok := l.skuIDs[sku]; ok {
		return 0
	}
	return 1
}

type priceKey struct {
	sku       uint32
	priceType uint16
}

func (l *Ledger) applyPrice(ev *Event, fx *Effects) (Outcome, error) {
	if err := l.roomForSKUs(l.unknownSKUs(ev.SKU), ev.SKU); err != nil {
		return OutcomeRejected, err
	}
	if _, ok := l.priceTypeIDs[ev.PriceType]; !ok && !l.replaying && len(l.priceTypes) >= l.lim.MaxPriceTypes {
		return OutcomeRejected, limitErr("MaxPriceTypes", int64(l.lim.MaxPriceTypes), int64(len(l.priceTypes)+1), ev.PriceType)
	}
	key := priceKey{sku: l.internSKU(ev.SKU), priceType: l.internPriceType(ev.PriceType)}
	p := Price{Amount: ev.Price, Currency: ev.Currency}
	if old, ok := l.prices[key]; ok && old == p {
		return OutcomeNoop, nil
	}
	l.prices[key] = p
	if fx != nil {
		fx.Prices = append(fx.Prices, PriceChange{SKU: l.skus[key.sku].name, PriceType: l.priceTypes[key.priceType], Price: p})
	}
	return OutcomeApplied, nil
}

func (l *Ledger) internPriceType(name string) uint16 {
	if id, ok := l.priceTypeIDs[name]; ok {
		return id
	}
	assert(len(l.priceTypes) < 1<<16-1, "price type id space")
	id := uint16(len(l.priceTypes))
	l.priceTypes = append(l.priceTypes, name)
	l.priceTypeIDs[name] = id
	return id
}

// Price returns the SKU's price of a price type.
func (l *Ledger) Price(sku, priceType string) (Price, bool) {
	id, ok := l.skuIDs[sku]
	if !ok {
		return Price{}, false
	}
	pt, ok := l.priceTypeIDs[priceType]
	if !ok {
		return Price{}, false
	}
	p, ok := l.prices[priceKey{sku: id, priceType: pt}]
	return p, ok
}
