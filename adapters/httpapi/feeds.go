package httpapi

import (
	"errors"
	"strings"

	"github.com/valyala/fasthttp"

	"stockd/feeds"
	"stockd/feeds/yml"
)

// FeedHub is the part of the propagation side the HTTP layer serves.
type FeedHub interface {
	ServeYML(channel string, req yml.Request) (yml.Response, error)
	Stats(channel string) (feeds.Stats, error)
	Quarantined(channel string) ([]feeds.Quarantined, error)
	Channels() []string
}

// serveFeed answers GET /feeds/{channel}.yml: the channel's YML feed for
// Yandex Market's pull, with ETag (304 on If-None-Match) and gzip. Feeds
// are public, as the marketplace fetches them without a key; only
// channels with a feed configured answer.
func (s *Server) serveFeed(ctx *fasthttp.RequestCtx, method, path string) {
	name, ok := strings.CutSuffix(strings.TrimPrefix(path, "/feeds/"), ".yml")
	if !ok || name == "" || strings.Contains(name, "/") || s.feeds == nil {
		s.notFound(ctx, method, path)
		return
	}
	if method != fasthttp.MethodGet && method != fasthttp.MethodHead {
		ctx.Response.Header.Set("Allow", "GET, HEAD")
		writeError(ctx, fasthttp.StatusMethodNotAllowed, "method_not_allowed", "use GET for this path", nil)
		return
	}
	resp, err := s.feeds.ServeYML(name, yml.Request{
		IfNoneMatch: string(ctx.Request.Header.Peek("If-None-Match")),
		AcceptGzip:  strings.Contains(string(ctx.Request.Header.Peek("Accept-Encoding")), "gzip"),
	})
	if err != nil {
		if errors.Is(err, feeds.ErrUnknownChannel) || errors.Is(err, feeds.ErrNoFeed) {
			writeError(ctx, fasthttp.StatusNotFound, "feed_not_found", "no YML feed is configured for this channel", nil)
			return
		}
		s.writeBackendError(ctx, err)
		return
	}
	h := &ctx.Response.Header
	for k, v := range map[string]string{"ETag": resp.ETag, "Content-Encoding": resp.ContentEncoding,
		"Vary": resp.Vary, "Last-Modified": resp.LastModified} {
		if v != "" {
			h.Set(k, v)
		}
	}
	ctx.SetStatusCode(resp.Status)
	if resp.Status == fasthttp.StatusNotModified {
		return
	}
	ctx.SetContentType(resp.ContentType)
	ctx.SetBody(resp.Body) // copied into the response: the feed's buffer stays shared
}

// ChannelReply is GET /v1/channels/{channel}: propagation state.
type ChannelReply struct {
	Stats       feeds.Stats         `json:"stats"`
	Quarantined []feeds.Quarantined `json:"quarantined"`
}

// ChannelsReply is GET /v1/channels.
type ChannelsReply struct {
	Channels []feeds.Stats `json:"channels"`
}

func (s *Server) routeChannels(ctx *fasthttp.RequestCtx, method, path string) {
	if s.feeds == nil {
		s.notFound(ctx, method, path)
		return
	}
	if !s.allow(ctx, method, fasthttp.MethodGet, ScopeRead) {
		return
	}
	if path == "/v1/channels" {
		reply := ChannelsReply{Channels: []feeds.Stats{}}
		for _, name := range s.feeds.Channels() {
			st, err := s.feeds.Stats(name)
			if err != nil {
				s.writeBackendError(ctx, err)
				return
			}
			reply.Channels = append(reply.Channels, st)
		}
		writeJSON(ctx, fasthttp.StatusOK, reply)
		return
	}
	name, rest, ok := rawPathParam(ctx, path, "/v1/channels/")
	if !ok || rest != "" {
		s.notFound(ctx, method, path)
		return
	}
	st, err := s.feeds.Stats(name)
	if errors.Is(err, feeds.ErrUnknownChannel) {
		writeError(ctx, fasthttp.StatusNotFound, "channel_not_found", "no marketplace channel has this name", nil)
		return
	}
	if err != nil {
		s.writeBackendError(ctx, err)
		return
	}
	q, err := s.feeds.Quarantined(name)
	if err != nil {
		s.writeBackendError(ctx, err)
		return
	}
	if q == nil {
		q = []feeds.Quarantined{}
	}
	writeJSON(ctx, fasthttp.StatusOK, ChannelReply{Stats: st, Quarantined: q})
}
