package feeds

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"stockd/adapters/marketsim"
	"stockd/feeds/ackstore"
)

// item is one key of a batch with the value read at send time.
type item struct {
	pd    Pending
	offer Offer
	wh    string // stock: marketplace warehouse
	qty   int64
	price desiredPrice
	// gone: nothing to send (no longer an offer, no base price); srcErr:
	// the value could not be computed, so the key is quarantined.
	gone   bool
	srcErr error
}

type desiredPrice struct {
	price, old Money
}

// runWorker is the loop of one (channel, method) worker: take the most
// urgent keys, read their values, push, settle the results; back off
// after a failed request.
func (st *chanState) runWorker(ctx context.Context, m Method, seed uint64) {
	rng := newRNG(seed)
	failures := 0
	for ctx.Err() == nil {
		if st.pollDueTask(ctx, m) {
			continue
		}
		batch := st.take(m)
		if len(batch) == 0 {
			if st.h.cfg.SKUs != nil && st.roomAfterOverflow() && st.overflowed.CompareAndSwap(true, false) {
				st.resyncAfterOverflow(ctx)
				continue
			}
			st.waitWork(ctx, m)
			continue
		}
		items := st.prepare(m, batch)
		if len(items) == 0 {
			continue
		}
		err := st.pushTraced(ctx, m, items)
		if err == nil {
			failures = 0
			continue
		}
		if ctx.Err() != nil {
			return
		}
		failures++
		_, hint := marketsim.IsRetriable(err)
		st.pause(ctx, m, backoff(rng, failures, st.h.cfg.BackoffBase, st.h.cfg.BackoffCap, hint))
	}
}

// backoff is exponential with full jitter: uniform in [0, min(cap,
// base·2^(n−1))], and never less than the marketplace's hint.
func backoff(rng *rand.Rand, n int, base, cap, hint time.Duration) time.Duration {
	ceil := cap
	if n < 32 && base<<(n-1) < cap && base<<(n-1) > 0 {
		ceil = base << (n - 1)
	}
	d := time.Duration(0)
	if ceil > 0 {
		d = time.Duration(rng.Int64N(int64(ceil) + 1))
	}
	return max(d, hint)
}

func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func (st *chanState) maxBatch(m Method) int {
	if m == MethodStock {
		return st.ch.Stock.MaxStockBatch()
	}
	return st.ch.Price.MaxPriceBatch()
}

func (st *chanState) take(m Method) []Pending {
	now := st.h.cfg.Now()
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.tasksFullLocked(m) {
		return nil // wait for a verdict first
	}
	batch := st.dirty[m].Take(st.maxBatch(m), now)
	for _, pd := range batch {
		st.inflight[m][pd.Key] = pd.Since
	}
	if len(batch) == 0 {
		st.dirty[m].PruneCooldowns(now)
	}
	return batch
}

// waitWork sleeps until a change arrives, a cooling key becomes ready or
// ctx ends.
func (st *chanState) waitWork(ctx context.Context, m Method) {
	st.mu.Lock()
	next, cooling := st.dirty[m].NextReady()
	if st.tasksFullLocked(m) {
		cooling = false // nothing is taken before a verdict
	}
	if poll, ok := st.nextPollLocked(m); ok && (!cooling || poll.Before(next)) {
		next, cooling = poll, true
	}
	st.mu.Unlock()
	var timer <-chan time.Time
	if cooling {
		t := time.NewTimer(max(next.Sub(st.h.cfg.Now()), 0))
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-st.wake[m]:
	case <-timer:
	case <-ctx.Done():
	}
}

// prepare reads the value of each key at send time and keeps the keys
// whose value differs from the acknowledged one and is not quarantined.
func (st *chanState) prepare(m Method, batch []Pending) []item {
	items := make([]item, len(batch))
	for i, pd := range batch {
		items[i].pd = pd
		if m == MethodStock {
			st.readStock(&items[i])
		} else {
			st.readPrice(&items[i])
		}
	}
	now := st.h.cfg.Now()
	st.mu.Lock()
	defer st.mu.Unlock()
	out := items[:0]
	for _, it := range items {
		switch {
		case st.heldByTaskLocked(m, it.pd, now):
		case it.srcErr != nil:
			st.quarantineLocked(m, it.pd.Key, Quarantined{SKU: it.offer.SKU, Offer: it.offer.StockID, Warehouse: it.wh,
				Code: "source", Reason: it.srcErr.Error(), Since: now})
		case it.gone:
			st.counters[m].skipped++
		case st.settledLocked(m, &it, now):
		default:
			out = append(out, it)
			continue
		}
		delete(st.inflight[m], it.pd.Key)
		st.forgetAttemptsLocked(m, it.pd.Key)
	}
	return out
}

