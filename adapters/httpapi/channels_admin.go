package httpapi

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/valyala/fasthttp"

	"stockd/feeds"
)

// ChannelAdmin is the operator side of the propagation hub; *feeds.Hub
// implements it. When Options.Feeds implements it too, the server
// answers the admin routes (scope admin):
//
//	POST /v1/channels/{channel}/prices/{offer}:approve   Approve
//	POST /v1/channels/{channel}/quarantine:release       Release, body ReleaseBody
//	POST /v1/channels/{channel}:resync                   ResyncAll
//	POST /v1/channels/{channel}:reconcile                StartReconcile (202, runs in the hub)
type ChannelAdmin interface {
	Approve(channel, offer string) error
	Release(channel string, m feeds.Method, offer, warehouse string) error
	ResyncAll(ctx context.Context, channel string) (int, error)
	StartReconcile(channel string) error
}

var _ ChannelAdmin = (*feeds.Hub)(nil)

// MaxOfferBytes bounds a marketplace offer key in a path or body (Yandex
// Market allows 255 characters).
const MaxOfferBytes = 1024

// ReleaseBody is the body of POST /v1/channels/{channel}/quarantine:release:
// the quarantined key to send once more. Warehouse names the marketplace
// warehouse of a stock key (empty for a price, and for Yandex Market's
// campaign stock).
type ReleaseBody struct {
	Method    string `json:"method"` // stock or price
	Offer     string `json:"offer"`
	Warehouse string `json:"warehouse"`
}

// ChannelActionReply answers an admin action on a channel.
type ChannelActionReply struct {
	Channel   string `json:"channel"`
	Action    string `json:"action"` // approve, release, resync or reconcile
	Method    string `json:"method,omitempty"`
	Offer     string `json:"offer,omitempty"`
	Warehouse string `json:"warehouse,omitempty"`
	// Marked is, for resync, the keys found to differ from what the
	// marketplace acknowledged and queued to send.
	Marked int `json:"marked"`
}

// channelAction is a parsed admin path.
type channelAction struct {
	channel, action, offer string
}

// isChannelAction reports whether the request's path ends in an action
// (":approve", ":release", ":resync", ":reconcile"); channel names never
// hold a colon.
func isChannelAction(ctx *fasthttp.RequestCtx) bool {
	raw := string(ctx.Request.URI().PathOriginal())
	return strings.HasPrefix(raw, "/v1/channels/") && strings.Contains(raw[strings.LastIndexByte(raw, '/'):], ":")
}

// parseChannelAction reads the admin path from the raw (still
// percent-encoded) path, so an offer holding "/" ("КР-7/2" as
// "%D0%9A%D0%A0-7%2F2") stays one segment.
func parseChannelAction(raw string) (channelAction, bool) {
	tail, ok := strings.CutPrefix(raw, "/v1/channels/")
	if !ok {
		return channelAction{}, false
	}
	segs := strings.Split(tail, "/")
	last := segs[len(segs)-1]
	i := strings.LastIndexByte(last, ':')
	if i < 0 {
		return channelAction{}, false
	}
	base, action := last[:i], last[i+1:]
	var a channelAction
	var err error
	switch {
	case len(segs) == 1 && (action == "resync" || action == "reconcile"):
		a.channel, err = url.PathUnescape(base)
	case len(segs) == 2 && segs[1] == "quarantine:release":
		a.channel, err = url.PathUnescape(segs[0])
	case len(segs) == 3 && segs[1] == "prices" && action == "approve":
		if a.channel, err = url.PathUnescape(segs[0]); err == nil {
			a.offer, err = url.PathUnescape(base)
		}
		if a.offer == "" || len(a.offer) > MaxOfferBytes {
			return channelAction{}, false
		}
	default:
		return channelAction{}, false
	}
	if err != nil || a.channel == "" {
		return channelAction{}, false
	}
	a.action = action
	return a, true
}

