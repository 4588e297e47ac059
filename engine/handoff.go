package engine

import (
	"context"
	"errors"

	"stockd/adapters/onec/orders"
	"stockd/reservation"
)

// handoffRuntime is the engine's side of handing orders over to 1C: the
// exchange's order source with its store of exported orders, and the
// orders.out publisher. Parts that are off are nil.
type handoffRuntime struct {
	exported *orders.FileStore // type=sale: the orders each account took
	source   *orders.Source
	out      *ordersOut // orders.out
}

// close closes the stores and the Kafka writer; call it once nothing
// serves or publishes any more.
func (r *handoffRuntime) close() error {
	if r == nil {
		return nil
	}
	var err error
	if r.out != nil {
		err = r.out.close()
	}
	if r.exported != nil {
		err = errors.Join(err, r.exported.Close())
	}
	return err
}

// maxHandoffsPerStep bounds the holds one ledger step hands off (one
// journal group, one wait).
const maxHandoffsPerStep = maxExpirePerTick

// handoffRecordBytes bounds one hand-off record (a hold id and a time).
const handoffRecordBytes = expireRecordBytes

// exportLedger is the order source's view of the engine.
type exportLedger struct{ e *Engine }

var _ orders.Ledger = exportLedger{}

// ConfirmedHolds implements orders.Ledger. fn runs under the core's lock
// (one scan of the active holds, as the intake's OpenHolds); the reply
// waits until what it saw is durable, so 1C never takes an order a crash
// could forget.
func (x exportLedger) ConfirmedHolds(ctx context.Context, fn func(h *reservation.Hold) bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	x.e.core.Read(func(l *reservation.Ledger) {
		l.EachHold(func(h *reservation.Hold) bool {
			return h.State != reservation.HoldConfirmed || fn(h)
		})
	})
	return x.e.core.Barrier(ctx)
}

// Handoff implements orders.Ledger.
func (x exportLedger) Handoff(ctx context.Context, ids []string) error {
	_, err := x.e.handoffHolds(ctx, ids)
	return err
}

// Item implements orders.Ledger.
func (x exportLedger) Item(sku string) (item reservation.Item, ok bool) {
	x.e.core.Read(func(l *reservation.Ledger) { item, ok = l.Item(sku) })
	return item, ok
}

// Price implements orders.Ledger.
func (x exportLedger) Price(sku, priceType string) (p reservation.Price, ok bool) {
	x.e.core.Read(func(l *reservation.Ledger) { p, ok = l.Price(sku, priceType) })
	return p, ok
}

// handoffHolds records that 1C took the holds over: each hold's remaining
// allocations are consumed in one ledger step (at most maxHandoffsPerStep
// holds a step), journaled like a reservation.handoff event. A hold
// already handed off (a 1C figure named it), released, expired or unknown
// is left as it is, so a figure that names the hold later, or a repeated
// success, consumes nothing twice. It returns how many holds it handed off,
// once durable.
func (e *Engine) handoffHolds(ctx context.Context, ids []string) (int, error) {
	total := 0
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), maxHandoffsPerStep)]
		ids = ids[len(chunk):]
		n := 0
		err := e.core.update(ctx, len(chunk), int64(len(chunk))*handoffRecordBytes,
			func(l *reservation.Ledger, fx *reservation.Effects) error {
				now := e.now()
				for _, id := range chunk {
					before := len(fx.Records)
					// The only errors are ErrHoldNotFound and ErrHoldNotActive:
					// nothing to hand off.
					_ = l.Handoff(id, now, fx)
					if len(fx.Records) > before {
						n++
					}
				}
				return nil
			})
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}