// readStock fills the stock value of it, or marks it gone when the key
// is not an offer of this channel.
func (st *chanState) readStock(it *item) {
	offerID, wh := splitStockKey(it.pd.Key)
	o, ok := st.ch.Offers.ByStockID(offerID)
	ti, okT := st.targetByID[wh]
	if !ok || !okT {
		it.gone = true
		return
	}
	it.offer, it.wh = o, wh
	avail, err := st.h.cfg.Source.ChannelQty(o.SKU, st.targets[ti].view)
	if err != nil {
		it.srcErr = err
		return
	}
	it.qty = st.stockPolicy.ChannelQty(avail)
}

// readPrice fills the price of it, or marks it gone when the key is not
// priced in this channel or the SKU has no base price.
func (st *chanState) readPrice(it *item) {
	o, ok := st.ch.Offers.PriceSource(it.pd.Key)
	if !ok {
		it.gone = true
		return
	}
	it.offer = o
	p, ok, err := st.desiredPrice(o.SKU)
	switch {
	case err != nil:
		it.srcErr = err
	case !ok:
		it.gone = true
	default:
		it.price = p
	}
}

// desiredPrice is the channel price of a SKU and its crossed-out price;
// ok is false when the SKU has no base price.
func (st *chanState) desiredPrice(sku string) (desiredPrice, bool, error) {
	pp := st.ch.Config.Price
	base, ok := st.h.cfg.Source.Price(sku, pp.PriceType)
	if !ok {
		return desiredPrice{}, false, nil
	}
	m, err := MoneyFromPrice(base, st.currency)
	if err != nil {
		return desiredPrice{}, false, err
	}
	price, err := pp.ChannelPrice(m)
	if err != nil {
		return desiredPrice{}, false, err
	}
	out := desiredPrice{price: price}
	if pp.OldPriceType != "" {
		if old, ok := st.h.cfg.Source.Price(sku, pp.OldPriceType); ok {
			if om, err := MoneyFromPrice(old, st.currency); err == nil && om > 0 {
				if oldPrice, err := pp.ChannelPrice(om); err == nil && oldPrice > price {
					out.old = oldPrice
				}
			}
		}
	}
	return out, true, nil
}

// settledLocked reports whether the item needs no push: its value is the
// acknowledged one, it is quarantined with this very value, or (prices)
// it now awaits approval.
func (st *chanState) settledLocked(m Method, it *item, now time.Time) bool {
	qk := quarantineKey(m, it.pd.Key)
	q, quarantined := st.quarantine[qk]
	if m == MethodStock {
		if acked, ok := st.ackStock[it.pd.Key]; ok && acked == it.qty {
			st.counters[m].skipped++
			return true
		}
		if quarantined {
			if q.Qty == it.qty {
				return true
			}
			delete(st.quarantine, qk) // a new value: try it
		}
		return false
	}
	acked, known := st.ackPrice[it.pd.Key]
	if known && acked.price == it.price.price && acked.old == it.price.old {
		st.counters[m].skipped++
		return true
	}
	if quarantined {
		if q.Price == it.price.price && q.OldPrice == it.price.old {
			return true
		}
		delete(st.quarantine, qk)
	}
	pp := st.ch.Config.Price
	if known && pp.NeedsApproval(acked.price, it.price.price) && st.approved[it.pd.Key] != it.price.price {
		st.quarantineLocked(m, it.pd.Key, Quarantined{SKU: it.offer.SKU, Offer: it.pd.Key, Code: "max_change_pct",
			Reason: "price " + acked.price.String() + " → " + it.price.price.String() + " changes by more than max_change_pct",
			Price:  it.price.price, OldPrice: it.price.old, Acked: acked.price, NeedsApproval: true, Since: now})
		return true
	}
	return false
}

