package exchange

import (
	"context"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"stockd/adapters/onec/cmlevents"
)

func FuzzSanitisePath(f *testing.F) {
	for _, s := range []string{"import.xml", "import_files/ab/abc.jpg", `C:\v8_8789_c.xml`, "../x", "/etc/passwd",
		`C:\..\x`, "a//b", ".", "..", "a/./b", "C:", "C:..", `\\server\share\x.xml`, "v8_3B8F_3e.zip", "a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q"} {
		f.Add(s)
	}
	root := filepath.FromSlash("/srv/exchange/sess-1")
	f.Fuzz(func(t *testing.T, name string) {
		got, err := SanitisePath(name)
		if err != nil {
			return
		}
		if got == "" || strings.HasPrefix(got, "/") || len(got) > MaxPathBytes {
			t.Fatalf("SanitisePath(%q) = %q", name, got)
		}
		for _, seg := range strings.Split(got, "/") {
			if seg == "" || seg[0] == '.' {
				t.Fatalf("SanitisePath(%q) = %q: segment %q", name, got, seg)
			}
		}
		for i := 0; i < len(got); i++ {
			c := got[i]
			if !(isLetter(c) || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == '/') {
				t.Fatalf("SanitisePath(%q) = %q: byte %q", name, got, c)
			}
		}
		rel, err := filepath.Rel(root, filepath.Join(root, filepath.FromSlash(got)))
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || rel == "." {
			t.Fatalf("SanitisePath(%q) = %q escapes: %q", name, got, rel)
		}
		again, err := SanitisePath(got)
		if err != nil || again != got {
			t.Fatalf("SanitisePath not idempotent on %q: %q, %v", got, again, err)
		}
	})
}

// FuzzHandleParams sends arbitrary query parameters, cookies and bodies to the handler
// (with a valid session half the time): every reply starts with a protocol line and no
// file lands outside the session directories.
func FuzzHandleParams(f *testing.F) {
	f.Add("catalog", "file", "../../x.xml", "", []byte("x"), true)
	f.Add("catalog", "import", "offers.xml", "", []byte(nil), true)
	f.Add("sale", "query", "", "abc", []byte(nil), false)
	f.Add("catalog", "checkauth", "", "", []byte(nil), false)
	f.Add("catalog", "file", "import_files/a/b.jpg", "", []byte("jpeg"), true)
	f.Add("catalog", "init", "", "", []byte(nil), true)
	f.Add("x", "complete", "%00", "", []byte(nil), true)

	base := f.TempDir()
	work := filepath.Join(base, "work")
	h, err := New(Options{Config: testConfig(work), Sink: &recorder{}, Store: cmlevents.NewMemoryStore(0, 1000)})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = h.Close(context.Background()) })
	var reqCtx fasthttp.RequestCtx
	serve := func(uri, cookie, auth string, body []byte) string {
		var req fasthttp.Request
		req.SetRequestURI(uri)
		if body != nil {
			req.Header.SetMethod(fasthttp.MethodPost)
			req.SetBody(body)
		}
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		reqCtx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, nil)
		h.Handle(&reqCtx)
		return string(reqCtx.Response.Body())
	}
	login := serve("/1c/exchange?type=catalog&mode=checkauth", "", basic(testLogin, testPassword), nil)
	lines := strings.Split(login, "\n")
	if lines[0] != "success" {
		f.Fatalf("checkauth: %q", login)
	}
	cookie := lines[1] + "=" + lines[2]

	f.Fuzz(func(t *testing.T, typ, mode, filename, sessid string, body []byte, withSession bool) {
		q := url.Values{"type": {typ}, "mode": {mode}, "filename": {filename}}
		if sessid != "" {
			q.Set("sessid", sessid)
		}
		c := ""
		if withSession {
			c = cookie
		}
		got := serve("/1c/exchange?"+q.Encode(), c, "", body)
		first, _, _ := strings.Cut(got, "\n")
		switch {
		case first == "success", first == "progress", first == "failure",
			first == "zip=yes", strings.HasPrefix(first, "<?xml"):
		default:
			t.Fatalf("type=%q mode=%q filename=%q: first line %q", typ, mode, filename, first)
		}
		entries, err := os.ReadDir(base)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Name() != "work" {
				t.Fatalf("a file escaped the work dir: %s", e.Name())
			}
		}
		wentries, _ := os.ReadDir(work)
		for _, e := range wentries {
			if !strings.HasPrefix(e.Name(), sessionDirPrefix) {
				t.Fatalf("a file escaped the session dirs: %s", e.Name())
			}
		}
	})
}
