package intake

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"stockd/adapters/marketsim"
	"stockd/reservation"
)

// maxUnknownLookups is how many lookups in a row may find an order
// unknown to the marketplace before it is no longer followed (its hold
// stays).
const maxUnknownLookups = 3

// poller follows one channel. pollMu serialises polls; everything below it
// up to statsMu belongs to the poll holding pollMu. statsMu guards st and
// is taken inside pollMu, never the other way round.
type poller struct {
	ch     Channel
	ledger Ledger
	cfg    Config
	prefix string

	pollMu  sync.Mutex
	loaded  bool
	open    map[string]*openOrder // marketplace order id → what is known
	refused map[string]struct{}   // order ids whose refusal was logged
	touched map[string]struct{}   // SKUs of orders recorded or released this poll

	statsMu sync.Mutex
	st      Stats
}

// openOrder is an order the poller follows until it ships or is cancelled.
type openOrder struct {
	held           bool      // a hold was recorded (false: no line could be held)
	lastLookup     time.Time // zero: never looked up
	unknownLookups int
}

func newPoller(ch Channel, cfg Config) *poller {
	return &poller{ch: ch, ledger: cfg.Ledger, cfg: cfg, prefix: HoldID(ch.Kind, ""),
		open: make(map[string]*openOrder), refused: make(map[string]struct{}), touched: make(map[string]struct{}),
		st: Stats{Channel: ch.Name, Kind: string(ch.Kind)}}
}

func (p *poller) run(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		if err := p.poll(ctx); err != nil && ctx.Err() == nil {
			p.cfg.Logger.Warn("marketplace order poll failed; next poll at the usual interval",
				"channel", p.ch.Name, "err", err, "retry_in", p.ch.PollInterval.String())
		}
		timer.Reset(p.ch.PollInterval)
	}
}

// poll lists the awaiting orders, records the new ones and looks up the
// followed ones that left the list.
func (p *poller) poll(ctx context.Context) error {
	p.pollMu.Lock()
	defer p.pollMu.Unlock()
	err := p.pollLocked(ctx)
	p.reportTouched()
	p.statsMu.Lock()
	p.st.Polls++
	p.st.Open = len(p.open)
	p.st.LastPoll = p.cfg.Now()
	p.st.LastError = ""
	if err != nil {
		p.st.PollErrors++
		p.st.LastError = err.Error()
	}
	p.statsMu.Unlock()
	return err
}

func (p *poller) pollLocked(ctx context.Context) error {
	if !p.loaded {
		if err := p.load(ctx); err != nil {
			return err
		}
	}
	orders, listErr := p.ch.Orders.NewOrders(ctx)
	listed := make(map[string]struct{}, len(orders))
	for i := range orders {
		if err := ctx.Err(); err != nil {
			return err
		}
		listed[orders[i].ID] = struct{}{}
		if err := p.take(ctx, &orders[i]); err != nil {
			return err
		}
	}
	if listErr != nil {
		// The list may be partial: an order missing from it is not gone.
		return fmt.Errorf("intake: %s: list orders: %w", p.ch.Name, listErr)
	}
	return p.lookUp(ctx, listed)
}

// load follows the open holds an earlier run (or process) recorded.
func (p *poller) load(ctx context.Context) error {
	ids, err := p.ledger.OpenHolds(ctx, p.ch.Name, p.prefix, p.ch.MaxOpenOrders)
	if err != nil {
		return fmt.Errorf("intake: %s: load open holds: %w", p.ch.Name, err)
	}
	for _, id := range ids {
		p.open[strings.TrimPrefix(id, p.prefix)] = &openOrder{held: true}
	}
	p.loaded = true
	return nil
}

// take records an order not followed yet, or releases a cancelled one.
func (p *poller) take(ctx context.Context, o *marketsim.Order) error {
	if o.State == marketsim.OrderCancelled {
		return p.cancel(ctx, o.ID)
	}
	if _, ok := p.open[o.ID]; ok {
		return nil
	}
	p.count(func(st *Stats) { st.OrdersSeen++ })
	held, err := p.record(ctx, o)
	if err != nil {
		return err
	}
	switch {
	case o.State == marketsim.OrderShipped:
		p.count(func(st *Stats) { st.Shipped++ })
	case len(p.open) >= p.ch.MaxOpenOrders:
		p.count(func(st *Stats) { st.Untracked++ })
	case held != nil:
		p.open[o.ID] = &openOrder{held: *held}
	}
	return nil
}

