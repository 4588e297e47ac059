package exchange

import (
	"bytes"
	"time"

	"github.com/valyala/fasthttp"

	"stockd/adapters/onec/commerceml"
)

// query answers type=sale&mode=query with a CommerceML document of the orders the
// OrderSource has for the account, and remembers their ids for mode=success.
func (h *Handler) query(ctx *fasthttp.RequestCtx, s *session, now time.Time) {
	acct := s.acct
	orders, err := h.orders.Orders(s.ctx, acct.Login, h.cfg.MaxOrdersPerQuery)
	if err != nil {
		reply(ctx, acct.Windows1251, replyFailure, "заказы недоступны: "+oneLine(err.Error()))
		return
	}
	if len(orders) > h.cfg.MaxOrdersPerQuery {
		orders = orders[:h.cfg.MaxOrdersPerQuery]
	}
	opts := commerceml.WriteOptions{
		Encoding:      commerceml.EncodingUTF8,
		SchemaVersion: acct.OrdersSchemaVersion,
		GeneratedAt:   now,
		Container:     acct.OrdersContainer,
		ByteOrderMark: false,
	}
	charset := "utf-8"
	if acct.Windows1251 {
		opts.Encoding, charset = commerceml.EncodingWindows1251, "windows-1251"
	}
	var buf bytes.Buffer
	if err := commerceml.WriteOrders(&buf, orders, opts); err != nil {
		reply(ctx, acct.Windows1251, replyFailure, oneLine(err.Error()))
		return
	}
	ids := make([]string, len(orders))
	for i := range orders {
		ids[i] = orders[i].ID
	}
	s.mu.Lock()
	s.queried = ids
	s.mu.Unlock()
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetContentType("text/xml; charset=" + charset)
	ctx.SetBody(buf.Bytes())
}

// success answers type=sale&mode=success: the orders of the session's last query are
// marked as taken by 1C.
func (h *Handler) success(ctx *fasthttp.RequestCtx, s *session) {
	s.mu.Lock()
	ids := s.queried
	s.queried = nil
	s.mu.Unlock()
	if len(ids) > 0 {
		if err := h.orders.Exported(s.ctx, s.acct.Login, ids); err != nil {
			s.mu.Lock()
			s.queried = ids
			s.mu.Unlock()
			reply(ctx, s.acct.Windows1251, replyFailure, "заказы не отмечены: "+oneLine(err.Error()))
			return
		}
	}
	reply(ctx, s.acct.Windows1251, replySuccess)
}
