package engine

import (
	"context"
	"errors"
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
	// Publish writes every confirmed hold (website confirm, marketplace
	// order recorded) as JSON to kafka.orders_topic (orders.out), and the
	// cancellation of one; needs kafka.brokers.
	Publish bool `yaml:"publish"`
	// MaxPublishQueue bounds the messages waiting for Kafka; 0: 100,000.
	// Past it a confirmation is left to the next sweep (a minute).
	MaxPublishQueue int `yaml:"max_publish_queue"`
	// PublishedFile records which confirmations the brokers acknowledged;
	// empty: orders-published.log beside the journal directory.
	PublishedFile string `yaml:"published_file"`
}

// MaxPublishQueue bounds orders.max_publish_queue.
const MaxPublishQueue = 10_000_000

// validateOrders checks the order intake, hand-off and publishing settings.
func (c Config) validateOrders() error {
	oc := c.Orders
	if oc.Publish && len(c.Kafka.Brokers) == 0 {
		return errors.New("engine: config: orders.publish needs kafka.brokers (orders are written to kafka.orders_topic)")
	}
	if oc.Publish && c.Kafka.OrdersTopic == "" {
		return errors.New("engine: config: orders.publish needs kafka.orders_topic")
	}
	if oc.MaxPublishQueue < 0 || oc.MaxPublishQueue > MaxPublishQueue {
		return fmt.Errorf("engine: config: orders.max_publish_queue %d is not in 0..%d", oc.MaxPublishQueue, MaxPublishQueue)
	}
	known := map[string]bool{}
	for _, ch := range c.Channels {
		known[ch.Name] = true
	}
	for ch, d := range oc.PollIntervals {
		if !known[ch] {
			return fmt.Errorf("engine: config: orders.poll_intervals: %q is not one of channels", ch)
		}
		if d < intake.MinPollInterval || d > intake.MaxPollInterval {
			return fmt.Errorf("engine: config: orders.poll_intervals: %s %v is not in %v..%v", ch, d, intake.MinPollInterval, intake.MaxPollInterval)
		}
	}
	return c.validateOneCOrders()
}

// orderLedger is the intake's view of the engine: every change durable
// before it returns.
type orderLedger struct{ e *Engine }

var _ intake.Ledger = orderLedger{}

func (o orderLedger) RecordOrder(ctx context.Context, id, channel string, lines []reservation.Line) (reservation.Hold, bool, error) {
	h, res, err := o.e.core.Reserve(ctx, reservation.ReserveRequest{ID: id, Channel: channel, Lines: lines, Force: true}, o.e.now())
	if err == nil {
		o.e.handoff.orderConfirmed(h)
	}
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

// openOrders opens the orders.out publisher and the marketplace order
// intake; the exchange's order source opens with the exchange.
func (e *Engine) openOrders() error {
	e.handoff = &handoffRuntime{}
	out, err := e.openOrdersOut()
	if err != nil {
		return err
	}
	e.handoff.out = out
	if err := e.openIntake(); err != nil {
		return errors.Join(err, e.handoff.close())
	}
	return nil
}

// runOrders runs the intake and the orders.out publisher until ctx ends.
func (e *Engine) runOrders(ctx context.Context) {
	if out := e.handoff.out; out != nil {
		done := make(chan struct{})
		go func() {
			defer close(done)
			e.runOrdersOut(ctx, out)
		}()
		defer func() { <-done }()
	}
	e.runIntake(ctx)
}

// closeOrders closes the stores and the orders.out writer.
func (e *Engine) closeOrders() error { return e.handoff.close() }

// orderConfirmed publishes a confirmed hold (durable) to orders.out.
func (r *handoffRuntime) orderConfirmed(h reservation.Hold) {
	if r != nil {
		r.out.confirmed(h)
	}
}

// confirmUncertain notes a confirm that failed after its change may have
// been made (a timeout, a journal failure): the orders.out sweep looks
// for it.
func (r *handoffRuntime) confirmUncertain() {
	if r != nil {
		r.out.uncertain()
	}
}

// orderReleased publishes the cancellation of a released hold whose
// confirmation was published.
func (r *handoffRuntime) orderReleased(h reservation.Hold) {
	if r != nil {
		r.out.released(h)
	}
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
	out := e.handoff.out
	in, err := intake.New(intake.Config{Channels: chs, Ledger: orderLedger{e}, Now: e.now, Logger: e.log,
		OnCancelled: func(h reservation.Hold, handedOff bool) { out.cancelled(h, handedOff) },
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
