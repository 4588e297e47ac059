package engine

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"stockd/adapters/onec/cmlevents"
	"stockd/adapters/onec/exchange"
	"stockd/adapters/onec/orders"
)

// OneCConfig is the 1C exchange endpoint (/1c/exchange and
// /bitrix/admin/1c_exchange.php). It is on when it names accounts.
type OneCConfig struct {
	Exchange exchange.Config `yaml:"exchange"`
	// TimeZone reads ДатаФормирования of files that carry no zone, and
	// writes Дата and Время of the orders served to 1C.
	TimeZone string `yaml:"time_zone"`
	// HandoffOnSuccess: type=sale&mode=success also hands the holds 1C
	// took off to it, in the same step. Off (the default), a hold stays
	// until 1C's figures name it (stock.set/stock.adjust handoff) or a
	// reservation.handoff event arrives. On only where 1C lowers its free
	// stock before it answers success (docs/ORDERS.md, the double-count
	// window), and with one account: the first base to take an order
	// hands it off for all.
	HandoffOnSuccess bool `yaml:"handoff_on_success"`
	// Orders is what type=sale&mode=query serves.
	Orders OneCOrdersConfig `yaml:"orders"`
	// KnownOffersFile keeps, across restarts, the offers each 1C catalog
	// reported (a full snapshot that lacks one reports it missing) and the
	// seqs given to its events; default onec-known-offers.json beside the
	// journal directory. Written after each exchange and every
	// KnownOffersFlushInterval.
	KnownOffersFile string `yaml:"known_offers_file"`
}

// KnownOffersFlushInterval is how often the known offers of 1C catalogs
// are written when they changed (and at shutdown).
const KnownOffersFlushInterval = 10 * time.Second

// OneCOrdersConfig shapes the orders 1C takes over the exchange: every
// confirmed hold (website and marketplace orders) that the account has
// not taken yet, as CommerceML "Заказ товара" documents.
type OneCOrdersConfig struct {
	// Disable serves no orders (mode=query answers an empty document).
	Disable bool `yaml:"disable"`
	// Channels limits the orders served to these channels; empty: all.
	Channels []string `yaml:"channels"`
	// Counterparties by channel: the buyer 1C books the channel's orders
	// to; missing: Ид "stockd#<channel>", the channel's name.
	Counterparties map[string]orders.ChannelInfo `yaml:"counterparties"`
	// PriceType prices the lines from the ledger's prices; empty: 0
	// (1C prices the order).
	PriceType string `yaml:"price_type"`
	// Currency of the documents; empty: RUB.
	Currency string `yaml:"currency"`
	// ExportedFile remembers, per account, the orders 1C took; empty:
	// onec-exported.log beside the journal directory.
	ExportedFile string `yaml:"exported_file"`
}

// location is the zone of 1C's dates.
func (c Config) location() (*time.Location, error) {
	if c.OneC.TimeZone == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(c.OneC.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("engine: config: onec.time_zone: %w", err)
	}
	return loc, nil
}

// dataFile is name beside the journal directory (or path, if set).
func (c Config) dataFile(path, name string) string {
	if path != "" {
		return path
	}
	return filepath.Join(filepath.Dir(filepath.Clean(c.Journal.Dir)), name)
}

// validateOneCOrders checks the order hand-off settings.
func (c Config) validateOneCOrders() error {
	oc := c.OneC.Orders
	if len(c.OneC.Exchange.Accounts) == 0 {
		if c.OneC.HandoffOnSuccess {
			return errors.New("engine: config: onec.handoff_on_success needs onec.exchange.accounts (1C takes orders over the exchange)")
		}
		return nil
	}
	if c.OneC.HandoffOnSuccess && oc.Disable {
		return errors.New("engine: config: onec.handoff_on_success with onec.orders.disable: no order is served, none can be handed off")
	}
	known := map[string]bool{}
	for _, ch := range c.Channels {
		known[ch.Name] = true
	}
	for _, ch := range oc.Channels {
		if !known[ch] {
			return fmt.Errorf("engine: config: onec.orders.channels: %q is not one of channels", ch)
		}
	}
	for ch := range oc.Counterparties {
		if !known[ch] {
			return fmt.Errorf("engine: config: onec.orders.counterparties: %q is not one of channels", ch)
		}
	}
	if oc.Currency != "" && (len(oc.Currency) != 3 || strings.ToUpper(oc.Currency) != oc.Currency) {
		return fmt.Errorf("engine: config: onec.orders.currency %q is not an ISO 4217 code such as RUB", oc.Currency)
	}
	return nil
}

