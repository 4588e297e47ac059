package feeds

import (
	"context"
	"errors"
)

// ErrNoSKUs means the hub was given no SKU list (Config.SKUs), so it
// cannot resync a channel whole.
var ErrNoSKUs = errors.New("feeds: no SKU list to resync from")

// ResyncAll is Resync over every SKU of Config.SKUs: the operator's
// "send whatever differs from what the marketplace acknowledged". It
// returns the number of keys marked.
func (h *Hub) ResyncAll(ctx context.Context, channel string) (int, error) {
	if _, err := h.channel(channel); err != nil {
		return 0, err
	}
	if h.cfg.SKUs == nil {
		return 0, ErrNoSKUs
	}
	return h.Resync(ctx, channel, h.cfg.SKUs)
}
