package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"

	"stockd/adapters/kafka"
	"stockd/adapters/onec/orders"
	"stockd/reservation"
)

// MetricOrdersOutQueueDepth is the gauge of orders.out messages waiting
// to be written.
const MetricOrdersOutQueueDepth = "stockd.orders.out.queue.depth"

// ordersOutSweepInterval is how often the publisher looks for confirmed
// holds that are neither published nor queued (after a full queue), and
// whether the store of published orders needs compacting.
const ordersOutSweepInterval = time.Minute

// ordersOut publishes every confirmed hold to the orders.out topic, and the
// cancellation of one, at least once, keyed by the hold id.
//
// What was published is recorded durably (an orders.FileStore with the
// topic as its account), after the brokers acknowledged it (acks=all). At
// start, and whenever a message could not be queued, the confirmed holds
// of the ledger that are neither recorded nor queued are queued: a
// confirmation the process acknowledged reaches the topic even if it dies
// with the message in its queue. A crash between the acknowledgement and
// the record publishes the message again; consumers upsert by id.
//
// Cancellations (a marketplace order the intake releases or finds
// cancelled after hand-off, a website release of a published order) are
// queued once: one lost with the process is not sent again.
type ordersOut struct {
	topic     string
	w         *kafka.Writer
	pub       *orders.Publisher
	published *orders.FileStore
	log       *slog.Logger
	reg       metric.Registration
	// behind: a confirmed hold may be neither published nor queued; the
	// next sweep queues it. Set at start, on a full queue, after a
	// confirm whose outcome its caller did not learn (a timeout, a journal
	// failure: it may be durable all the same) and after a recovery.
	behind atomic.Bool
}

// openOrdersOut starts nothing: Run writes and sweeps.
func (e *Engine) openOrdersOut() (*ordersOut, error) {
	oc := e.cfg.Orders
	if !oc.Publish {
		return nil, nil
	}
	w, err := kafka.NewWriter(kafka.DefaultWriterConfig(e.cfg.Kafka.Brokers, e.cfg.Kafka.OrdersTopic))
	if err != nil {
		return nil, fmt.Errorf("engine: orders.out writer: %w", err)
	}
	store, err := orders.OpenFileStore(e.cfg.dataFile(oc.PublishedFile, "orders-published.log"), 0)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("engine: orders.out: %w", err)
	}
	o := &ordersOut{topic: e.cfg.Kafka.OrdersTopic, w: w, published: store, log: e.log}
	o.pub, err = orders.NewPublisher(orders.PublisherConfig{Writer: w, MaxQueued: oc.MaxPublishQueue, Acked: o.acked,
		Now: e.now, Logger: e.log})
	if err == nil {
		err = o.observe(e.tel.Meter("stockd"))
	}
	if err != nil {
		o.close()
		return nil, fmt.Errorf("engine: orders.out: %w", err)
	}
	o.behind.Store(true)
	return o, nil
}

// observe registers the queue depth gauge, read at collection.
func (o *ordersOut) observe(m metric.Meter) error {
	g, err := m.Int64ObservableGauge(MetricOrdersOutQueueDepth, metric.WithUnit("{message}"),
		metric.WithDescription("orders.out messages queued and not yet acknowledged by the brokers"))
	if err != nil {
		return err
	}
	o.reg, err = m.RegisterCallback(func(_ context.Context, ob metric.Observer) error {
		ob.ObserveInt64(g, int64(o.pub.Stats().Queued))
		return nil
	}, g)
	return err
}

// acked records the confirmed orders of a batch the brokers acknowledged.
func (o *ordersOut) acked(ctx context.Context, msgs []orders.Message) error {
	ids := make([]string, 0, len(msgs))
	for i := range msgs {
		if msgs[i].State == orders.StateConfirmed {
			ids = append(ids, msgs[i].ID)
		}
	}
	return o.published.MarkExported(ctx, o.topic, ids)
}

// known reports whether the order's confirmation was published or waits.
func (o *ordersOut) known(id string) bool {
	return o.published.Exported(o.topic, id) || o.pub.Queued(id)
}

// uncertain notes a confirm that may have become durable without its
// caller knowing: the next sweep publishes it if it did.
func (o *ordersOut) uncertain() {
	if o != nil {
		o.behind.Store(true)
	}
}

