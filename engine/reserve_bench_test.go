package engine

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"stockd/adapters/httpapi"
	"stockd/reservation"
)

// BenchmarkReserveHTTP drives the whole reserve path of one stockd without
// sockets: the API's handler (router, key check, decode, reply, metrics)
// over the engine, its ledger and its file journal (fdatasync on), from
// many concurrent checkouts, each holding one unit of a random SKU and
// releasing it. It reports the process's CPU time per hold and release,
// the share of the server that the reserve benchmark's sockets do not
// decide, and hold+release pairs per second.
//
//	go test -run '^$' -bench BenchmarkReserveHTTP -benchtime 200000x ./engine/
func BenchmarkReserveHTTP(b *testing.B) {
	const skus, checkouts = 10_000, 256
	const token = "bench-token"
	cfg := DefaultConfig()
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.HTTP.APIKeys = []httpapi.APIKey{{Name: "bench", SHA256: httpapi.HashToken(token), Scopes: []httpapi.Scope{httpapi.ScopeReserve}}}
	cfg.Journal.Kind, cfg.Journal.Dir = JournalFile, b.TempDir()
	cfg.Channels = []ChannelConfig{{Name: "site", Kind: ChannelSite, Warehouses: []string{"wh-1"}, Strategy: "priority"}}
	eng, err := Open(context.Background(), cfg, Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	}()
	names := make([]string, skus)
	batch := make([]SourcedEvent, 0, 200)
	for i := range names {
		names[i] = "sku-" + strconv.Itoa(i)
		batch = append(batch, SourcedEvent{Event: reservation.Event{V: reservation.EventSchemaVersion,
			ID: "seed-" + names[i], Source: "bench", Seq: uint64(i + 1), At: time.Now(),
			Type: reservation.EventStockSet, SKU: names[i], Warehouse: "wh-1", Qty: 1_000_000}})
		if len(batch) == cap(batch) || i == skus-1 {
			if _, err := eng.ApplyEvents(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	handler := eng.api.Handler()
	var next atomic.Int64
	b.SetParallelism(checkouts / runtime.GOMAXPROCS(0))
	b.ReportAllocs()
	c0, start := processCPU(), time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var rctx fasthttp.RequestCtx
		rnd := rand.New(rand.NewPCG(uint64(next.Add(1)), 1))
		var body, uri []byte
		for pb.Next() {
			id := "h-" + strconv.FormatInt(next.Add(1), 36)
			body = append(body[:0], `{"id":"`...)
			body = append(body, id...)
			body = append(body, `","channel":"site","lines":[{"sku":"`...)
			body = append(body, names[rnd.IntN(skus)]...)
			body = append(body, `","qty":1}],"ttl_seconds":900}`...)
			request(&rctx, token, "/v1/reservations", body)
			handler(&rctx)
			if rctx.Response.StatusCode() != fasthttp.StatusCreated {
				b.Errorf("hold: %d %s", rctx.Response.StatusCode(), rctx.Response.Body())
				return
			}
			uri = append(append(append(uri[:0], "/v1/reservations/"...), id...), "/release"...)
			request(&rctx, token, string(uri), nil)
			handler(&rctx)
			if rctx.Response.StatusCode() != fasthttp.StatusOK {
				b.Errorf("release: %d %s", rctx.Response.StatusCode(), rctx.Response.Body())
				return
			}
		}
	})
	b.StopTimer()
	cpu, took := processCPU()-c0, time.Since(start)
	b.ReportMetric(float64(cpu.Nanoseconds())/1e3/float64(b.N), "cpu-µs/pair")
	b.ReportMetric(float64(b.N)/took.Seconds(), "pairs/s")
	b.ReportMetric(0, "ns/op")
}

// request makes rctx a POST of body to uri with the bearer token, as a
// checkout's server would send it.
func request(rctx *fasthttp.RequestCtx, token, uri string, body []byte) {
	rctx.Request.Reset()
	rctx.Response.Reset()
	rctx.Request.Header.SetMethod(fasthttp.MethodPost)
	rctx.Request.SetRequestURI(uri)
	rctx.Request.Header.Set(fasthttp.HeaderAuthorization, "Bearer "+token)
	if body != nil {
		rctx.Request.Header.SetContentType("application/json")
		rctx.Request.SetBody(body)
	}
}
