package feeds

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"stockd/adapters/marketsim"
	"stockd/feeds/ackstore"
)

// Reconcile bounds.
const (
	// MaxReconcileBatch is the number of keys one read-back asks for.
	MaxReconcileBatch = 1000
	// MaxReconcileKeys bounds the keys one pass reads back.
	MaxReconcileKeys = 1 << 20
	// reconcileYield is how long a pass waits for the push worker to
	// drain its ready keys before reading more: reading back is the
	// lowest priority.
	reconcileYield = time.Second
	// maxReconcileYields bounds the waits of one batch.
	maxReconcileYields = 60
)

// ReconcileResult says what one pass found.
type ReconcileResult struct {
	Read    int `json:"read"`    // keys read back
	Differ  int `json:"differ"`  // keys whose marketplace figure differed, marked dirty
	Missing int `json:"missing"` // keys the marketplace did not know, marked dirty
}

// Errors of a reconcile.
var (
	ErrNoReadBack       = errors.New("feeds: channel cannot read stock back")
	ErrReconcileRunning = errors.New("feeds: a reconcile of the channel is already running or requested")
	ErrPushDisabled     = errors.New("feeds: channel push is disabled")
)

// reconcileState is a channel's reconcile runs; guarded by chanState.mu
// except now, which only signals.
type reconcileState struct {
	now       chan struct{} // StartReconcile's request to the reconcile goroutine
	requested bool
	running   bool
	last      ReconcileStats
}

// ReconcileStats is the state of a channel's reconcile runs, for Stats.
type ReconcileStats struct {
	Running    bool            `json:"running"`
	Requested  bool            `json:"requested"` // asked for and not started yet
	StartedAt  time.Time       `json:"started_at"`
	FinishedAt time.Time       `json:"finished_at"`
	Result     ReconcileResult `json:"result"`
	Error      string          `json:"error"`
}

// runReconcile is a channel's reconcile goroutine: a pass every
// reconcile_interval (if set) and on StartReconcile.
func (st *chanState) runReconcile(ctx context.Context) {
	var tick <-chan time.Time
	if every := st.ch.Config.Push.ReconcileInterval; every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		case <-st.recon.now:
		}
		st.reconcilePass(ctx)
	}
}

// reconcilePass runs one reconcile and records how it went.
func (st *chanState) reconcilePass(ctx context.Context) {
	st.mu.Lock()
	st.recon.requested, st.recon.running = false, true
	st.recon.last = ReconcileStats{StartedAt: st.h.cfg.Now()}
	st.mu.Unlock()
	res, err := st.h.Reconcile(ctx, st.name)
	st.mu.Lock()
	defer st.mu.Unlock()
	st.recon.running = false
	st.recon.last.FinishedAt, st.recon.last.Result = st.h.cfg.Now(), res
	if err != nil && ctx.Err() == nil {
		st.recon.last.Error = err.Error()
		st.noteErrLocked(fmt.Errorf("reconcile: %w", err), st.h.cfg.Now())
	}
}

// StartReconcile asks the channel's reconcile goroutine for a pass now
// and returns at once; Stats(channel).Reconcile tells how it goes. A
// pass already running or requested is ErrReconcileRunning.
func (h *Hub) StartReconcile(channel string) error {
	st, err := h.channel(channel)
	if err != nil {
		return err
	}
	switch {
	case st.ch.Reader == nil:
		return fmt.Errorf("%w: %q", ErrNoReadBack, channel)
	case st.ch.Config.Push.Disabled:
		return fmt.Errorf("%w: %q", ErrPushDisabled, channel)
	case h.ctx.Err() != nil:
		return ErrClosed
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.recon.running || st.recon.requested {
		return fmt.Errorf("%w: %q", ErrReconcileRunning, channel)
	}
	st.recon.requested = true
	notify(st.recon.now)
	return nil
}

// Reconcile reads the channel's acknowledged stock back from the
// marketplace (where its API allows) and marks every key whose figure
// differs or is missing; its acknowledgement is forgotten, so the desired
// value is sent even if it equals what was acknowledged. It yields to the
// push worker between batches and skips keys on their way.
func (h *Hub) Reconcile(ctx context.Context, channel string) (ReconcileResult, error) {
	st, err := h.channel(channel)
	if err != nil {
		return ReconcileResult{}, err
	}
	if st.ch.Reader == nil {
		return ReconcileResult{}, fmt.Errorf("%w: %q", ErrNoReadBack, channel)
	}
	st.mu.Lock()
	keys := make([]string, 0, min(len(st.ackStock), MaxReconcileKeys))
	for k := range st.ackStock {
		if len(keys) == MaxReconcileKeys {
			break
		}
		keys = append(keys, k)
	}
	st.mu.Unlock()
	sort.Strings(keys)
	var res ReconcileResult
	for start := 0; start < len(keys); start += MaxReconcileBatch {
		if err := st.yieldToPush(ctx); err != nil {
			return res, err
		}
		chunk := keys[start:min(start+MaxReconcileBatch, len(keys))]
		want := make([]marketsim.StockKey, len(chunk))
		for i, k := range chunk {
			want[i].OfferID, want[i].WarehouseID = splitStockKey(k)
		}
		levels, err := st.ch.Reader.ReadStocks(ctx, want)
		if err != nil {
			return res, err
		}
		res.Read += len(chunk)
		d, m := st.compareLevels(chunk, levels)
		res.Differ += d
		res.Missing += m
	}
	return res, nil
}

func (st *chanState) yieldToPush(ctx context.Context) error {
	for range maxReconcileYields {
		st.mu.Lock()
		ready := 0
		for _, n := range st.dirty[MethodStock].ReadyByPriority() {
			ready += n
		}
		st.mu.Unlock()
		if ready == 0 {
			return nil
		}
		sleep(ctx, reconcileYield)
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// compareLevels marks the keys of chunk whose level differs from the
// acknowledged value or is absent.
func (st *chanState) compareLevels(chunk []string, levels []marketsim.StockLevel) (differ, missing int) {
	got := make(map[string]int64, len(levels))
	byOffer := make(map[string]int64, len(levels))
	for _, l := range levels {
		got[stockKey(l.OfferID, l.WarehouseID)] = l.Qty
		if _, ok := byOffer[l.OfferID]; !ok {
			byOffer[l.OfferID] = l.Qty
		}
	}
	now := st.h.cfg.Now()
	var forget []ackstore.Entry
	st.mu.Lock()
	for _, k := range chunk {
		acked, ok := st.ackStock[k]
		_, flying := st.inflight[MethodStock][k]
		if !ok || flying || st.dirty[MethodStock].Pending(k) {
			continue
		}
		offer, wh := splitStockKey(k)
		qty, found := got[k]
		if !found && wh == "" { // campaign stock: any warehouse of the campaign
			qty, found = byOffer[offer]
		}
		if found && qty == acked {
			continue
		}
		if found {
			differ++
		} else {
			missing++
		}
		delete(st.ackStock, k)
		forget = append(forget, ackstore.Entry{Key: ackstore.StockKey(st.name, offer, wh), Deleted: true})
		p := PriorityIncrease
		if found {
			p = StockPriority(qty, acked)
		}
		st.markLocked(MethodStock, k, p, now)
	}
	st.mu.Unlock()
	if len(forget) > 0 {
		notify(st.wake[MethodStock])
		st.storeAcks(forget)
	}
	return differ, missing
}