// confirmed queues a durable confirmation unless it is published or
// queued already. It never waits: a full queue leaves it to the sweep.
func (o *ordersOut) confirmed(h reservation.Hold) {
	if o == nil || h.State != reservation.HoldConfirmed || o.known(h.ID) {
		return
	}
	if err := o.pub.Confirmed(h); err != nil {
		o.behind.Store(true)
	}
}

// cancelled queues the cancellation of an order.
func (o *ordersOut) cancelled(h reservation.Hold, handedOff bool) {
	if o == nil {
		return
	}
	if err := o.pub.Cancelled(h, handedOff); err != nil {
		o.log.Warn("orders.out: cancellation not queued", "order", h.ID, "err", err)
	}
}

// released queues the cancellation of a released hold whose confirmation
// was published or queued.
func (o *ordersOut) released(h reservation.Hold) {
	if o == nil || h.State != reservation.HoldReleased || !o.known(h.ID) {
		return
	}
	o.cancelled(h, false)
}

// run writes until ctx ends, sweeping every ordersOutSweepInterval.
func (e *Engine) runOrdersOut(ctx context.Context, o *ordersOut) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := o.pub.Run(ctx); err != nil && ctx.Err() == nil {
			e.log.Error("orders.out publisher stopped", "err", err)
		}
	}()
	defer func() { <-done }()
	t := time.NewTicker(ordersOutSweepInterval)
	defer t.Stop()
	for {
		if o.behind.Swap(false) {
			n, err := e.requeueOrdersOut(ctx, o)
			if err != nil {
				o.behind.Store(true)
				e.log.Warn("orders.out: confirmed orders not all queued; trying again", "queued", n, "err", err)
			} else if n > 0 {
				e.log.Info("orders.out: queued confirmed orders not yet published", "orders", n)
			}
		}
		e.compactOrdersOut(o)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// requeueOrdersOut queues the confirmed holds that are neither published
// nor queued; it stops at a full queue. What it read from the ledger is
// published only once it is durable (a barrier): a confirm still in the
// journal's queue may yet fail, and recovery would drop it.
func (e *Engine) requeueOrdersOut(ctx context.Context, o *ordersOut) (int, error) {
	var todo []reservation.Hold
	e.core.Read(func(l *reservation.Ledger) {
		l.EachHold(func(h *reservation.Hold) bool {
			if h.State == reservation.HoldConfirmed && !o.known(h.ID) {
				c := *h
				c.Lines = append([]reservation.Line(nil), h.Lines...)
				c.Allocations = append([]reservation.Allocation(nil), h.Allocations...)
				todo = append(todo, c)
			}
			return len(todo) < orders.DefaultMaxQueued
		})
	})
	if len(todo) == 0 {
		return 0, nil
	}
	if err := e.core.Barrier(ctx); err != nil {
		return 0, fmt.Errorf("wait until the confirmations read are durable: %w", err)
	}
	for i, h := range todo {
		if err := o.pub.Confirmed(h); err != nil {
			return i, err
		}
	}
	return len(todo), nil
}

// compactOrdersOut drops the published records of holds no longer active
// once they are most of the store.
func (e *Engine) compactOrdersOut(o *ordersOut) {
	n := o.published.Len()
	var active int
	e.core.Read(func(l *reservation.Ledger) { active = l.ActiveHolds() })
	if n < orders.MinCompactEntries || n < 2*active {
		return
	}
	live := make(map[string]struct{}, active)
	e.core.Read(func(l *reservation.Ledger) {
		l.EachHold(func(h *reservation.Hold) bool {
			live[h.ID] = struct{}{}
			return true
		})
	})
	err := o.published.Compact(func(_, id string) bool {
		_, ok := live[id]
		return ok || o.pub.Queued(id)
	})
	if err != nil {
		e.log.Warn("orders.out: compacting the published store", "err", err)
	}
}

// PublisherStats returns the orders.out counters; zero when off.
func (e *Engine) PublisherStats() orders.PublisherStats {
	if e.handoff == nil || e.handoff.out == nil {
		return orders.PublisherStats{}
	}
	return e.handoff.out.pub.Stats()
}

func (o *ordersOut) close() error {
	if o.reg != nil {
		o.reg.Unregister()
	}
	return errors.Join(o.w.Close(), o.published.Close())
}