// exchangeConfig fills each account's event settings from the defaults
// where the file left them out.
func (c Config) exchangeConfig() (exchange.Config, error) {
	xc := c.OneC.Exchange
	xc.WorkDir = c.dataFile(xc.WorkDir, "1c-exchange")
	loc, err := c.location()
	if err != nil {
		return xc, err
	}
	accounts := make([]exchange.Account, len(xc.Accounts))
	for i, acc := range xc.Accounts {
		ev := acc.Events
		source := ev.Source
		if source == "" {
			source = acc.Login
		}
		d := cmlevents.DefaultConfig(source)
		d.DefaultWarehouse, d.DefaultCurrency = ev.DefaultWarehouse, ev.DefaultCurrency
		d.ZeroMissing, d.UnspecifiedIsFull, d.UseImportTime = ev.ZeroMissing, ev.UnspecifiedIsFull, ev.UseImportTime
		if ev.Warehouses != nil {
			d.Warehouses = ev.Warehouses
		}
		if ev.PriceTypes != nil {
			d.PriceTypes = ev.PriceTypes
		}
		d.Location = loc
		for _, lim := range []struct {
			dst *int
			src int
		}{{&d.MaxBatchEvents, ev.MaxBatchEvents}, {&d.MaxWarnings, ev.MaxWarnings},
			{&d.MaxMissingListed, ev.MaxMissingListed}, {&d.MaxSnapshotOffers, ev.MaxSnapshotOffers}} {
			if lim.src > 0 {
				*lim.dst = lim.src
			}
		}
		acc.Events = d
		accounts[i] = acc
	}
	xc.Accounts = accounts
	return xc, nil
}

// openExchange starts the 1C exchange handler when accounts are
// configured; it needs Kafka (imports become events on onec.events).
func (e *Engine) openExchange() (*exchange.Handler, error) {
	if len(e.cfg.OneC.Exchange.Accounts) == 0 {
		return nil, nil
	}
	if e.events == nil {
		return nil, fmt.Errorf("engine: config: onec.exchange needs kafka.brokers (imports are written to %s)", e.cfg.Kafka.EventsTopic)
	}
	xc, err := e.cfg.exchangeConfig()
	if err != nil {
		return nil, err
	}
	src, err := e.openOrderSource()
	if err != nil {
		return nil, err
	}
	store, err := cmlevents.OpenFileStore(e.cfg.dataFile(e.cfg.OneC.KnownOffersFile, "onec-known-offers.json"),
		uint64(e.now().UnixMicro()), cmlevents.DefaultMaxKnownOffers)
	if err != nil {
		return nil, fmt.Errorf("engine: 1C exchange: %w", err)
	}
	e.knownOffers = store
	opts := exchange.Options{Config: xc, Sink: cmlevents.WriterSink{W: e.events}, Store: store, Logger: e.log, Now: e.now}
	if src != nil {
		opts.Orders = src
	}
	h, err := exchange.New(opts)
	if err != nil {
		return nil, fmt.Errorf("engine: 1C exchange: %w", err)
	}
	return h, nil
}

// openOrderSource opens the store of exported orders and the Source that
// serves confirmed holds to 1C (type=sale&mode=query, mode=success).
func (e *Engine) openOrderSource() (*orders.Source, error) {
	oc := e.cfg.OneC.Orders
	if oc.Disable {
		return nil, nil
	}
	loc, err := e.cfg.location()
	if err != nil {
		return nil, err
	}
	store, err := orders.OpenFileStore(e.cfg.dataFile(oc.ExportedFile, "onec-exported.log"), 0)
	if err != nil {
		return nil, fmt.Errorf("engine: 1C orders: %w", err)
	}
	src, err := orders.NewSource(orders.SourceConfig{Ledger: exportLedger{e}, Store: store, Channels: oc.Channels,
		Info: oc.Counterparties, PriceType: oc.PriceType, Currency: oc.Currency, Location: loc,
		HandoffOnSuccess: e.cfg.OneC.HandoffOnSuccess, Logger: e.log, Now: e.now})
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("engine: 1C orders: %w", err)
	}
	e.handoff.exported, e.handoff.source = store, src
	return src, nil
}

// runExchange sweeps expired exchange sessions until ctx ends.
func (e *Engine) runExchange(ctx context.Context) {
	if e.exchange == nil {
		return
	}
	if e.knownOffers != nil {
		go e.flushKnownOffers(ctx)
	}
	if err := e.exchange.Run(ctx); err != nil && ctx.Err() == nil {
		e.log.Error("1C exchange sweeper stopped", "err", err)
	}
}

// flushKnownOffers writes the 1C catalogs' known offers when they changed,
// every KnownOffersFlushInterval until ctx ends (closeExchange writes the
// last state).
func (e *Engine) flushKnownOffers(ctx context.Context) {
	t := time.NewTicker(KnownOffersFlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := e.knownOffers.Flush(); err != nil {
				e.log.Error("write the known offers of 1C catalogs", "file", e.knownOffers.Path(), "err", err)
			}
		}
	}
}
