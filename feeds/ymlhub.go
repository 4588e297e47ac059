package feeds

import (
	"errors"
	"fmt"

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

// syncFeed moves the pending offers' current values into the feed.
func (st *chanState) syncFeed() error {
	now := st.h.cfg.Now()
	st.mu.Lock()
	pending := st.feed.Take(st.feed.Len(), now)
	st.mu.Unlock()
	if len(pending) == 0 {
		return nil
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
		set = append(set, yml.Offer{ID: o.StockID, Price: int64(price.price), OldPrice: int64(price.old),
			Count: st.stockPolicy.ChannelQty(qty)})
	}
	st.ch.YML.Remove(remove...)
	if err := st.ch.YML.Set(set...); err != nil {
		return err
	}
	if firstErr != nil {
		st.mu.Lock()
		st.noteErrLocked(fmt.Errorf("yml: %w", firstErr), now)
		st.mu.Unlock()
	}
	return nil
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}
