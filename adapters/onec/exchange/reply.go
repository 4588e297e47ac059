package exchange

import (
	"strings"

	"github.com/valyala/fasthttp"
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

// toWindows1251 encodes s in windows-1251, each character it lacks as '?'
// (x/text's replacement would be the control byte 0x1A).
func toWindows1251(s string) []byte {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		b, ok := charmap.Windows1251.EncodeRune(r)
		if !ok {
			b = '?'
		}
		out = append(out, b)
	}
	return out
}

// reply writes a plain-text protocol reply: lines joined by "\n", in windows-1251 when
// cp1251 is set (characters it lacks become '?').
func reply(ctx *fasthttp.RequestCtx, cp1251 bool, lines ...string) {
	body := strings.Join(lines, "\n")
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.Response.Header.Set("Cache-Control", "no-store")
	if cp1251 {
		ctx.SetContentType("text/plain; charset=windows-1251")
		ctx.SetBody(toWindows1251(body))
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