// record makes the order's hold. It returns whether a hold exists (nil:
// the ledger refused the order, which is tried again next poll) or an
// error that stops the poll (the journal is unavailable, ctx ended).
func (p *poller) record(ctx context.Context, o *marketsim.Order) (*bool, error) {
	no, yes := false, true
	lines, unknown := p.lines(o)
	if unknown > 0 {
		p.count(func(st *Stats) { st.UnknownOffers += uint64(unknown) })
		p.cfg.Logger.Warn("marketplace order names offers the mapping does not know; they are not held",
			"channel", p.ch.Name, "order", o.ID, "unknown_lines", unknown, "held_lines", len(lines))
	}
	if len(lines) == 0 {
		p.count(func(st *Stats) { st.OrdersWithoutLines++ })
		return &no, nil
	}
	id := HoldID(p.ch.Kind, o.ID)
	_, created, err := p.ledger.RecordOrder(ctx, id, p.ch.Name, lines)
	switch {
	case err == nil && created:
		p.touch(lines)
		p.count(func(st *Stats) { st.HoldsCreated++ })
		return &yes, nil
	case err == nil:
		p.count(func(st *Stats) { st.HoldsExisting++ })
		return &yes, nil
	case errors.Is(err, reservation.ErrIdempotencyConflict):
		// Recorded before with other lines (the mapping changed since):
		// the hold that exists is the order's.
		p.count(func(st *Stats) { st.HoldsExisting++ })
		return &yes, nil
	case errors.Is(err, reservation.ErrLimitExceeded), errors.Is(err, reservation.ErrInvalidRequest),
		errors.Is(err, reservation.ErrUnknownChannel):
		p.refuse(o.ID, err)
		return nil, nil
	}
	return nil, fmt.Errorf("intake: %s: record order %s: %w", p.ch.Name, o.ID, err)
}

// refuse logs a refused order once and counts it.
func (p *poller) refuse(orderID string, err error) {
	if _, seen := p.refused[orderID]; seen {
		return
	}
	if len(p.refused) >= MaxRefusedRemembered {
		clear(p.refused)
	}
	p.refused[orderID] = struct{}{}
	p.count(func(st *Stats) { st.Refused++ })
	p.cfg.Logger.Error("the ledger refused a marketplace order; it is tried again every poll",
		"channel", p.ch.Name, "order", orderID, "err", err)
}

// lines maps the order's offers to SKUs, in SKU order with one line per
// SKU, so the same order always makes the same hold request.
func (p *poller) lines(o *marketsim.Order) (lines []reservation.Line, unknown int) {
	for _, l := range o.Lines {
		off, ok := p.ch.Offers.ByStockID(l.OfferID)
		if !ok {
			unknown++
			continue
		}
		if l.Qty < 1 {
			continue
		}
		lines = append(lines, reservation.Line{SKU: off.SKU, Qty: l.Qty})
	}
	slices.SortFunc(lines, func(a, b reservation.Line) int { return cmp.Compare(a.SKU, b.SKU) })
	merged := lines[:0]
	for _, l := range lines {
		if n := len(merged); n > 0 && merged[n-1].SKU == l.SKU {
			merged[n-1].Qty += l.Qty
			continue
		}
		merged = append(merged, l)
	}
	return merged, unknown
}