// routeChannelAction answers the admin routes of ChannelAdmin.
func (s *Server) routeChannelAction(ctx *fasthttp.RequestCtx, method string) {
	path := string(ctx.Path())
	a, ok := parseChannelAction(string(ctx.Request.URI().PathOriginal()))
	admin, isAdmin := s.feeds.(ChannelAdmin)
	if !ok || s.feeds == nil || !isAdmin {
		s.notFound(ctx, method, path)
		return
	}
	if !s.allow(ctx, method, fasthttp.MethodPost, ScopeAdmin) {
		return
	}
	reply := ChannelActionReply{Channel: a.channel, Action: a.action}
	status := fasthttp.StatusOK
	var err error
	switch a.action {
	case "approve":
		reply.Method, reply.Offer = feeds.MethodPrice.String(), a.offer
		err = admin.Approve(a.channel, a.offer)
	case "release":
		var body ReleaseBody
		var m feeds.Method
		if body, m, err = decodeRelease(ctx.PostBody()); err != nil {
			s.writeDecodeError(ctx, err)
			return
		}
		reply.Method, reply.Offer, reply.Warehouse = body.Method, body.Offer, body.Warehouse
		err = admin.Release(a.channel, m, body.Offer, body.Warehouse)
	case "resync":
		reply.Marked, err = admin.ResyncAll(ctx, a.channel)
	case "reconcile":
		status = fasthttp.StatusAccepted
		err = admin.StartReconcile(a.channel)
	}
	if err != nil {
		s.writeChannelError(ctx, err)
		return
	}
	writeJSON(ctx, status, reply)
}

// decodeRelease decodes and checks a release body.
func decodeRelease(body []byte) (ReleaseBody, feeds.Method, error) {
	var rb ReleaseBody
	if err := decodeExact(body, &rb, "method", "offer", "warehouse"); err != nil {
		return ReleaseBody{}, 0, err
	}
	var m feeds.Method
	switch rb.Method {
	case "stock":
		m = feeds.MethodStock
	case "price":
		m = feeds.MethodPrice
		if rb.Warehouse != "" {
			return ReleaseBody{}, 0, &fieldError{"warehouse", "a price has no warehouse: leave it empty"}
		}
	default:
		return ReleaseBody{}, 0, &fieldError{"method", `must be "stock" or "price"`}
	}
	if rb.Offer == "" || len(rb.Offer) > MaxOfferBytes {
		return ReleaseBody{}, 0, &fieldError{"offer", "the marketplace offer key is required (at most MaxOfferBytes)"}
	}
	if len(rb.Warehouse) > MaxOfferBytes {
		return ReleaseBody{}, 0, &fieldError{"warehouse", "too long"}
	}
	return rb, m, nil
}

// writeChannelError maps the hub's errors to statuses and codes.
func (s *Server) writeChannelError(ctx *fasthttp.RequestCtx, err error) {
	switch {
	case errors.Is(err, feeds.ErrUnknownChannel):
		writeError(ctx, fasthttp.StatusNotFound, "channel_not_found", "no marketplace channel has this name", nil)
	case errors.Is(err, feeds.ErrNotQuarantined):
		writeError(ctx, fasthttp.StatusNotFound, "not_quarantined", err.Error(), nil)
	case errors.Is(err, feeds.ErrNoReadBack):
		writeError(ctx, fasthttp.StatusConflict, "reconcile_unsupported",
			"this channel's marketplace API cannot read stock back", nil)
	case errors.Is(err, feeds.ErrPushDisabled):
		writeError(ctx, fasthttp.StatusConflict, "push_disabled", "the channel's push is disabled in the configuration", nil)
	case errors.Is(err, feeds.ErrReconcileRunning):
		writeError(ctx, fasthttp.StatusConflict, "reconcile_running",
			"a reconcile of this channel is running or requested; see GET /v1/channels/{channel}", nil)
	case errors.Is(err, feeds.ErrNoSKUs), errors.Is(err, feeds.ErrClosed),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		ctx.Response.Header.Set("Retry-After", "5")
		writeError(ctx, fasthttp.StatusServiceUnavailable, "channels_unavailable", err.Error(), nil)
	default:
		s.writeBackendError(ctx, err)
	}
}
