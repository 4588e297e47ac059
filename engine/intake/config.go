package intake

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"stockd/adapters/marketsim"
	"stockd/feeds"
	"stockd/reservation"
)

// Defaults and limits. Each poll costs, at the defaults: Ozon one
// /v4/posting/fbs/unfulfilled/list page per 100 awaiting postings plus
// one /v3/posting/fbs/get per looked-up posting, within the global
// 50 requests/s of the Client-Id; Wildberries one GET /api/v3/orders/new
// plus one POST /api/v3/orders/status per 1000 looked-up tasks, within
// 300 requests/min; Yandex Market one order-list page per 50 orders,
// within 100,000 requests/h. The clients pace themselves with the same
// limiters they push stock with.
const (
	// DefaultOzonPollInterval is how often Ozon postings are polled.
	DefaultOzonPollInterval = 15 * time.Second
	// DefaultWildberriesPollInterval is how often WB assembly tasks are polled.
	DefaultWildberriesPollInterval = 15 * time.Second
	// DefaultYandexMarketPollInterval is how often YM orders are polled
	// (a page is 50 orders, so a busy campaign costs more per poll).
	DefaultYandexMarketPollInterval = 30 * time.Second
	// MinPollInterval is the shortest poll interval accepted.
	MinPollInterval = time.Second
	// MaxPollInterval is the longest poll interval accepted.
	MaxPollInterval = time.Hour

	// DefaultOzonStatusPerPoll bounds Ozon lookups a poll (one request each).
	DefaultOzonStatusPerPoll = 100
	// DefaultStatusPerPoll bounds WB and YM lookups a poll (batched).
	DefaultStatusPerPoll = 1000
	// MaxStatusPerPoll is the largest MaxStatusPerPoll accepted.
	MaxStatusPerPoll = 10000

	// DefaultMaxOpenOrders bounds the orders one poller tracks. Past it an
	// order is still recorded as a hold, but not followed for
	// cancellation until there is room (it is seen again on every poll).
	DefaultMaxOpenOrders = 200_000
	// MaxRefusedRemembered bounds the order ids whose refusal was logged,
	// so an order the ledger refuses is logged once, not every poll.
	MaxRefusedRemembered = 10_000
	// holdIDSeparator joins the marketplace kind and the order id.
	holdIDSeparator = ":"
)

// Errors of the package.
var (
	// ErrInvalidConfig: the configuration cannot work.
	ErrInvalidConfig = errors.New("intake: invalid config")
	// ErrUnknownChannel: no poller has that channel.
	ErrUnknownChannel = errors.New("intake: unknown channel")
)

// Ledger is what the intake needs from the reservation ledger. Every
// method returns once its change is durable (journaled).
type Ledger interface {
	// RecordOrder records a marketplace order that was already sold: a
	// confirmed hold of lines on channel, made whatever the stock (a SKU
	// without enough becomes short), with no expiry. It is idempotent by
	// id: recording the same order again returns the existing hold and
	// created false.
	RecordOrder(ctx context.Context, id, channel string, lines []reservation.Line) (hold reservation.Hold, created bool, err error)
	// Release frees a hold (idempotent); a handed-off hold gives
	// reservation.ErrHoldHandedOff.
	Release(ctx context.Context, id string) (reservation.Hold, error)
	// Hold returns a hold or reservation.ErrHoldNotFound.
	Hold(ctx context.Context, id string) (reservation.Hold, error)
	// OpenHolds returns the ids of up to max active (held or confirmed)
	// holds of channel whose id starts with prefix.
	OpenHolds(ctx context.Context, channel, prefix string, max int) ([]string, error)
}

// Channel is one marketplace channel to poll.
type Channel struct {
	// Name is the ledger channel the holds are made on.
	Name string
	// Kind is the marketplace; it prefixes hold ids.
	Kind feeds.Kind
	// Orders polls the marketplace account.
	Orders marketsim.OrderSource
	// Offers maps the marketplace's offer ids back to 1C SKUs.
	Offers *feeds.Mapping
	// PollInterval: 0 is the kind's default.
	PollInterval time.Duration
	// MaxStatusPerPoll bounds the orders looked up a poll; 0 is the
	// kind's default.
	MaxStatusPerPoll int
	// MaxOpenOrders bounds the orders tracked; 0 is DefaultMaxOpenOrders.
	MaxOpenOrders int
}

