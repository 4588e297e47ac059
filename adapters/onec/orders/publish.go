package orders

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"stockd/reservation"
)

// MessageVersion is the "v" of every orders.out message.
const MessageVersion = 1

// The states a message reports.
const (
	StateConfirmed = "confirmed"
	StateCancelled = "cancelled"
)

// Message is one orders.out message (JSON, key = ID); docs/ORDERS.md is
// its schema.
type Message struct {
	V       int    `json:"v"`
	ID      string `json:"id"`
	State   string `json:"state"`
	Channel string `json:"channel"`
	// MarketplaceOrderID is the marketplace's id of an order the intake
	// recorded ("ozon:<posting>" → "<posting>"); empty for the website.
	MarketplaceOrderID string `json:"marketplace_order_id,omitempty"`
	// Forced: a marketplace order recorded whatever the stock.
	Forced bool `json:"forced"`
	// HandedOff: 1C had already taken the order over when it was cancelled.
	HandedOff   bool                `json:"handed_off"`
	CreatedAt   time.Time           `json:"created_at"`
	At          time.Time           `json:"at"`
	Lines       []MessageLine       `json:"lines"`
	Allocations []MessageAllocation `json:"allocations"`
}

// MessageLine is one ordered SKU.
type MessageLine struct {
	SKU string `json:"sku"`
	Qty int64  `json:"qty"`
}

// MessageAllocation is the part of a line taken from one warehouse (a
// kit line is allocated per component).
type MessageAllocation struct {
	Line      int    `json:"line"`
	SKU       string `json:"sku"`
	Warehouse string `json:"warehouse"`
	Qty       int64  `json:"qty"`
}

// NewMessage is the message of a hold in state.
func NewMessage(h *reservation.Hold, state string, handedOff bool, at time.Time) Message {
	m := Message{V: MessageVersion, ID: h.ID, State: state, Channel: h.Channel, Forced: h.Forced, HandedOff: handedOff,
		CreatedAt: h.CreatedAt.UTC(), At: at.UTC(), Lines: make([]MessageLine, 0, len(h.Lines)),
		Allocations: make([]MessageAllocation, 0, len(h.Allocations))}
	m.MarketplaceOrderID, _ = marketOrderID(h.ID)
	for _, l := range h.Lines {
		m.Lines = append(m.Lines, MessageLine{SKU: l.SKU, Qty: l.Qty})
	}
	for _, a := range h.Allocations {
		m.Allocations = append(m.Allocations, MessageAllocation{Line: a.Line, SKU: a.SKU, Warehouse: a.Warehouse, Qty: a.Qty})
	}
	return m
}

// Writer writes messages to the topic; *kafka.Writer (adapters/kafka,
// acks=all, the topic set in its config) implements it.
type Writer interface {
	WriteMessages(ctx context.Context, msgs ...kafkago.Message) error
}

// Publisher defaults.
const (
	DefaultMaxQueued = 100_000
	DefaultMaxBatch  = 500
	// DefaultRetryBase and DefaultRetryCap bound the wait after a failed
	// write (doubling, no jitter: there is one writer).
	DefaultRetryBase = 100 * time.Millisecond
	DefaultRetryCap  = 10 * time.Second
)

// ErrQueueFull: the publisher holds MaxQueued messages; the message was
// not queued.
var ErrQueueFull = errors.New("orders: publish queue full")

// PublisherConfig configures a Publisher.
type PublisherConfig struct {
	Writer Writer
	// MaxQueued bounds the messages waiting; 0: DefaultMaxQueued.
	MaxQueued int
	// MaxBatch bounds the messages of one write; 0: DefaultMaxBatch.
	MaxBatch int
	// RetryBase and RetryCap: 0 are the defaults.
	RetryBase, RetryCap time.Duration
	// Acked, if set, is called by Run with each batch the brokers
	// acknowledged, before the next batch is written (the engine records
	// durably which orders were published). An error is logged: the
	// messages are out, a restart may only publish them again.
	Acked  func(ctx context.Context, msgs []Message) error
	Now    func() time.Time
	Logger *slog.Logger
}

// PublisherStats are counters since start.
type PublisherStats struct {
	Queued      int    `json:"queued"`
	Published   uint64 `json:"published"`
	Dropped     uint64 `json:"dropped"` // refused with ErrQueueFull
	WriteErrors uint64 `json:"write_errors"`
	AckErrors   uint64 `json:"ack_errors"` // Acked failed
}

// Publisher writes order messages to Kafka in the background. Messages
// are written in the order they were queued; a failed write is retried
// with the same batch first, so a key's messages stay in order.
//
// Enqueue only appends to a bounded slice under a mutex (no encoding, no
// I/O), so a caller on a request path never waits for Kafka.
type Publisher struct {
	cfg  PublisherConfig
	wake chan struct{}

	mu     sync.Mutex
	queue  []Message // queue[head:] wait, oldest first
	head   int
	queued map[string]int // messages waiting per order id
	stats  PublisherStats
}

