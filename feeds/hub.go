package feeds

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"stockd/adapters/marketsim"
	"stockd/feeds/ackstore"
	"stockd/feeds/limit"
	"stockd/feeds/yml"
	"stockd/reservation"
)

// Method is what a push worker sends.
type Method int

// The methods; each channel has one worker per method it pushes.
const (
	MethodStock Method = iota
	MethodPrice
	numMethods
)

func (m Method) String() string {
	switch m {
	case MethodStock:
		return "stock"
	case MethodPrice:
		return "price"
	}
	return fmt.Sprintf("method(%d)", int(m))
}

// Defaults and limits of a hub.
const (
	DefaultBackoffBase = time.Second
	DefaultBackoffCap  = 60 * time.Second
	// DefaultItemRetry is the least wait before an item the marketplace
	// refused as retriable is sent again.
	DefaultItemRetry = time.Second
	// DefaultMaxQuarantined bounds the quarantined keys of a channel.
	DefaultMaxQuarantined = 1 << 20
	// MaxAckTimeout bounds writing the acknowledgements of one batch.
	MaxAckTimeout = 30 * time.Second
	// cooldownMargin is added to a marketplace's per-item cooldown: its
	// clock and ours are not the same.
	cooldownMargin = 500 * time.Millisecond
)

// Errors of the hub.
var (
	ErrUnknownChannel = errors.New("feeds: unknown channel")
	ErrNotQuarantined = errors.New("feeds: offer is not quarantined")
	ErrClosed         = errors.New("feeds: hub closed")
)

// Channel is a channel ready to run: its validated config, its offers and
// the marketplace clients (nil for what it does not push). Open builds it
// from a ChannelConfig; tests build it directly.
type Channel struct {
	Config ChannelConfig
	Offers *Mapping
	Stock  marketsim.StockPusher
	Price  marketsim.PricePusher
	Reader marketsim.StockReader
	// Limiters are the clients' buckets, for Stats.
	Limiters []NamedLimiter
	// StockCooldown and PriceCooldown space updates of one item after an
	// acknowledged one (Ozon: 30 s per (offer, warehouse), 6 min per
	// product price); 0: none.
	StockCooldown time.Duration
	PriceCooldown time.Duration
	// YML is the channel's pull feed; nil: none.
	YML *yml.Feed
	// Tasks reads the verdict of asynchronous price uploads
	// (Wildberries); nil: an accepted price is acknowledged at once.
	Tasks PriceTasks
}

// NamedLimiter is a client bucket with the name Stats gives it.
type NamedLimiter struct {
	Name   string
	Bucket *limit.Bucket
}

// Config configures a Hub.
type Config struct {
	Channels []Channel
	Source   Source
	Acks     ackstore.Store
	Now      func() time.Time
	// Seed seeds the backoff jitter; runs with the same seed wait alike.
	Seed uint64
	// MaxDirtyOffers bounds the pending keys per channel and method; 0:
	// the package's MaxDirtyOffers.
	MaxDirtyOffers int
	// MaxQuarantined bounds the quarantined keys per channel; 0:
	// DefaultMaxQuarantined.
	MaxQuarantined int
	// BackoffBase and BackoffCap shape the backoff after a failed
	// request: a random wait in [0, min(cap, base·2^n)) (full jitter),
	// never shorter than the marketplace's retry hint. 0: 1 s and 60 s.
	BackoffBase time.Duration
	BackoffCap  time.Duration
	// ItemRetry is the least wait before a retriable refused item goes
	// again; 0: DefaultItemRetry.
	ItemRetry time.Duration
	// MaxItemAttempts bounds the retriable refusals of one key in a row
	// before it is quarantined; 0: DefaultMaxItemAttempts.
	MaxItemAttempts int
	// MaxPriceTasks bounds a channel's price uploads awaiting their
	// verdict; 0: DefaultMaxPriceTasks.
	MaxPriceTasks int
	// SKUs yields every SKU the ledger knows, for ResyncAll; nil:
	// ResyncAll is refused.
	SKUs iter.Seq[string]
	// Acked, if set, is called for every value a marketplace
	// acknowledged, from the worker, with no lock held (tracing,
	// latency metrics). It must not block.
	Acked func(AckEvent)
	// Tracer, if set, records a client span per push batch
	// ("<channel> push <method>") with a link per traced change it
	// carries; nil records nothing.
	Tracer trace.Tracer
}

