package marketsim_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"stockd/adapters/marketsim"
)

var t0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

func TestTokenBucket(t *testing.T) {
	b := marketsim.NewTokenBucket(300, time.Minute, 20, t0) // WB: 200 ms interval
	for i := range 20 {
		if ok, _ := b.Take(t0, 1); !ok {
			t.Fatalf("request %d of the burst refused", i)
		}
	}
	ok, wait := b.Take(t0, 1)
	if ok || wait != 200*time.Millisecond {
		t.Fatalf("21st request: ok=%v wait=%v, want refused for 200ms", ok, wait)
	}
	if ok, _ := b.Take(t0.Add(200*time.Millisecond), 1); !ok {
		t.Fatal("refused after one interval")
	}
	b.Charge(t0.Add(200*time.Millisecond), 9) // a 409
	if ok, wait := b.Take(t0.Add(time.Second), 1); ok || wait != 1200*time.Millisecond {
		t.Fatalf("after a 409 charge: ok=%v wait=%v, want refused for 1.2s", ok, wait)
	}
}

func TestSlidingWindow(t *testing.T) {
	w := marketsim.NewSlidingWindow(3, time.Minute)
	for i := range 3 {
		if ok, _ := w.Take(t0.Add(time.Duration(i)*10*time.Second), 1); !ok {
			t.Fatalf("request %d refused", i)
		}
	}
	ok, wait := w.Take(t0.Add(30*time.Second), 1)
	if ok || wait != 30*time.Second {
		t.Fatalf("4th in a minute: ok=%v wait=%v, want refused for 30s", ok, wait)
	}
	if ok, _ := w.Take(t0.Add(60*time.Second), 1); !ok {
		t.Fatal("refused once the first left the window")
	}
	if ok, _ := w.Take(t0.Add(61*time.Second), 5); ok {
		t.Fatal("a cost above the limit passed")
	}
}

func TestFixedWindow(t *testing.T) {
	q := marketsim.NewFixedWindow(100, time.Minute)
	if ok, _ := q.Take(t0, 60); !ok {
		t.Fatal("60 of 100 refused")
	}
	ok, wait := q.Take(t0.Add(20*time.Second), 50)
	if ok || wait != 40*time.Second {
		t.Fatalf("110 of 100: ok=%v wait=%v", ok, wait)
	}
	limit, remaining, until := q.State(t0.Add(20 * time.Second))
	if limit != 100 || remaining != 40 || !until.Equal(t0.Add(time.Minute)) {
		t.Fatalf("state %d %d %v", limit, remaining, until)
	}
	if ok, _ := q.Take(t0.Add(time.Minute), 100); !ok {
		t.Fatal("quota did not reset at the end of the period")
	}
}

func TestViolations(t *testing.T) {
	var v marketsim.Violations
	v.Add("rate")
	v.Add("rate")
	v.Add("batch_size")
	if v.Count("rate") != 2 || v.Total() != 3 || v.Count("auth") != 0 {
		t.Fatalf("counts %v", v.Snapshot())
	}
}

func TestFaultsQueueThenPlan(t *testing.T) {
	var f marketsim.Faults
	if got := f.Next("/x"); got.Kind != marketsim.FaultNone {
		t.Fatalf("zero Faults injected %v", got.Kind)
	}
	f.Queue(marketsim.Fault{Kind: marketsim.FaultServerError, Status: 502}, marketsim.Fault{Kind: marketsim.FaultSlow})
	f.SetPlan(marketsim.FaultPlan{Seed: 1, ErrorRate: 1, ErrorStatus: 503, Paths: []string{"/api/"}})
	if got := f.Next("/other"); got.Status != 502 {
		t.Fatalf("first queued fault %+v", got)
	}
	if got := f.Next("/other"); got.Kind != marketsim.FaultSlow {
		t.Fatalf("second queued fault %+v", got)
	}
	if got := f.Next("/other"); got.Kind != marketsim.FaultNone {
		t.Fatalf("plan applied outside its paths: %+v", got)
	}
	if got := f.Next("/api/v3/stocks/1"); got.Status != 503 {
		t.Fatalf("plan fault %+v", got)
	}
	if f.Injected(marketsim.FaultServerError) != 2 || f.Injected(marketsim.FaultSlow) != 1 {
		t.Fatal("injected counts wrong")
	}
}