// lookUp asks the marketplace about followed orders that are not in the
// awaiting list, least recently looked up first.
func (p *poller) lookUp(ctx context.Context, listed map[string]struct{}) error {
	var ids []string
	for id := range p.open {
		if _, ok := listed[id]; !ok {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	slices.SortFunc(ids, func(a, b string) int {
		return cmp.Or(p.open[a].lastLookup.Compare(p.open[b].lastLookup), cmp.Compare(a, b))
	})
	ids = ids[:min(len(ids), p.ch.MaxStatusPerPoll)]
	now := p.cfg.Now()
	statuses, err := p.ch.Orders.OrderStatuses(ctx, ids)
	p.count(func(st *Stats) { st.StatusChecks += uint64(len(ids)) })
	answered := make(map[string]struct{}, len(statuses))
	for _, s := range statuses {
		oo, ok := p.open[s.ID]
		if !ok {
			continue
		}
		answered[s.ID] = struct{}{}
		oo.lastLookup, oo.unknownLookups = now, 0
		if cerr := p.follow(ctx, s); cerr != nil {
			return cerr
		}
	}
	if err != nil {
		return fmt.Errorf("intake: %s: order statuses: %w", p.ch.Name, err)
	}
	p.unknown(ids, answered, now)
	return nil
}

// follow acts on one looked-up order.
func (p *poller) follow(ctx context.Context, s marketsim.Order) error {
	switch s.State {
	case marketsim.OrderCancelled:
		return p.cancel(ctx, s.ID)
	case marketsim.OrderShipped:
		delete(p.open, s.ID)
		p.count(func(st *Stats) { st.Shipped++ })
	}
	return nil
}

// unknown stops following orders the marketplace keeps not knowing.
func (p *poller) unknown(asked []string, answered map[string]struct{}, now time.Time) {
	for _, id := range asked {
		if _, ok := answered[id]; ok {
			continue
		}
		oo := p.open[id]
		if oo == nil {
			continue
		}
		oo.lastLookup = now
		oo.unknownLookups++
		if oo.unknownLookups >= maxUnknownLookups {
			delete(p.open, id)
			p.cfg.Logger.Warn("a followed marketplace order is unknown to the marketplace; no longer followed, its hold stays",
				"channel", p.ch.Name, "order", id)
		}
	}
}

// cancel releases a cancelled order's hold.
func (p *poller) cancel(ctx context.Context, orderID string) error {
	oo, followed := p.open[orderID]
	if followed && !oo.held {
		delete(p.open, orderID)
		return nil
	}
	id := HoldID(p.ch.Kind, orderID)
	h, err := p.ledger.Release(ctx, id)
	switch {
	case errors.Is(err, reservation.ErrHoldNotFound):
		delete(p.open, orderID)
		return nil
	case errors.Is(err, reservation.ErrHoldHandedOff):
		delete(p.open, orderID)
		p.count(func(st *Stats) { st.CancelledAfterHandoff++ })
		p.cfg.Logger.Warn("a marketplace order 1C has taken over was cancelled; cancel it in 1C",
			"channel", p.ch.Name, "order", orderID, "hold", id)
		if p.cfg.OnCancelled != nil {
			if h, herr := p.ledger.Hold(ctx, id); herr == nil {
				p.cfg.OnCancelled(h, true)
			}
		}
		return nil
	case err != nil:
		return fmt.Errorf("intake: %s: release cancelled order %s: %w", p.ch.Name, orderID, err)
	}
	delete(p.open, orderID)
	p.touch(h.Lines)
	if followed {
		p.count(func(st *Stats) { st.Cancellations++ })
		if p.cfg.OnCancelled != nil {
			p.cfg.OnCancelled(h, false)
		}
	}
	return nil
}

func (p *poller) touch(lines []reservation.Line) {
	for _, l := range lines {
		p.touched[l.SKU] = struct{}{}
	}
}

// reportTouched hands the SKUs of this poll's recorded and released
// orders to Config.Touched.
func (p *poller) reportTouched() {
	if len(p.touched) == 0 {
		return
	}
	skus := make([]string, 0, len(p.touched))
	for s := range p.touched {
		skus = append(skus, s)
	}
	clear(p.touched)
	slices.Sort(skus)
	if p.cfg.Touched != nil {
		p.cfg.Touched(p.ch.Name, skus)
	}
}

func (p *poller) count(fn func(*Stats)) {
	p.statsMu.Lock()
	fn(&p.st)
	p.statsMu.Unlock()
}

func (p *poller) stats() Stats {
	p.statsMu.Lock()
	defer p.statsMu.Unlock()
	return p.st
}