// AckEvent is one acknowledged value.
type AckEvent struct {
	Channel   string
	Method    Method
	Offer     string // marketplace key
	Warehouse string // stock only
	Qty       int64
	Price     Money
	Since     time.Time // the oldest change the value carried
	At        time.Time // when the acknowledgement came
}

// Hub turns ledger changes into marketplace pushes: one dirty set per
// channel and method, one worker per (channel, method), acknowledged
// values kept in Acks.
//
// Locks: each channel has one mutex (chanState.mu) guarding its dirty
// sets, acknowledged values, quarantine and counters. No lock is held
// while calling the Source, a marketplace client, the ack store or the
// YML feed, and no two channel locks are held at once.
type Hub struct {
	cfg      Config
	channels map[string]*chanState
	order    []*chanState
	views    map[string][]viewRef // ledger channel → targets fed by it
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	closed   sync.Once
}

type viewRef struct {
	st     *chanState
	target int
}

type target struct {
	id   string
	view string
}

type ackedPrice struct {
	price, old Money
}

// chanState is one channel's state; mu guards everything below it.
type chanState struct {
	h           *Hub
	name        string
	ch          Channel
	stockPolicy StockPolicy
	currency    string
	targets     []target
	targetByID  map[string]int
	wake        [numMethods]chan struct{}
	ymlWake     chan struct{}

	mu         sync.Mutex
	markSC     trace.SpanContext // the change onChanges is marking, kept by MarkLinked
	dirty      [numMethods]*DirtySet
	inflight   [numMethods]map[string]time.Time // key → oldest change it carries
	ackStock   map[string]int64                 // stockKey → qty
	ackPrice   map[string]ackedPrice            // price id → price
	quarantine map[string]*Quarantined          // quarantineKey → entry
	approved   map[string]Money                 // price id → price approved over max_change_pct
	feed       *DirtySet                        // YML offers to re-read; nil without a feed
	// feedMu serialises syncFeed (one YML request at a time moves values
	// into the feed, so an older read cannot overwrite a newer one) and
	// guards feedPrices, the price each offer (by stock id) shows in the
	// feed: the base of max_change_pct there.
	feedMu     sync.Mutex
	feedPrices map[string]desiredPrice
	counters   [numMethods]counters
	lastErr    string
	lastErrAt  time.Time
	dropped    uint64 // marks lost to a full dirty set or quarantine
	// overflowed: a mark was lost to a full dirty set; once the set has
	// drained, a worker resyncs the channel whole (ResyncAll), so the lost
	// key is sent after all, not only at its next change
	overflowed atomic.Bool
	// tasks: price uploads awaiting their verdict (pricetask.go);
	// attempts: retriable refusals in a row per key (retry.go);
	// pausedUntil: the end of a worker's backoff; recon: reconcile runs.
	tasks       taskQueue
	attempts    [numMethods]map[string]int
	pausedUntil [numMethods]time.Time
	recon       reconcileState
}

type counters struct {
	sent, acked, skipped, retries, rejected, requests, requestErrors uint64
	gaveUp, taskPolls                                                uint64
}

