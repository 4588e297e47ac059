package engine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"stockd/adapters/postgres"
	"stockd/feeds"
	"stockd/feeds/ackstore"
	"stockd/reservation"
)

// FeedAcksConfig says where the last value each marketplace acknowledged
// is kept, so a restart sends only what differs.
type FeedAcksConfig struct {
	// Kind is file or postgres; empty: the journal's kind.
	Kind JournalKind `yaml:"kind"`
	// Path of the file store; empty: feed-acks.log beside the journal directory.
	Path string `yaml:"path"`
	// DatabaseURL of the postgres store; empty: the journal's database.
	DatabaseURL string `yaml:"database_url"`
}

// feedsRuntime is the running propagation side.
type feedsRuntime struct {
	hub      *feeds.Hub
	channels []feeds.Channel
	acks     ackstore.Store
	closeDB  func()
	cancel   context.CancelFunc
}

func (c Config) feedAcks() FeedAcksConfig {
	fa := c.FeedAcks
	if fa.Kind == "" {
		fa.Kind = c.Journal.Kind
	}
	if fa.Path == "" {
		fa.Path = filepath.Join(filepath.Dir(filepath.Clean(c.Journal.Dir)), "feed-acks.log")
	}
	if fa.DatabaseURL == "" {
		fa.DatabaseURL = c.Journal.DatabaseURL
	}
	return fa
}

// openFeeds builds the marketplace channels and the hub, hooks the hub
// to the ledger's changes, and marks every offer whose desired value
// differs from the last acknowledged one (changes durable before a crash
// but never sent are sent now).
func (e *Engine) openFeeds(ctx context.Context, secrets feeds.Secrets, transport http.RoundTripper) error {
	if len(e.cfg.Feeds) == 0 {
		return nil
	}
	chs, err := feeds.BuildChannels(e.cfg.Feeds, feeds.Deps{Secrets: secrets, ReadFile: os.ReadFile,
		Transport: transport, Now: e.now})
	if err != nil {
		return fmt.Errorf("engine: feeds: %w", err)
	}
	acks, closeDB, err := e.openAckStore(ctx)
	if err != nil {
		feeds.CloseChannels(chs)
		return err
	}
	hubCtx, cancel := context.WithCancel(context.Background())
	hub, err := feeds.New(hubCtx, feeds.Config{Channels: chs, Acks: acks, Now: e.now, Seed: uint64(e.now().UnixNano()),
		Source: feeds.SourceFuncs{Qty: e.channelQty, PriceOf: e.price}, Tracer: e.pushTracer(), SKUs: e.eachSKU})
	if err != nil {
		cancel()
		feeds.CloseChannels(chs)
		acks.Close()
		closeDB()
		return fmt.Errorf("engine: feeds: %w", err)
	}
	e.feeds = &feedsRuntime{hub: hub, channels: chs, acks: acks, closeDB: closeDB, cancel: cancel}
	e.core.changed = func(ctx context.Context, ch []reservation.ChannelChange, pr []reservation.PriceChange) {
		e.changesTraced(ctx, hub, ch, pr)
	}
	skus := e.allSKUs()
	for _, name := range hub.Channels() {
		n, err := hub.Resync(ctx, name, func(yield func(string) bool) {
			for _, s := range skus {
				if !yield(s) {
					return
				}
			}
		})
		if err != nil {
			return fmt.Errorf("engine: feeds: resync %s: %w", name, err)
		}
		e.log.Info("channel resynced", "channel", name, "offers_to_send", n)
	}
	return nil
}

func (e *Engine) openAckStore(ctx context.Context) (ackstore.Store, func(), error) {
	fa := e.cfg.feedAcks()
	switch fa.Kind {
	case JournalFile:
		s, err := ackstore.OpenFile(ackstore.FileConfig{Path: fa.Path})
		if err != nil {
			return nil, nil, fmt.Errorf("engine: feed ack store %s: %w", fa.Path, err)
		}
		return s, func() {}, nil
	case JournalPostgres:
		pool, err := postgres.NewPool(ctx, postgres.DefaultConfig(fa.DatabaseURL))
		if err != nil {
			return nil, nil, fmt.Errorf("engine: feed ack store database: %w", err)
		}
		if err := postgres.Migrate(ctx, pool); err != nil {
			pool.Close()
			return nil, nil, fmt.Errorf("engine: feed ack store database: %w", err)
		}
		return ackstore.NewPostgres(pool), pool.Close, nil
	}
	return nil, nil, fmt.Errorf("engine: config: feed_acks.kind %q is not file or postgres", fa.Kind)
}

// channelQty is the hub's read of a channel view at send time.
func (e *Engine) channelQty(sku, view string) (int64, error) {
	var n int64
	var err error
	e.core.Read(func(l *reservation.Ledger) { n, err = l.Available(sku, view) })
	return n, err
}

func (e *Engine) price(sku, priceType string) (reservation.Price, bool) {
	var p reservation.Price
	var ok bool
	e.core.Read(func(l *reservation.Ledger) { p, ok = l.Price(sku, priceType) })
	return p, ok
}

func (e *Engine) allSKUs() []string {
	var out []string
	e.core.Read(func(l *reservation.Ledger) {
		out = make([]string, 0, l.SKUCount())
		l.SKUs(func(s string) bool { out = append(out, s); return true })
	})
	return out
}

// eachSKU yields a snapshot of the ledger's SKUs (the hub's ResyncAll,
// POST /v1/channels/{channel}:resync).
func (e *Engine) eachSKU(yield func(string) bool) {
	for _, s := range e.allSKUs() {
		if !yield(s) {
			return
		}
	}
}

// closeFeeds stops the workers, then the clients and the ack store.
func (f *feedsRuntime) close(ctx context.Context) error {
	if f == nil {
		return nil
	}
	err := f.hub.Close(ctx)
	f.cancel()
	feeds.CloseChannels(f.channels)
	err = errors.Join(err, f.acks.Close())
	f.closeDB()
	return err
}

// Feeds returns the propagation hub, nil when no marketplace channel is configured.
func (e *Engine) Feeds() *feeds.Hub {
	if e.feeds == nil {
		return nil
	}
	return e.feeds.hub
}
