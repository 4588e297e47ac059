package exchange

import (
	"strings"

	"github.com/valyala/fasthttp"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
)

// The first line of every reply is one of these; 1C treats anything else as an error.
const (
	replySuccess  = "success"
	replyProgress = "progress"
	replyFailure  = "failure"
)

// MaxReplyTextBytes bounds the description line of a failure or progress reply.
const MaxReplyTextBytes = 1000

// reply writes a plain-text protocol reply: lines joined by "\n", in windows-1251 when
// cp1251 is set (characters it lacks become '?').
func reply(ctx *fasthttp.RequestCtx, cp1251 bool, lines ...string) {
	body := strings.Join(lines, "\n")
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.Response.Header.Set("Cache-Control", "no-store")
	if cp1251 {
		ctx.SetContentType("text/plain; charset=windows-1251")
		enc := encoding.ReplaceUnsupported(charmap.Windows1251.NewEncoder())
		out, err := enc.String(body)
		if err != nil {
			out = body // unreachable with ReplaceUnsupported; keep the reply readable
		}
		ctx.SetBodyString(out)
		return
	}
	ctx.SetContentType("text/plain; charset=utf-8")
	ctx.SetBodyString(body)
}

// oneLine makes an error text fit a reply line: no line breaks, at most
// MaxReplyTextBytes, cut at a character boundary.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
	if len(s) <= MaxReplyTextBytes {
		return s
	}
	cut := MaxReplyTextBytes
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut]
}