// New loads the acknowledged values of every channel and starts the
// workers. Close stops them.
func New(ctx context.Context, cfg Config) (*Hub, error) {
	if err := cfg.withDefaults(); err != nil {
		return nil, err
	}
	h := &Hub{cfg: cfg, channels: make(map[string]*chanState), views: make(map[string][]viewRef)}
	for _, ch := range cfg.Channels {
		st, err := h.newChanState(ch)
		if err != nil {
			return nil, err
		}
		if err := st.loadAcks(ctx, cfg.Acks); err != nil {
			return nil, err
		}
		h.channels[st.name] = st
		h.order = append(h.order, st)
		for i, t := range st.targets {
			h.views[t.view] = append(h.views[t.view], viewRef{st: st, target: i})
		}
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	for i, st := range h.order {
		if st.ch.Config.Push.Disabled {
			continue
		}
		if st.ch.Stock != nil {
			h.start(func(ctx context.Context) { st.runWorker(ctx, MethodStock, cfg.Seed+uint64(2*i)) })
		}
		if st.ch.Price != nil && st.ch.Config.Price != nil {
			h.start(func(ctx context.Context) { st.runWorker(ctx, MethodPrice, cfg.Seed+uint64(2*i+1)) })
		}
		if st.ch.Reader != nil {
			h.start(func(ctx context.Context) { st.runReconcile(ctx) })
		}
	}
	return h, nil
}

func (cfg *Config) withDefaults() error {
	switch {
	case cfg.Source == nil:
		return errors.New("feeds: no Source")
	case cfg.Acks == nil:
		return errors.New("feeds: no ack store")
	case cfg.Now == nil:
		return errors.New("feeds: no clock")
	case len(cfg.Channels) > MaxChannels:
		return fmt.Errorf("feeds: %d channels, at most %d", len(cfg.Channels), MaxChannels)
	}
	if cfg.MaxDirtyOffers == 0 {
		cfg.MaxDirtyOffers = MaxDirtyOffers
	}
	if cfg.MaxQuarantined == 0 {
		cfg.MaxQuarantined = DefaultMaxQuarantined
	}
	if cfg.BackoffBase == 0 {
		cfg.BackoffBase = DefaultBackoffBase
	}
	if cfg.BackoffCap == 0 {
		cfg.BackoffCap = DefaultBackoffCap
	}
	if cfg.ItemRetry == 0 {
		cfg.ItemRetry = DefaultItemRetry
	}
	if cfg.MaxItemAttempts == 0 {
		cfg.MaxItemAttempts = DefaultMaxItemAttempts
	}
	if cfg.MaxPriceTasks == 0 {
		cfg.MaxPriceTasks = DefaultMaxPriceTasks
	}
	if cfg.MaxItemAttempts < 1 || cfg.MaxPriceTasks < 1 {
		return errors.New("feeds: MaxItemAttempts and MaxPriceTasks must be positive")
	}
	if cfg.MaxDirtyOffers < 1 || cfg.MaxQuarantined < 1 || cfg.BackoffBase < 0 || cfg.BackoffCap < cfg.BackoffBase || cfg.ItemRetry < 0 {
		return errors.New("feeds: hub limits must be positive and BackoffCap ≥ BackoffBase")
	}
	return nil
}

func (h *Hub) newChanState(ch Channel) (*chanState, error) {
	c := ch.Config
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if _, dup := h.channels[c.Name]; dup {
		return nil, fmt.Errorf("feeds: channel %q configured twice", c.Name)
	}
	if ch.Offers == nil {
		return nil, fmt.Errorf("feeds: channel %q: no offer mapping", c.Name)
	}
	st := &chanState{
		h: h, name: c.Name, ch: ch, stockPolicy: c.stockPolicy(), currency: c.Currency,
		targetByID: make(map[string]int), ackStock: make(map[string]int64), ackPrice: make(map[string]ackedPrice),
		quarantine: make(map[string]*Quarantined), approved: make(map[string]Money), ymlWake: make(chan struct{}, 1),
		recon: reconcileState{now: make(chan struct{}, 1)},
	}
	if st.currency == "" {
		st.currency = "RUB"
	}
	targets := c.Warehouses
	if len(targets) == 0 {
		targets = []TargetConfig{{}}
	}
	for i, t := range targets {
		st.targets = append(st.targets, target{id: t.ID, view: c.view(t)})
		st.targetByID[t.ID] = i
	}
	for m := range st.dirty {
		st.dirty[m] = NewDirtySet(h.cfg.MaxDirtyOffers)
		st.inflight[m] = make(map[string]time.Time)
		st.wake[m] = make(chan struct{}, 1)
	}
	now := h.cfg.Now()
	if ch.YML != nil {
		st.feed = NewDirtySet(h.cfg.MaxDirtyOffers)
		ch.Offers.Offers(func(o Offer) bool {
			st.markFeedLocked(o.StockID, now) // a new feed lists every mapped offer
			return true
		})
	}
	for _, bad := range ch.Offers.Bad {
		st.quarantine[quarantineKey(-1, bad.SKU)] = &Quarantined{
			Channel: st.name, Method: "mapping", SKU: bad.SKU, Code: "mapping", Reason: bad.Error(), Since: now,
		}
	}
	return st, nil
}

func (st *chanState) loadAcks(ctx context.Context, store ackstore.Store) error {
	return store.Load(ctx, st.name, func(e ackstore.Entry) error {
		switch e.Kind {
		case ackstore.KindStock:
			st.ackStock[stockKey(e.Offer, e.Warehouse)] = e.Qty
		case ackstore.KindPrice:
			st.ackPrice[e.Offer] = ackedPrice{price: Money(e.Price), old: Money(e.OldPrice)}
		}
		return nil
	})
}

func (h *Hub) start(fn func(ctx context.Context)) {
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		fn(h.ctx)
	}()
}