// NewPublisher checks the configuration; Run writes.
func NewPublisher(cfg PublisherConfig) (*Publisher, error) {
	if cfg.Writer == nil {
		return nil, fmt.Errorf("%w: Writer is required", ErrInvalidConfig)
	}
	cfg.MaxQueued = orDefault(cfg.MaxQueued, DefaultMaxQueued)
	cfg.MaxBatch = orDefault(cfg.MaxBatch, DefaultMaxBatch)
	cfg.RetryBase = orDefault(cfg.RetryBase, DefaultRetryBase)
	cfg.RetryCap = orDefault(cfg.RetryCap, DefaultRetryCap)
	if cfg.MaxQueued < 1 || cfg.MaxBatch < 1 || cfg.RetryBase <= 0 || cfg.RetryCap < cfg.RetryBase {
		return nil, fmt.Errorf("%w: publisher limits must be positive and RetryCap ≥ RetryBase", ErrInvalidConfig)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Publisher{cfg: cfg, wake: make(chan struct{}, 1), queued: map[string]int{}}, nil
}

// Confirmed queues the message of a confirmed hold. Call it once the
// confirmation is durable.
func (p *Publisher) Confirmed(h reservation.Hold) error {
	return p.Enqueue(NewMessage(&h, StateConfirmed, false, p.cfg.Now()))
}

// Cancelled queues the cancellation of an order (handedOff: 1C carries it).
func (p *Publisher) Cancelled(h reservation.Hold, handedOff bool) error {
	return p.Enqueue(NewMessage(&h, StateCancelled, handedOff, p.cfg.Now()))
}

// Enqueue queues one message without waiting. m must not be changed
// afterwards (NewMessage makes fresh slices).
func (p *Publisher) Enqueue(m Message) error {
	p.mu.Lock()
	if len(p.queue)-p.head >= p.cfg.MaxQueued {
		p.stats.Dropped++
		p.mu.Unlock()
		return fmt.Errorf("%w (%d messages)", ErrQueueFull, p.cfg.MaxQueued)
	}
	p.queue = append(p.queue, m)
	p.queued[m.ID]++
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return nil
}

// Queued reports whether a message of the order waits to be written.
func (p *Publisher) Queued(id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.queued[id] > 0
}

// Run writes queued messages until ctx ends; what is still queued then
// is lost with the process (docs/ORDERS.md: re-published on start).
func (p *Publisher) Run(ctx context.Context) error {
	backoff := p.cfg.RetryBase
	var batch []Message
	var msgs []kafkago.Message
	for {
		batch = p.peek(batch[:0])
		if len(batch) == 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-p.wake:
				continue
			}
		}
		msgs = encode(msgs[:0], batch)
		if err := p.cfg.Writer.WriteMessages(ctx, msgs...); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			p.count(func(st *PublisherStats) { st.WriteErrors++ })
			p.cfg.Logger.Warn("orders.out write failed; retrying", "messages", len(batch), "err", err,
				"retry_in", backoff.String())
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, p.cfg.RetryCap)
			continue
		}
		backoff = p.cfg.RetryBase
		if p.cfg.Acked != nil {
			if err := p.cfg.Acked(ctx, batch); err != nil {
				p.count(func(st *PublisherStats) { st.AckErrors++ })
				p.cfg.Logger.Warn("orders.out: recording published orders failed; a restart publishes them again",
					"messages", len(batch), "err", err)
			}
		}
		p.drop(batch)
	}
}

// encode makes the Kafka messages of a batch; key = order id.
func encode(dst []kafkago.Message, batch []Message) []kafkago.Message {
	for i := range batch {
		value, err := json.Marshal(&batch[i])
		if err != nil {
			// Message has only strings, numbers, bools and times.
			panic("orders: encode message: " + err.Error())
		}
		dst = append(dst, kafkago.Message{Key: []byte(batch[i].ID), Value: value, Time: batch[i].At})
	}
	return dst
}

// peek appends up to MaxBatch queued messages, oldest first, to dst,
// leaving them queued until written.
func (p *Publisher) peek(dst []Message) []Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := min(len(p.queue)-p.head, p.cfg.MaxBatch)
	return append(dst, p.queue[p.head:p.head+n]...)
}

// drop removes the written batch from the head of the queue.
func (p *Publisher) drop(batch []Message) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range batch {
		id := batch[i].ID
		if p.queued[id]--; p.queued[id] <= 0 {
			delete(p.queued, id)
		}
		p.queue[p.head+i] = Message{}
	}
	p.head += len(batch)
	p.stats.Published += uint64(len(batch))
	if p.head == len(p.queue) {
		p.queue, p.head = p.queue[:0], 0
	} else if p.head > len(p.queue)/2 {
		n := copy(p.queue, p.queue[p.head:])
		p.queue, p.head = p.queue[:n], 0
	}
}

func (p *Publisher) count(fn func(*PublisherStats)) {
	p.mu.Lock()
	fn(&p.stats)
	p.mu.Unlock()
}

// Stats returns the counters.
func (p *Publisher) Stats() PublisherStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.stats
	st.Queued = len(p.queue) - p.head
	return st
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