// push sends the items and settles the results. A request refused as a
// whole for invalid content is split in halves until the bad item is
// alone (Yandex Market answers for a request as a whole). It returns the
// first request-level error that calls for a backoff.
func (st *chanState) push(ctx context.Context, m Method, items []item) error {
	var results []marketsim.ItemResult
	var err error
	if m == MethodStock {
		updates := make([]marketsim.StockUpdate, len(items))
		now := st.h.cfg.Now()
		for i, it := range items {
			updates[i] = marketsim.StockUpdate{OfferID: it.offer.StockID, WarehouseID: it.wh, Qty: it.qty, At: now}
		}
		results, err = st.ch.Stock.PushStocks(ctx, updates)
	} else {
		updates := make([]marketsim.PriceUpdate, len(items))
		for i, it := range items {
			updates[i] = marketsim.PriceUpdate{OfferID: it.offer.PriceID, Price: int64(it.price.price),
				OldPrice: int64(it.price.old), Currency: st.currency}
		}
		results, err = st.ch.Price.PushPrices(ctx, updates)
	}
	if err != nil && len(items) > 1 && ctx.Err() == nil && isInvalidRequest(err) {
		var sent, notSent []item
		var sentResults []marketsim.ItemResult // sentResults[i] is sent[i]'s
		for i, r := range results {
			if r.Status == marketsim.ItemNotSent {
				notSent = append(notSent, items[i])
			} else {
				sent = append(sent, items[i])
				sentResults = append(sentResults, r)
			}
		}
		st.settle(m, sent, sentResults, nil)
		if len(notSent) == len(items) {
			half := len(notSent) / 2
			errA := st.push(ctx, m, notSent[:half])
			errB := st.push(ctx, m, notSent[half:])
			return errors.Join(errA, errB)
		}
		return st.push(ctx, m, notSent)
	}
	st.settle(m, items, results, err)
	if len(items) == 1 && isInvalidRequest(err) {
		return nil // the bad item is quarantined: nothing to back off from
	}
	return err
}

// isInvalidRequest: a request refused for its content, not for the
// account or the marketplace's state.
// A conflict that names no item (a Wildberries 409 whose body lists no
// sizes) is one too: retried as it is, it would fail forever and hold back
// the rest of the batch.
func isInvalidRequest(err error) bool {
	retriable, _ := marketsim.IsRetriable(err)
	return !retriable && (errors.Is(err, marketsim.ErrInvalid) || errors.Is(err, marketsim.ErrConflict))
}

// settle applies the results: acknowledged values are stored, retriable
// refusals wait and go again, invalid items are quarantined.
func (st *chanState) settle(m Method, items []item, results []marketsim.ItemResult, reqErr error) {
	now := st.h.cfg.Now()
	var acks []ackstore.Entry
	st.mu.Lock()
	c := &st.counters[m]
	c.requests++
	if reqErr != nil {
		c.requestErrors++
		st.noteErrLocked(reqErr, now)
	}
	ds := st.dirty[m]
	for i, it := range items {
		if i >= len(results) {
			break
		}
		r := results[i]
		key := it.pd.Key
		delete(st.inflight[m], key)
		switch r.Status {
		case marketsim.ItemOK, marketsim.ItemAccepted:
			c.sent++
			if st.awaitsVerdict(m, r) {
				st.awaitLocked(it, r.TaskID, now) // acknowledged by the upload's verdict
				continue
			}
			c.acked++
			acks = append(acks, st.ackLocked(m, it, now))
			if cd := st.cooldown(m); cd > 0 {
				ds.CoolDown(key, now.Add(cd+cooldownMargin))
			}
		case marketsim.ItemRejected:
			c.sent++
			if r.Retriable {
				if st.giveUpLocked(m, it, r, now) {
					continue
				}
				c.retries++
				ds.CoolDown(key, now.Add(max(r.RetryAfter, st.h.cfg.ItemRetry)))
				st.requeueLocked(m, it.pd, now)
				continue
			}
			c.rejected++
			st.quarantineItemLocked(m, it, r.Code, r.Message, now)
		default: // not sent
			if !r.Retriable && len(items) == 1 && isInvalidRequest(reqErr) {
				c.rejected++
				st.quarantineItemLocked(m, it, r.Code, r.Message, now)
				continue
			}
			if r.Status == marketsim.ItemNotSent && reqErr == nil {
				// an item the marketplace left unanswered counts toward
				// giving up; one held back for others was never refused
				if !r.HeldBack && st.giveUpLocked(m, it, r, now) {
					continue
				}
				c.retries++ // an item the marketplace left unanswered
				ds.CoolDown(key, now.Add(max(r.RetryAfter, st.h.cfg.ItemRetry)))
			} else if reqErr != nil && !errors.Is(reqErr, context.Canceled) {
				c.retries++
			}
			st.requeueLocked(m, it.pd, now)
		}
	}
	st.mu.Unlock()
	if len(acks) > 0 {
		st.storeAcks(acks)
	}
	if fn := st.h.cfg.Acked; fn != nil {
		for i, it := range items {
			if i < len(results) && (results[i].Status == marketsim.ItemOK || results[i].Status == marketsim.ItemAccepted) &&
				!st.awaitsVerdict(m, results[i]) {
				fn(AckEvent{Channel: st.name, Method: m, Offer: results[i].OfferID, Warehouse: it.wh, Qty: it.qty,
					Price: it.price.price, Since: it.pd.Since, At: now})
			}
		}
	}
}

