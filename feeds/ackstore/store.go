package ackstore

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Kind says what an entry acknowledges.
type Kind uint8

// The kinds.
const (
	KindStock Kind = 1
	KindPrice Kind = 2
)

func (k Kind) String() string {
	switch k {
	case KindStock:
		return "stock"
	case KindPrice:
		return "price"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Limits on keys.
const (
	// MaxFieldBytes bounds the channel, offer and warehouse of a key.
	MaxFieldBytes = 512
	// MaxPutEntries bounds one Put.
	MaxPutEntries = 1 << 16
)

// Errors.
var (
	// ErrInvalid means an entry outside the limits.
	ErrInvalid = errors.New("ackstore: invalid entry")
	// ErrFull means the store holds MaxEntries keys already.
	ErrFull = errors.New("ackstore: full")
	// ErrClosed means the store was closed.
	ErrClosed = errors.New("ackstore: closed")
)

// Key names one acknowledged value.
type Key struct {
	Kind      Kind
	Channel   string
	Offer     string // the marketplace's offer key (offer_id, chrtId, nmID, sku)
	Warehouse string // marketplace warehouse; empty for prices
}

// StockKey is the key of a stock figure.
func StockKey(channel, offer, warehouse string) Key {
	return Key{Kind: KindStock, Channel: channel, Offer: offer, Warehouse: warehouse}
}

// PriceKey is the key of a price.
func PriceKey(channel, offer string) Key {
	return Key{Kind: KindPrice, Channel: channel, Offer: offer}
}

// Value is what the marketplace acknowledged.
type Value struct {
	Qty      int64     // stock
	Price    int64     // kopecks
	OldPrice int64     // kopecks; 0: none
	At       time.Time // when it was acknowledged
}

// Entry is one key and its value; Deleted forgets the key (the
// marketplace may no longer hold the value, so it must be sent again).
type Entry struct {
	Key
	Value
	Deleted bool
}

// Validate checks the limits.
func (e Entry) Validate() error {
	switch {
	case e.Kind != KindStock && e.Kind != KindPrice:
		return fmt.Errorf("%w: kind %d", ErrInvalid, e.Kind)
	case e.Channel == "" || len(e.Channel) > MaxFieldBytes:
		return fmt.Errorf("%w: channel %q", ErrInvalid, e.Channel)
	case e.Offer == "" || len(e.Offer) > MaxFieldBytes:
		return fmt.Errorf("%w: offer %q", ErrInvalid, e.Offer)
	case len(e.Warehouse) > MaxFieldBytes:
		return fmt.Errorf("%w: warehouse of %d bytes", ErrInvalid, len(e.Warehouse))
	case e.Kind == KindPrice && e.Warehouse != "":
		return fmt.Errorf("%w: a price has no warehouse", ErrInvalid)
	case !e.Deleted && (e.Qty < 0 || e.Price < 0 || e.OldPrice < 0):
		return fmt.Errorf("%w: negative value", ErrInvalid)
	}
	return nil
}

// Store keeps acknowledged values durably. Implementations are safe for
// concurrent use.
type Store interface {
	// Load calls fn for every live entry of channel, in no set order.
	Load(ctx context.Context, channel string, fn func(Entry) error) error
	// Put records entries (a Deleted one forgets its key); it returns
	// once they are durable. Later entries of one call win over earlier
	// ones of the same key.
	Put(ctx context.Context, entries []Entry) error
	// Close releases the store.
	Close() error
}

func checkBatch(entries []Entry) error {
	if len(entries) > MaxPutEntries {
		return fmt.Errorf("%w: %d entries in one Put, at most %d", ErrInvalid, len(entries), MaxPutEntries)
	}
	for _, e := range entries {
		if err := e.Validate(); err != nil {
			return err
		}
	}
	return nil
}