func TestOrderGenIsSeededAndPaced(t *testing.T) {
	d := marketsim.Demand{PerMinute: 60, MaxLines: 3, MaxQty: 4, CancelShare: 0.5, CancelAfter: time.Minute, Seed: 11,
		Offers: []marketsim.DemandOffer{{OfferID: "A", WarehouseID: "1"}, {OfferID: "B", WarehouseID: "1"}, {OfferID: "C", WarehouseID: "2"}}}
	run := func() []marketsim.GenOrder {
		g := marketsim.NewOrderGen(d, t0)
		var all []marketsim.GenOrder
		for m := 1; m <= 60; m++ {
			all = append(all, g.Due(t0.Add(time.Duration(m)*time.Minute))...)
		}
		return all
	}
	a, b := run(), run()
	if len(a) != len(b) {
		t.Fatalf("one seed gave %d and %d orders", len(a), len(b))
	}
	cancelled := 0
	for i := range a {
		if !a[i].At.Equal(b[i].At) || !slices.Equal(a[i].Lines, b[i].Lines) {
			t.Fatalf("order %d differs between runs", i)
		}
		if a[i].At.After(t0.Add(time.Hour)) || len(a[i].Lines) == 0 {
			t.Fatalf("order %d: %+v", i, a[i])
		}
		for _, l := range a[i].Lines {
			if l.Qty < 1 || l.Qty > 4 || (a[i].WarehouseID == "2" && l.OfferID != "C") {
				t.Fatalf("order %d line %+v from warehouse %s", i, l, a[i].WarehouseID)
			}
		}
		if !a[i].CancelAt.IsZero() {
			cancelled++
			if !a[i].CancelAt.After(a[i].At) || a[i].CancelAt.Sub(a[i].At) > time.Minute+1 {
				t.Fatalf("order %d cancelled at %v after creation", i, a[i].CancelAt.Sub(a[i].At))
			}
		}
	}
	if len(a) < 3000 || len(a) > 4200 {
		t.Fatalf("%d orders in an hour at 60/min", len(a))
	}
	if share := float64(cancelled) / float64(len(a)); share < 0.4 || share > 0.6 {
		t.Fatalf("cancelled share %.2f, want about 0.5", share)
	}
	if got := marketsim.NewOrderGen(marketsim.Demand{}, t0).Due(t0.Add(time.Hour)); got != nil {
		t.Fatalf("empty demand made %d orders", len(got))
	}
}

func TestAPIErrorAndMarkNotSent(t *testing.T) {
	e := &marketsim.APIError{Marketplace: "ozon", Op: "POST /v2/products/stocks", StatusCode: 429, Code: "8",
		Message: "You have reached request rate limit per second", RetryAfter: 2 * time.Second, Retriable: true,
		Err: marketsim.ErrRateLimited}
	wrapped := fmt.Errorf("push: %w", e)
	if !errors.Is(wrapped, marketsim.ErrRateLimited) {
		t.Fatal("errors.Is does not reach the cause")
	}
	if ok, wait := marketsim.IsRetriable(wrapped); !ok || wait != 2*time.Second {
		t.Fatalf("IsRetriable = %v, %v", ok, wait)
	}
	if got, want := e.Error(), "ozon: POST /v2/products/stocks: HTTP 429: 8: You have reached request rate limit per second (retry after 2s)"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	r := marketsim.ItemResult{OfferID: "A", WarehouseID: "1"}
	marketsim.MarkNotSent(&r, wrapped)
	if r.Status != marketsim.ItemNotSent || !r.Retriable || r.RetryAfter != 2*time.Second || r.Code != "8" || r.OfferID != "A" {
		t.Fatalf("MarkNotSent: %+v", r)
	}
	marketsim.MarkNotSent(&r, context.Canceled)
	if !r.Retriable {
		t.Fatal("a cancelled push must leave items retriable")
	}
	for status, want := range map[int]bool{400: false, 401: false, 403: false, 404: false, 408: true, 420: true, 423: false, 429: true, 500: true, 503: true} {
		if _, got := marketsim.CauseForStatus(status); got != want {
			t.Errorf("CauseForStatus(%d) retriable=%v, want %v", status, got, want)
		}
	}
}

func TestStartLocalServesOnLoopback(t *testing.T) {
	srv, err := marketsim.StartLocal(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "ok" || srv.URL[:17] != "http://127.0.0.1:" {
		t.Fatalf("%s answered %q", srv.URL, body)
	}
	if err := srv.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
}
