package baseline

import (
	"fmt"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"stockd/adapters/httpapi"
	"stockd/bench/loadgen"
)

// newClient returns a client of addr whose connections close before the
// server shuts down (cleanups run last-registered first).
func newClient(tb testing.TB, addr string) *fasthttp.HostClient {
	c := &fasthttp.HostClient{Addr: addr, MaxConns: 4, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second}
	tb.Cleanup(c.CloseIdleConnections)
	return c
}

func post(tb testing.TB, c *fasthttp.HostClient, path, body string) int {
	tb.Helper()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://" + c.Addr + path)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.SetBodyString(body)
	if err := c.Do(req, resp); err != nil {
		tb.Fatalf("POST %s: %v", path, err)
	}
	return resp.StatusCode()
}

func TestRowLockServerStatuses(t *testing.T) {
	pool := rowLockPool(t, map[string]int64{"sku-1": 3})
	srv, err := NewRowLock(NewRowLockStore(pool), httpapi.DefaultLimits(), discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	client := newClient(t, serveBaseline(t, srv))
	hold := func(id string, qty int) string {
		return fmt.Sprintf(`{"id":%q,"channel":"site","lines":[{"sku":"sku-1","qty":%d}],"ttl_seconds":60}`, id, qty)
	}
	for _, step := range []struct {
		path, body string
		want       int
	}{
		{"/v1/reservations", hold("o1", 2), 201},
		{"/v1/reservations", hold("o1", 2), 200},
		{"/v1/reservations", hold("o2", 2), 409},
		{"/v1/reservations", `{"id":`, 422},
		{"/v1/reservations", hold("o3", 0), 422},
		{"/v1/reservations/o1/release", "", 200},
		{"/v1/reservations", hold("o2", 2), 201},
		{"/v1/reservations/o1/release", "", 200},
		{"/v1/nothing", "", 404},
	} {
		if got := post(t, client, step.path, step.body); got != step.want {
			t.Errorf("POST %s %s = %d, want %d", step.path, step.body, got, step.want)
		}
	}
	if got, rows := reserved(t, pool, "sku-1"); got != 2 || rows != 1 {
		t.Errorf("reserved %d in %d rows, want 2 in 1 (o2)", got, rows)
	}
}

func TestNoopServerAnswersTheLoad(t *testing.T) {
	srv, err := NewNoop(httpapi.DefaultLimits(), discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	addr := serveBaseline(t, srv)
	res, err := loadgen.Run(t.Context(), loadgen.Config{
		Target:         addr,
		Mode:           loadgen.ClosedLoop,
		Connections:    4,
		Duration:       30 * time.Second,
		MaxOps:         300,
		RequestTimeout: 5 * time.Second,
		DialTimeout:    time.Second,
		HoldIDPrefix:   "noop",
		Workload:       loadgen.DefaultWorkload(),
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Hold != (loadgen.HoldCounts{Created: 300}) || res.Release != (loadgen.ReleaseCounts{OK: 300}) {
		t.Errorf("hold %+v release %+v, want 300 created and 300 released", res.Hold, res.Release)
	}
	if got := post(t, newClient(t, addr), "/v1/reservations/a/b/release", ""); got != 404 {
		t.Errorf("release with a slash in the id = %d, want 404", got)
	}
}