func (st *chanState) cooldown(m Method) time.Duration {
	if m == MethodStock {
		return st.ch.StockCooldown
	}
	return st.ch.PriceCooldown
}

func (st *chanState) requeueLocked(m Method, pd Pending, now time.Time) {
	if err := st.dirty[m].Requeue(pd, now); err != nil {
		st.dropped++
		st.overflowed.Store(true)
		st.noteErrLocked(err, now)
	}
}

// roomAfterOverflow reports whether every dirty set of the channel is at
// most half full, so a resync after an overflow has room to mark.
func (st *chanState) roomAfterOverflow() bool {
	if !st.overflowed.Load() {
		return false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	half := st.h.cfg.MaxDirtyOffers / 2
	for _, d := range st.dirty {
		if d != nil && d.Len() > half {
			return false
		}
	}
	return st.feed == nil || st.feed.Len() <= half
}

// resyncAfterOverflow marks again, once this worker's set has drained,
// whatever differs from what the marketplace acknowledged: the marks a
// full set lost among them.
func (st *chanState) resyncAfterOverflow(ctx context.Context) {
	if _, err := st.h.ResyncAll(ctx, st.name); err != nil && ctx.Err() == nil {
		st.mu.Lock()
		st.noteErrLocked(fmt.Errorf("resync after a full queue: %w", err), st.h.cfg.Now())
		st.mu.Unlock()
		st.overflowed.Store(true) // try again when the set drains next
	}
}

func (st *chanState) quarantineItemLocked(m Method, it item, code, msg string, now time.Time) {
	q := Quarantined{SKU: it.offer.SKU, Code: code, Reason: msg, Since: now}
	if m == MethodStock {
		q.Offer, q.Warehouse, q.Qty = it.offer.StockID, it.wh, it.qty
	} else {
		q.Offer, q.Price, q.OldPrice = it.offer.PriceID, it.price.price, it.price.old
		q.Acked = st.ackPrice[it.pd.Key].price
	}
	st.quarantineLocked(m, it.pd.Key, q)
}

func (st *chanState) ackLocked(m Method, it item, now time.Time) ackstore.Entry {
	st.forgetAttemptsLocked(m, it.pd.Key)
	if m == MethodStock {
		st.ackStock[it.pd.Key] = it.qty
		return ackstore.Entry{Key: ackstore.StockKey(st.name, it.offer.StockID, it.wh), Value: ackstore.Value{Qty: it.qty, At: now}}
	}
	st.ackPrice[it.pd.Key] = ackedPrice{price: it.price.price, old: it.price.old}
	if st.approved[it.pd.Key] == it.price.price {
		delete(st.approved, it.pd.Key)
	}
	return ackstore.Entry{Key: ackstore.PriceKey(st.name, it.offer.PriceID),
		Value: ackstore.Value{Price: int64(it.price.price), OldPrice: int64(it.price.old), At: now}}
}

// storeAcks writes acknowledgements durably. A failure is reported in
// Stats; the values are then only in memory, and a restart sends them
// again, which is safe.
func (st *chanState) storeAcks(acks []ackstore.Entry) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(st.h.ctx), MaxAckTimeout)
	defer cancel()
	for start := 0; start < len(acks); start += ackstore.MaxPutEntries {
		if err := st.h.cfg.Acks.Put(ctx, acks[start:min(start+ackstore.MaxPutEntries, len(acks))]); err != nil {
			st.mu.Lock()
			st.noteErrLocked(err, st.h.cfg.Now())
			st.mu.Unlock()
			return
		}
	}
}

func newRNG(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x6a09e667f3bcc909))
}
