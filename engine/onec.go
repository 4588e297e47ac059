package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"stockd/adapters/onec/cmlevents"
	"stockd/adapters/onec/exchange"
)

// OneCConfig is the 1C exchange endpoint (/1c/exchange and
// /bitrix/admin/1c_exchange.php). It is on when it names accounts.
type OneCConfig struct {
	Exchange exchange.Config `yaml:"exchange"`
	// TimeZone reads ДатаФормирования of files that carry no zone.
	TimeZone string `yaml:"time_zone"`
}

// exchangeConfig fills each account's event settings from the defaults
// where the file left them out.
func (c Config) exchangeConfig() (exchange.Config, error) {
	xc := c.OneC.Exchange
	if xc.WorkDir == "" {
		xc.WorkDir = filepath.Join(filepath.Dir(filepath.Clean(c.Journal.Dir)), "1c-exchange")
	}
	loc := time.UTC
	if c.OneC.TimeZone != "" {
		var err error
		if loc, err = time.LoadLocation(c.OneC.TimeZone); err != nil {
			return xc, fmt.Errorf("engine: config: onec.time_zone: %w", err)
		}
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
	store := cmlevents.NewMemoryStore(uint64(e.now().UnixMicro()), cmlevents.DefaultMaxKnownOffers)
	h, err := exchange.New(exchange.Options{Config: xc, Sink: cmlevents.WriterSink{W: e.events.w}, Store: store,
		Logger: e.log, Now: e.now})
	if err != nil {
		return nil, fmt.Errorf("engine: 1C exchange: %w", err)
	}
	return h, nil
}

// runExchange sweeps expired exchange sessions until ctx ends.
func (e *Engine) runExchange(ctx context.Context) {
	if e.exchange == nil {
		return
	}
	if err := e.exchange.Run(ctx); err != nil && ctx.Err() == nil {
		e.log.Error("1C exchange sweeper stopped", "err", err)
	}
}