// Close stops every worker and waits for them, or until ctx ends. A push
// in flight is cancelled; its items stay unacknowledged and are sent
// again after the next start.
func (h *Hub) Close(ctx context.Context) error {
	h.closed.Do(func() { h.cancel() })
	done := make(chan struct{})
	go func() {
		h.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// LedgerViews are the ledger channels the engine must add to the ledger's
// config for targets with their own source warehouses ("<name>@<id>"):
// views that nothing reserves on, whose quantity feeds one marketplace
// warehouse.
func LedgerViews(cfgs []ChannelConfig) []reservation.ChannelConfig {
	var out []reservation.ChannelConfig
	seen := map[string]bool{}
	for _, c := range cfgs {
		for _, t := range c.Warehouses {
			v := c.view(t)
			if len(t.Sources) == 0 || seen[v] {
				continue
			}
			seen[v] = true
			out = append(out, reservation.ChannelConfig{Name: v, Warehouses: append([]string(nil), t.Sources...),
				Strategy: reservation.StrategyPriority})
		}
	}
	return out
}

func stockKey(offer, warehouse string) string { return offer + "\x00" + warehouse }

func splitStockKey(key string) (offer, warehouse string) {
	offer, warehouse, _ = strings.Cut(key, "\x00")
	return offer, warehouse
}

// quarantineKey: method -1 is a mapping row (keyed by SKU).
func quarantineKey(m Method, key string) string {
	return fmt.Sprintf("%d\x00%s", int(m), key)
}

// OnChanges marks what the ledger changed: every (offer, marketplace
// warehouse) whose view is a changed channel, and every offer priced by a
// changed price type. The priority comes from the last acknowledged
// value. The engine calls it once the changes are durable; it does no
// I/O and never blocks on a worker.
func (h *Hub) OnChanges(channels []reservation.ChannelChange, prices []reservation.PriceChange, now time.Time) {
	h.OnChangesTraced(trace.SpanContext{}, channels, prices, now)
}

// OnChangesTraced is OnChanges for changes made under the sampled span
// context sc (a reserve request, an applied 1C batch): each key it marks
// keeps sc, and the push batch that carries the key links to it. A zero
// sc keeps nothing.
func (h *Hub) OnChangesTraced(sc trace.SpanContext, channels []reservation.ChannelChange, prices []reservation.PriceChange, now time.Time) {
	for _, st := range h.order {
		st.onChanges(h.views, channels, prices, now, sc)
	}
}

func (st *chanState) onChanges(views map[string][]viewRef, channels []reservation.ChannelChange, prices []reservation.PriceChange, now time.Time, sc trace.SpanContext) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.markSC = sc
	defer func() { st.markSC = trace.SpanContext{} }()
	marked := [numMethods]bool{}
	fed := false
	for _, c := range channels {
		for _, ref := range views[c.Channel] {
			if ref.st != st {
				continue
			}
			o, ok := st.ch.Offers.Lookup(c.SKU)
			if !ok {
				continue
			}
			if st.ch.Stock != nil {
				desired := st.stockPolicy.ChannelQty(c.Qty)
				if st.markStockLocked(stockKey(o.StockID, st.targets[ref.target].id), desired, now) {
					marked[MethodStock] = true
				}
			}
			if st.feed != nil && ref.target == 0 {
				st.markFeedLocked(o.StockID, now)
				fed = true
			}
		}
	}
	if pp := st.ch.Config.Price; pp != nil {
		for _, p := range prices {
			if p.PriceType != pp.PriceType && p.PriceType != pp.OldPriceType {
				continue
			}
			o, ok := st.ch.Offers.Lookup(p.SKU)
			if !ok || !st.ch.Offers.IsPriceSource(o) {
				continue
			}
			if st.ch.Price != nil && st.markLocked(MethodPrice, o.PriceID, PriorityPrice, now) {
				marked[MethodPrice] = true
			}
			if st.feed != nil {
				st.markFeedLocked(o.StockID, now)
				fed = true
			}
		}
	}
	for m, ok := range marked {
		if ok {
			notify(st.wake[m])
		}
	}
	if fed {
		notify(st.ymlWake)
	}
}

// markStockLocked marks a stock key unless its desired value is the one
// acknowledged and nothing else is on the way.
func (st *chanState) markStockLocked(key string, desired int64, now time.Time) bool {
	acked, known := st.ackStock[key]
	_, flying := st.inflight[MethodStock][key]
	if known && acked == desired && !flying && !st.dirty[MethodStock].Pending(key) {
		return false
	}
	p := PriorityDecrease // unknown: the marketplace may show more
	if known {
		p = StockPriority(acked, desired)
	} else if desired == 0 {
		p = PriorityToZero
	}
	return st.markLocked(MethodStock, key, p, now)
}

func (st *chanState) markLocked(m Method, key string, p Priority, now time.Time) bool {
	if err := st.dirty[m].MarkLinked(key, p, now, st.markSC); err != nil {
		st.dropped++
		st.overflowed.Store(true)
		st.noteErrLocked(err, now)
		return false
	}
	return true
}

func (st *chanState) markFeedLocked(offer string, now time.Time) {
	if err := st.feed.Mark(offer, PriorityIncrease, now); err != nil {
		st.dropped++
		st.overflowed.Store(true)
	}
}

func (st *chanState) noteErrLocked(err error, now time.Time) {
	st.lastErr, st.lastErrAt = err.Error(), now
}

func notify(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func (h *Hub) channel(name string) (*chanState, error) {
	st, ok := h.channels[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownChannel, name)
	}
	return st, nil
}

// Channels lists the channel names in configuration order.
func (h *Hub) Channels() []string {
	out := make([]string, len(h.order))
	for i, st := range h.order {
		out[i] = st.name
	}
	return out
}

// MaxResyncBatch is how many SKUs Resync reads before it takes the
// channel lock to mark them.
const MaxResyncBatch = 1024

// Resync compares the desired value of every SKU that skus yields with
// the acknowledged one and marks what differs (or was never
// acknowledged): after a restart only the difference is sent. It returns
// the number of keys marked.
func (h *Hub) Resync(ctx context.Context, channel string, skus iter.Seq[string]) (int, error) {
	st, err := h.channel(channel)
	if err != nil {
		return 0, err
	}
	type want struct {
		method Method
		key    string
		qty    int64
		price  desiredPrice
		feed   string
	}
	var batch []want
	marked := 0
	flush := func() {
		now := h.cfg.Now()
		st.mu.Lock()
		for _, w := range batch {
			switch {
			case w.feed != "":
				st.markFeedLocked(w.feed, now)
			case w.method == MethodStock:
				if st.markStockLocked(w.key, w.qty, now) {
					marked++
				}
			default:
				if a, ok := st.ackPrice[w.key]; !ok || a.price != w.price.price || a.old != w.price.old {
					if st.markLocked(MethodPrice, w.key, PriorityPrice, now) {
						marked++
					}
				}
			}
		}
		st.mu.Unlock()
		notify(st.wake[MethodStock])
		notify(st.wake[MethodPrice])
		notify(st.ymlWake)
		batch = batch[:0]
	}
	n := 0
	for sku := range skus {
		if n++; n%MaxResyncBatch == 0 {
			if err := ctx.Err(); err != nil {
				return marked, err
			}
			flush()
		}
		o, ok := st.ch.Offers.Lookup(sku)
		if !ok {
			continue
		}
		if st.feed != nil {
			batch = append(batch, want{feed: o.StockID})
		}
		if st.ch.Stock != nil {
			for _, t := range st.targets {
				qty, err := h.cfg.Source.ChannelQty(sku, t.view)
				if err != nil {
					return marked, fmt.Errorf("feeds: resync %s: %w", channel, err)
				}
				batch = append(batch, want{method: MethodStock, key: stockKey(o.StockID, t.id), qty: st.stockPolicy.ChannelQty(qty)})
			}
		}
		if st.ch.Price != nil && st.ch.Config.Price != nil && st.ch.Offers.IsPriceSource(o) {
			if p, ok, _ := st.desiredPrice(sku); ok {
				batch = append(batch, want{method: MethodPrice, key: o.PriceID, price: p})
			}
		}
	}
	flush()
	return marked, nil
}

// Quarantined is an offer that is not sent: refused by the marketplace
// as invalid, a price change awaiting approval, or a bad mapping row.
type Quarantined struct {
	Channel   string `json:"channel"`
	Method    string `json:"method"` // stock, price or mapping
	SKU       string `json:"sku"`
	Offer     string `json:"offer"`     // marketplace key
	Warehouse string `json:"warehouse"` // stock only
	Code      string `json:"code"`      // marketplace or feeds code ("max_change_pct", "mapping"...)
	Reason    string `json:"reason"`
	Qty       int64  `json:"qty"`   // stock: the value refused
	Price     Money  `json:"price"` // price: the value refused or awaiting approval
	OldPrice  Money  `json:"old_price"`
	Acked     Money  `json:"acked"` // price: the last acknowledged price
	// NeedsApproval marks a price change over max_change_pct: Approve
	// sends it.
	NeedsApproval bool      `json:"needs_approval"`
	Since         time.Time `json:"since"`
}

// Quarantined lists the channel's quarantined offers, oldest first.
func (h *Hub) Quarantined(channel string) ([]Quarantined, error) {
	st, err := h.channel(channel)
	if err != nil {
		return nil, err
	}
	st.mu.Lock()
	out := make([]Quarantined, 0, len(st.quarantine))
	for _, q := range st.quarantine {
		out = append(out, *q)
	}
	st.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Since.Equal(out[j].Since) {
			return out[i].Since.Before(out[j].Since)
		}
		return out[i].Offer+out[i].Warehouse+out[i].SKU < out[j].Offer+out[j].Warehouse+out[j].SKU
	})
	return out, nil
}

