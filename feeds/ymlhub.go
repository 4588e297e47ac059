package feeds

import (
	"errors"
	"fmt"
	"time"

	"stockd/feeds/yml"
)

// ErrNoFeed means the channel serves no YML feed.
var ErrNoFeed = errors.New("feeds: channel has no YML feed")

// ServeYML answers GET /feeds/{channel}.yml: the offers changed since the
// last request are read from the Source (stock of the channel's first
// warehouse entry, channel price), and the feed is served from memory,
// rebuilt only where offers changed. An offer without a base price is not
// listed.
func (h *Hub) ServeYML(channel string, req yml.Request) (yml.Response, error) {
	st, err := h.channel(channel)
	if err != nil {
		return yml.Response{}, err
	}
	if st.ch.YML == nil {
		return yml.Response{}, fmt.Errorf("%w: %q", ErrNoFeed, channel)
	}
	if err := st.syncFeed(); err != nil {
		return yml.Response{}, err
	}
	return st.ch.YML.Serve(req), nil
}

// syncFeed moves the pending offers' current values into the feed. A
// price that changes by more than max_change_pct from the one the feed
// shows waits for approval as a pushed one does (the feed keeps the old
// price, the offer is quarantined until Approve); offers that could not be
// set are marked again.
func (st *chanState) syncFeed() error {
	st.feedMu.Lock()
	defer st.feedMu.Unlock()
	now := st.h.cfg.Now()
	st.mu.Lock()
	pending := st.feed.Take(st.feed.Len(), now)
	st.mu.Unlock()
	if len(pending) == 0 {
		return nil
	}
	if st.feedPrices == nil {
		st.feedPrices = make(map[string]desiredPrice)
	}
	set := make([]yml.Offer, 0, len(pending))
	var remove []string
	var firstErr error
	for _, pd := range pending {
		o, ok := st.ch.Offers.ByStockID(pd.Key)
		if !ok {
			remove = append(remove, pd.Key)
			continue
		}
		qty, err := st.h.cfg.Source.ChannelQty(o.SKU, st.targets[0].view)
		var price desiredPrice
		hasPrice := false
		if err == nil && st.ch.Config.Price != nil {
			price, hasPrice, err = st.desiredPrice(o.SKU)
		}
		if err != nil {
			firstErr = cmpErr(firstErr, err)
			remove = append(remove, pd.Key)
			continue
		}
		if !hasPrice {
			remove = append(remove, pd.Key)
			continue
		}
		price = st.feedPriceFor(o, price, now)
		set = append(set, yml.Offer{ID: o.StockID, Price: int64(price.price), OldPrice: int64(price.old),
			Count: st.stockPolicy.ChannelQty(qty)})
	}
	st.ch.YML.Remove(remove...)
	for _, id := range remove {
		delete(st.feedPrices, id)
	}
	if err := st.ch.YML.Set(set...); err != nil {
		st.mu.Lock()
		for _, o := range set {
			st.markFeedLocked(o.ID, now) // not in the feed: read again next time
		}
		st.mu.Unlock()
		return err
	}
	for _, o := range set {
		st.feedPrices[o.ID] = desiredPrice{price: Money(o.Price), old: Money(o.OldPrice)}
	}
	if firstErr != nil {
		st.mu.Lock()
		st.noteErrLocked(fmt.Errorf("yml: %w", firstErr), now)
		st.mu.Unlock()
	}
	return nil
}

// feedPriceFor is the price the feed shows for o: the desired one, or,
// when it changes by more than max_change_pct from the feed's and is not
// approved, the feed's own, with o quarantined for approval (keyed by its
// price id, as a pushed price is). Called with feedMu held.
func (st *chanState) feedPriceFor(o Offer, want desiredPrice, now time.Time) desiredPrice {
	shown, ok := st.feedPrices[o.StockID]
	pp := st.ch.Config.Price
	if !ok || shown.price == want.price || !pp.NeedsApproval(shown.price, want.price) {
		return want
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.approved[o.PriceID] == want.price {
		return want
	}
	st.quarantineLocked(MethodPrice, o.PriceID, Quarantined{SKU: o.SKU, Offer: o.PriceID, Code: "max_change_pct",
		Reason: "price " + shown.price.String() + " → " + want.price.String() + " changes by more than max_change_pct",
		Price:  want.price, OldPrice: want.old, Acked: shown.price, NeedsApproval: true, Since: now})
	return shown
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}
