package engine

import (
	"context"
	"fmt"
	"strings"
	"time"

	"stockd/engine/intake"
	"stockd/reservation"
)

// OrdersConfig is the marketplace order intake: every channel whose
// marketplace serves FBS orders is polled and each order becomes a
// confirmed hold (recorded even without stock: it is already sold).
type OrdersConfig struct {
	// PollIntervals by channel name; empty: the marketplace's default
	// (Ozon and Wildberries 15 s, Yandex Market 30 s).
	PollIntervals map[string]time.Duration `yaml:"poll_intervals"`
	// DisableIntake turns polling off.
	DisableIntake bool `yaml:"disable_intake"`
}

// orderLedger is the intake's view of the engine: every change durable
// before it returns.
type orderLedger struct{ e *Engine }

var _ intake.Ledger = orderLedger{}

func (o orderLedger) RecordOrder(ctx context.Context, id, channel string, lines []reservation.Line) (reservation.Hold, bool, error) {
	h, res, err := o.e.core.Reserve(ctx, reservation.ReserveRequest{ID: id, Channel: channel, Lines: lines, Force: true}, o.e.now())
	return h, err == nil && !res.Replayed, err
}

func (o orderLedger) Release(ctx context.Context, id string) (reservation.Hold, error) {
	return o.e.core.Release(ctx, id, o.e.now())
}

func (o orderLedger) Hold(ctx context.Context, id string) (reservation.Hold, error) {
	return o.e.Hold(ctx, id)
}

func (o orderLedger) OpenHolds(ctx context.Context, channel, prefix string, max int) ([]string, error) {
	var ids []string
	o.e.core.Read(func(l *reservation.Ledger) {
		l.EachHold(func(h *reservation.Hold) bool {
			if h.Channel == channel && strings.HasPrefix(h.ID, prefix) {
				ids = append(ids, h.ID)
			}
			return len(ids) < max
		})
	})
	return ids, o.e.core.Barrier(ctx)
}

// openIntake builds the order pollers of the marketplace channels.
func (e *Engine) openIntake() error {
	if e.feeds == nil || e.cfg.Orders.DisableIntake {
		return nil
	}
	chs := intake.FromFeeds(e.feeds.channels, e.cfg.Orders.PollIntervals)
	if len(chs) == 0 {
		return nil
	}
	hub := e.feeds.hub
	in, err := intake.New(intake.Config{Channels: chs, Ledger: orderLedger{e}, Now: e.now, Logger: e.log,
		Touched: func(channel string, skus []string) {
			if _, err := hub.Forget(channel, skus); err != nil {
				e.log.Warn("resend after a marketplace cancellation", "channel", channel, "err", err)
			}
		}})
	if err != nil {
		return fmt.Errorf("engine: order intake: %w", err)
	}
	e.intake = in
	return nil
}

// runIntake polls marketplace orders until ctx ends.
func (e *Engine) runIntake(ctx context.Context) {
	if e.intake == nil {
		return
	}
	if err := e.intake.Run(ctx); err != nil && ctx.Err() == nil {
		e.log.Error("order intake stopped", "err", err)
	}
}
