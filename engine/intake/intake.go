package intake

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Intake runs one poller per marketplace channel.
type Intake struct {
	cfg     Config
	pollers []*poller
	byName  map[string]*poller
}

// New checks the configuration. Nothing runs until Run.
func New(cfg Config) (*Intake, error) {
	if cfg.Ledger == nil {
		return nil, fmt.Errorf("%w: Ledger is required", ErrInvalidConfig)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	in := &Intake{cfg: cfg, byName: make(map[string]*poller, len(cfg.Channels))}
	for _, ch := range cfg.Channels {
		if err := ch.withDefaults(); err != nil {
			return nil, err
		}
		if _, dup := in.byName[ch.Name]; dup {
			return nil, fmt.Errorf("%w: channel %q twice", ErrInvalidConfig, ch.Name)
		}
		p := newPoller(ch, cfg)
		in.pollers = append(in.pollers, p)
		in.byName[ch.Name] = p
	}
	return in, nil
}

// Run polls every channel until ctx ends, the first poll at once, and
// returns when every poller has stopped. A failed poll is logged and
// counted and the next one comes at the usual interval.
func (in *Intake) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, p := range in.pollers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.run(ctx)
		}()
	}
	wg.Wait()
	return nil
}

// PollOnce polls one channel now (stockctl, tests). It may run beside
// Run: a channel's polls never overlap.
func (in *Intake) PollOnce(ctx context.Context, channel string) error {
	p, ok := in.byName[channel]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownChannel, channel)
	}
	return p.poll(ctx)
}

// Stats returns every channel's counters, in configuration order.
func (in *Intake) Stats() []Stats {
	out := make([]Stats, 0, len(in.pollers))
	for _, p := range in.pollers {
		out = append(out, p.stats())
	}
	return out
}

// Stats are one channel's counters since start.
type Stats struct {
	Channel string `json:"channel"`
	Kind    string `json:"kind"`
	// Polls and PollErrors count polls and the ones that failed.
	Polls      uint64 `json:"polls"`
	PollErrors uint64 `json:"poll_errors"`
	// OrdersSeen counts orders found that were not tracked yet (after a
	// restart every open order is seen again).
	OrdersSeen uint64 `json:"orders_seen"`
	// HoldsCreated counts new holds; HoldsExisting orders whose hold was
	// there already (recorded before a restart or a crash).
	HoldsCreated  uint64 `json:"holds_created"`
	HoldsExisting uint64 `json:"holds_existing"`
	// Cancellations counts holds released because the order was
	// cancelled; CancelledAfterHandoff cancelled orders 1C had taken over.
	Cancellations         uint64 `json:"cancellations"`
	CancelledAfterHandoff uint64 `json:"cancelled_after_handoff"`
	// Shipped counts orders that left and are no longer followed.
	Shipped uint64 `json:"shipped"`
	// UnknownOffers counts order lines whose offer is not in the mapping;
	// OrdersWithoutLines orders none of whose lines is mapped (no hold).
	UnknownOffers      uint64 `json:"unknown_offers"`
	OrdersWithoutLines uint64 `json:"orders_without_lines"`
	// Refused counts orders the ledger refused (a limit, a conflict).
	Refused uint64 `json:"refused"`
	// StatusChecks counts orders looked up.
	StatusChecks uint64 `json:"status_checks"`
	// Open is the number of orders followed now; Untracked counts orders
	// not followed because MaxOpenOrders was reached.
	Open      int    `json:"open"`
	Untracked uint64 `json:"untracked"`
	// LastPoll is when the last poll ended; LastError its error, if any.
	LastPoll  time.Time `json:"last_poll"`
	LastError string    `json:"last_error"`
}