// Approve lets a price change over max_change_pct through: the price
// awaiting approval for offer (the marketplace price key) is sent. Any
// other price is checked against the acknowledged one again.
func (h *Hub) Approve(channel, offer string) error {
	st, err := h.channel(channel)
	if err != nil {
		return err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	qk := quarantineKey(MethodPrice, offer)
	q, ok := st.quarantine[qk]
	if !ok || !q.NeedsApproval {
		return fmt.Errorf("%w: %s price %q awaits no approval", ErrNotQuarantined, channel, offer)
	}
	st.approved[offer] = q.Price
	delete(st.quarantine, qk)
	st.markLocked(MethodPrice, offer, PriorityPrice, h.cfg.Now())
	if o, ok := st.ch.Offers.PriceSource(offer); ok && st.feed != nil {
		st.markFeedLocked(o.StockID, h.cfg.Now()) // the feed shows the approved price too
	}
	notify(st.wake[MethodPrice])
	return nil
}

// Release takes an offer refused by the marketplace out of quarantine
// and sends it once more (after the operator fixed the cause in the
// cabinet). warehouse is empty for a price.
func (h *Hub) Release(channel string, m Method, offer, warehouse string) error {
	st, err := h.channel(channel)
	if err != nil {
		return err
	}
	key := offer
	if m == MethodStock {
		key = stockKey(offer, warehouse)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	qk := quarantineKey(m, key)
	q, ok := st.quarantine[qk]
	if !ok || q.NeedsApproval {
		return fmt.Errorf("%w: %s %s %q", ErrNotQuarantined, channel, m, key)
	}
	delete(st.quarantine, qk)
	if m == MethodStock {
		delete(st.ackStock, key) // send it even if the value looks acknowledged
	}
	st.markLocked(m, key, PriorityIncrease, h.cfg.Now())
	notify(st.wake[m])
	return nil
}

func (st *chanState) quarantineLocked(m Method, key string, q Quarantined) {
	st.forgetAttemptsLocked(m, key)
	qk := quarantineKey(m, key)
	if _, ok := st.quarantine[qk]; !ok && len(st.quarantine) >= st.h.cfg.MaxQuarantined {
		st.dropped++
		return
	}
	q.Channel, q.Method = st.name, m.String()
	st.quarantine[qk] = &q
}