// Config configures an Intake.
type Config struct {
	Channels []Channel
	Ledger   Ledger
	// Now is the clock of the stats; nil: time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// OnCancelled, if set, is called after a cancelled order's hold was
	// released, or found handed off to 1C already (handedOff true: 1C
	// carries the order and must cancel it itself). It must not block.
	OnCancelled func(hold reservation.Hold, handedOff bool)
	// Touched, if set, is called after a poll that recorded or released
	// orders, with the channel and the SKUs of those orders: the
	// marketplace changed its own figures for them (it reserved the units
	// of its orders, and may have returned those of cancelled ones), so
	// the engine passes them to feeds.Hub.Forget. It must not block long.
	Touched func(channel string, skus []string)
}

// FromFeeds makes a Channel of every marketplace channel of chs whose
// client polls orders; intervals overrides PollInterval by channel name.
func FromFeeds(chs []feeds.Channel, intervals map[string]time.Duration) []Channel {
	var out []Channel
	for _, ch := range chs {
		src, ok := ch.Orders()
		if !ok {
			continue
		}
		out = append(out, Channel{Name: ch.Config.Name, Kind: ch.Config.Kind, Orders: src, Offers: ch.Offers,
			PollInterval: intervals[ch.Config.Name]})
	}
	return out
}

// HoldID is the hold id of a marketplace order.
func HoldID(kind feeds.Kind, orderID string) string {
	return string(kind) + holdIDSeparator + orderID
}

func (c *Channel) withDefaults() error {
	switch c.Kind {
	case feeds.KindOzon:
		c.PollInterval = orDefault(c.PollInterval, DefaultOzonPollInterval)
		c.MaxStatusPerPoll = orDefault(c.MaxStatusPerPoll, DefaultOzonStatusPerPoll)
	case feeds.KindWildberries:
		c.PollInterval = orDefault(c.PollInterval, DefaultWildberriesPollInterval)
		c.MaxStatusPerPoll = orDefault(c.MaxStatusPerPoll, DefaultStatusPerPoll)
	case feeds.KindYandexMarket:
		c.PollInterval = orDefault(c.PollInterval, DefaultYandexMarketPollInterval)
		c.MaxStatusPerPoll = orDefault(c.MaxStatusPerPoll, DefaultStatusPerPoll)
	default:
		return fmt.Errorf("%w: channel %q: kind %q has no orders to poll", ErrInvalidConfig, c.Name, c.Kind)
	}
	c.MaxOpenOrders = orDefault(c.MaxOpenOrders, DefaultMaxOpenOrders)
	switch {
	case c.Name == "":
		return fmt.Errorf("%w: a channel has no name", ErrInvalidConfig)
	case c.Orders == nil || c.Offers == nil:
		return fmt.Errorf("%w: channel %q: Orders and Offers are required", ErrInvalidConfig, c.Name)
	case c.PollInterval < MinPollInterval || c.PollInterval > MaxPollInterval:
		return fmt.Errorf("%w: channel %q: poll interval %v outside %v..%v", ErrInvalidConfig, c.Name,
			c.PollInterval, MinPollInterval, MaxPollInterval)
	case c.MaxStatusPerPoll < 1 || c.MaxStatusPerPoll > MaxStatusPerPoll:
		return fmt.Errorf("%w: channel %q: MaxStatusPerPoll %d outside 1..%d", ErrInvalidConfig, c.Name,
			c.MaxStatusPerPoll, MaxStatusPerPoll)
	case c.MaxOpenOrders < 1:
		return fmt.Errorf("%w: channel %q: MaxOpenOrders %d < 1", ErrInvalidConfig, c.Name, c.MaxOpenOrders)
	}
	return nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
