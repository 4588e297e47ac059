package exchange

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"stockd/adapters/onec/cmlevents"
	"stockd/reservation"
)

const (
	testLogin    = "1c-exchange"
	testPassword = "s3cret-пароль"
)

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// recorder is a Sink that keeps every message; gate, when set, blocks Publish until closed.
type recorder struct {
	mu   sync.Mutex
	msgs []cmlevents.Message
	gate chan struct{}
}

func (r *recorder) Publish(ctx context.Context, msgs []cmlevents.Message) error {
	if r.gate != nil {
		select {
		case <-r.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range msgs {
		r.msgs = append(r.msgs, cmlevents.Message{Key: bytes.Clone(m.Key), Value: bytes.Clone(m.Value)})
	}
	return nil
}

// events decodes every message; each must pass reservation.DecodeEvent.
func (r *recorder) events(tb testing.TB) []reservation.Event {
	tb.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]reservation.Event, 0, len(r.msgs))
	for _, m := range r.msgs {
		ev, err := reservation.DecodeEvent(m.Value)
		if err != nil {
			tb.Fatalf("DecodeEvent(%s): %v", m.Value, err)
		}
		out = append(out, ev)
	}
	return out
}

func countType(evs []reservation.Event, t reservation.EventType) int {
	n := 0
	for _, ev := range evs {
		if ev.Type == t {
			n++
		}
	}
	return n
}

// harness is a Handler behind a real fasthttp server on 127.0.0.1.
type harness struct {
	h       *Handler
	base    string // http://127.0.0.1:port
	clock   *clock
	sink    *recorder
	store   *cmlevents.MemoryStore
	workDir string
	client  *http.Client
}

func testConfig(workDir string) Config {
	cfg := DefaultConfig(workDir)
	events := cmlevents.DefaultConfig("ut11-test")
	events.PriceTypes["aef2c177-1862-11de-9d9d-001a4d4b12d9"] = "retail"
	cfg.Accounts = []Account{{Login: testLogin, PasswordHash: HashPasswordSHA256(testPassword), Events: events}}
	return cfg
}

func newHarness(tb testing.TB, mutate func(*Config), orders OrderSource, sink *recorder) *harness {
	tb.Helper()
	if sink == nil {
		sink = &recorder{}
	}
	hs := &harness{
		clock:   &clock{now: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)},
		sink:    sink,
		store:   cmlevents.NewMemoryStore(0, 1_000_000),
		workDir: filepath.Join(tb.TempDir(), "exchange"),
		client:  &http.Client{Timeout: 10 * time.Second},
	}
	cfg := testConfig(hs.workDir)
	if mutate != nil {
		mutate(&cfg)
	}
	h, err := New(Options{Config: cfg, Sink: hs.sink, Store: hs.store, Orders: orders, Now: hs.clock.Now})
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	hs.h = h
	srv := &fasthttp.Server{
		Handler: func(ctx *fasthttp.RequestCtx) {
			switch string(ctx.Path()) {
			case "/1c/exchange", "/bitrix/admin/1c_exchange.php":
				h.Handle(ctx)
			default:
				ctx.SetStatusCode(fasthttp.StatusNotFound)
			}
		},
		ReadTimeout:        10 * time.Second,
		WriteTimeout:       10 * time.Second,
		IdleTimeout:        10 * time.Second,
		MaxRequestBodySize: 8 << 20,
		Concurrency:        64,
		CloseOnShutdown:    true,
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	hs.base = "http://" + ln.Addr().String()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if sink.gate != nil {
			select {
			case <-sink.gate:
			default:
				close(sink.gate)
			}
		}
		_ = srv.ShutdownWithContext(ctx)
		<-done
		if err := h.Close(ctx); err != nil {
			tb.Errorf("Close: %v", err)
		}
		hs.client.CloseIdleConnections()
	})
	return hs
}

// reply is one protocol reply.
type reply1C struct {
	status int
	header http.Header
	body   []byte
}

func (r reply1C) lines() []string { return strings.Split(string(r.body), "\n") }
func (r reply1C) first() string   { return r.lines()[0] }

