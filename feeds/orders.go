package feeds

import (
	"stockd/adapters/marketsim"
	"stockd/feeds/ackstore"
)

// Orders returns the channel's marketplace client as a source of FBS
// orders: the Ozon, Wildberries and Yandex Market clients BuildChannel
// makes poll orders with the same account and limiters they push with. A
// site channel, or a channel built without a client, has none.
func (c Channel) Orders() (marketsim.OrderSource, bool) {
	if c.Config.Kind == KindSite || c.Stock == nil {
		return nil, false
	}
	src, ok := c.Stock.(marketsim.OrderSource)
	return src, ok
}

// Forget drops the acknowledged stock figures of skus on channel and
// marks them to be sent again, whatever the desired figure. The order
// intake calls it after it recorded or released orders of that channel:
// the marketplace changed its own figure when it took or cancelled the
// order (it reserves the units of its orders and may return the units of
// a cancelled one), so what it shows is no longer what was acknowledged,
// and a desired figure equal to the old acknowledgement would otherwise
// never be sent. It returns how many keys were marked.
func (h *Hub) Forget(channel string, skus []string) (int, error) {
	st, err := h.channel(channel)
	if err != nil {
		return 0, err
	}
	if st.ch.Stock == nil {
		return 0, nil
	}
	now := h.cfg.Now()
	var forget []ackstore.Entry
	marked := 0
	st.mu.Lock()
	for _, sku := range skus {
		o, ok := st.ch.Offers.Lookup(sku)
		if !ok {
			continue
		}
		for _, t := range st.targets {
			k := stockKey(o.StockID, t.id)
			if _, known := st.ackStock[k]; known {
				delete(st.ackStock, k)
				forget = append(forget, ackstore.Entry{Key: ackstore.StockKey(st.name, o.StockID, t.id), Deleted: true})
			}
			if st.dirty[MethodStock].Pending(k) {
				continue // keeps its priority; with no acknowledgement it is sent
			}
			if st.markLocked(MethodStock, k, PriorityDecrease, now) {
				marked++
			}
		}
	}
	st.mu.Unlock()
	if marked > 0 {
		notify(st.wake[MethodStock])
	}
	if len(forget) > 0 {
		st.storeAcks(forget)
	}
	return marked, nil
}