// do sends one request as 1C does: query parameters, the session cookie, an optional body.
func (hs *harness) do(tb testing.TB, path string, params url.Values, cookie string, body []byte, header map[string]string) reply1C {
	tb.Helper()
	method := http.MethodGet
	var rd io.Reader
	if body != nil {
		method, rd = http.MethodPost, bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, hs.base+path+"?"+params.Encode(), rd)
	if err != nil {
		tb.Fatal(err)
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := hs.client.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, params.Encode(), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return reply1C{status: resp.StatusCode, header: resp.Header, body: data}
}

func basic(login, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(login+":"+password))
}

func params(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// checkauth logs in and returns the Cookie header value 1C would send next.
func (hs *harness) checkauth(tb testing.TB, typ string) (cookie, token string) {
	tb.Helper()
	r := hs.do(tb, "/1c/exchange", params("type", typ, "mode", "checkauth"), "", nil,
		map[string]string{"Authorization": basic(testLogin, testPassword)})
	lines := r.lines()
	if len(lines) != 5 || lines[0] != "success" || lines[1] != DefaultCookieName || lines[3] != "sessid="+lines[2] {
		tb.Fatalf("checkauth: %d %q", r.status, r.body)
	}
	return lines[1] + "=" + lines[2], lines[2]
}

// importUntilDone repeats mode=import like 1C until the reply is not progress; the
// number of requests is bounded.
func (hs *harness) importUntilDone(tb testing.TB, typ, cookie, filename string) (reply1C, int) {
	tb.Helper()
	for i := 1; i <= 2000; i++ {
		r := hs.do(tb, "/1c/exchange", params("type", typ, "mode", "import", "filename", filename), cookie, nil, nil)
		switch r.first() {
		case "progress":
			time.Sleep(5 * time.Millisecond)
			continue
		case "success", "failure":
			return r, i
		}
		tb.Fatalf("import reply first line %q", r.first())
	}
	tb.Fatalf("import of %s still in progress", filename)
	return reply1C{}, 0
}

// sessionDirs lists the session directories in the work dir.
func (hs *harness) sessionDirs(tb testing.TB) []string {
	tb.Helper()
	entries, err := os.ReadDir(hs.workDir)
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, filepath.Join(hs.workDir, e.Name()))
	}
	return out
}

// makeZip builds an archive of name→content, in order.
func makeZip(tb testing.TB, files ...[2]string) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.Create(f[0])
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write([]byte(f[1])); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// chunks splits data into n pieces of at most ceil(len/n) bytes.
func chunks(data []byte, n int) [][]byte {
	size := (len(data) + n - 1) / n
	var out [][]byte
	for len(data) > 0 {
		k := min(size, len(data))
		out = append(out, data[:k])
		data = data[k:]
	}
	return out
}

func sha(b []byte) [32]byte { return sha256.Sum256(b) }

// repoRoot walks up from the package directory to the directory holding go.mod.
func repoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("go.mod not found above the package directory")
		}
		dir = parent
	}
}

// samplesDir returns shared/samples/commerceml beside the repository. Missing: fatal
// under CI=true, skipped otherwise.
func samplesDir(tb testing.TB) string {
	tb.Helper()
	dir := filepath.Join(repoRoot(tb), "..", "shared", "samples", "commerceml")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("real CommerceML samples missing at %s: %v", dir, err)
		}
		tb.Skipf("real CommerceML samples not found at %s; skipping", dir)
	}
	return dir
}

// smallOffers is a minimal offers document with one offer in one warehouse.
func smallOffers(id string, qty string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<КоммерческаяИнформация ВерсияСхемы="2.08" ДатаФормирования="2026-11-21T09:00:00">
<ПакетПредложений СодержитТолькоИзменения="true"><Ид>cat#</Ид><ИдКаталога>cat</ИдКаталога><Предложения>
<Предложение><Ид>` + id + `</Ид><Наименование>n</Наименование><Склад ИдСклада="wh" КоличествоНаСкладе="` + qty + `"/></Предложение>
</Предложения></ПакетПредложений></КоммерческаяИнформация>`
}
