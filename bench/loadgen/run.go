package loadgen

import (
	"context"
	"crypto/rand"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"stockd/engine/finesleep"
)

// Run sends the workload to cfg.Target until cfg.Duration has passed or
// cfg.MaxOps operations have started, waits for the answers, and returns
// what it measured. A target off the loopback interface is refused with
// ErrNotLoopback before anything is sent. If ctx ends first, Run returns
// what was measured so far with ctx's error.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.HoldIDPrefix == "" {
		cfg.HoldIDPrefix = "hold-" + strings.ToLower(rand.Text()[:12])
	}
	if err := cfg.Validate(); err != nil {
		return Result{}, err
	}
	addr, err := loopbackAddr(cfg.Target)
	if err != nil {
		return Result{}, err
	}
	r := &run{
		cfg:     cfg,
		client:  newHostClient(addr, cfg),
		baseURL: "http://" + addr,
		skus:    SKUNames(cfg.Workload.SKUs),
		tally:   newTally(),
	}
	defer r.client.CloseIdleConnections()

	runCtx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	start := time.Now()
	switch cfg.Mode {
	case ClosedLoop:
		r.closedLoop(runCtx)
	case OpenLoop:
		r.openLoop(runCtx, start)
	}
	res := r.tally.result(cfg.Mode, time.Since(start))
	return res, ctx.Err()
}

// run is the state shared by a run's workers.
type run struct {
	cfg     Config
	client  *fasthttp.HostClient
	baseURL string   // http://host:port
	skus    []string // read-only
	tally   *tally
}

// closedLoop runs Connections workers, each starting its next operation
// when the previous one finished, until ctx ends or MaxOps have started.
func (r *run) closedLoop(ctx context.Context) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for i := range r.cfg.Connections {
		w := r.newWorker(uint64(i))
		wg.Go(func() {
			for ctx.Err() == nil {
				n := next.Add(1)
				if n > r.cfg.MaxOps {
					return
				}
				r.tally.started.Add(1)
				w.op(n, time.Now())
			}
		})
	}
	wg.Wait()
}

// scheduledOp is an open-loop arrival: its number and its send time.
type scheduledOp struct {
	n   int64
	due time.Time
}

// openLoop schedules arrivals every 1/RateOpsPerSec from start. An
// arrival is admitted if fewer than MaxInFlight are admitted and not
// finished, else dropped; Connections workers send the admitted ones and
// measure each from its due time, so time spent queued counts.
func (r *run) openLoop(ctx context.Context, start time.Time) {
	queue := make(chan scheduledOp, r.cfg.MaxInFlight)
	var inFlight atomic.Int64
	var wg sync.WaitGroup
	for i := range r.cfg.Connections {
		w := r.newWorker(uint64(i))
		wg.Go(func() {
			for op := range queue {
				w.op(op.n, op.due)
				inFlight.Add(-1)
			}
		})
	}
	r.schedule(ctx, start, queue, &inFlight)
	close(queue)
	wg.Wait()
}

func (r *run) schedule(ctx context.Context, start time.Time, queue chan<- scheduledOp, inFlight *atomic.Int64) {
	deadline, _ := ctx.Deadline()
	nanosPerOp := float64(time.Second) / r.cfg.RateOpsPerSec
	maxInFlight := int64(r.cfg.MaxInFlight)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for i := int64(0); i < r.cfg.MaxOps; i++ {
		due := start.Add(time.Duration(float64(i) * nanosPerOp))
		if due.After(deadline) {
			return
		}
		if !waitUntil(ctx, due, timer) {
			return
		}
		if inFlight.Load() >= maxInFlight {
			r.tally.dropped.Add(1)
			continue
		}
		inFlight.Add(1)
		r.tally.started.Add(1)
		// The queue holds MaxInFlight and at most that many are admitted,
		// so this send never blocks.
		queue <- scheduledOp{n: i + 1, due: due}
	}
}

// fineWait is the part of a wait that waitUntil sleeps in finesleep
// slices rather than on the timer.
const fineWait = time.Millisecond

// waitUntil returns once due has come (true) or ctx has ended (false). The
// last fineWait of the wait is slept in finesleep slices: a Go timer, when
// every P is idle, fires up to a millisecond late, which would send the
// open loop's operations in bursts rather than at their times.
func waitUntil(ctx context.Context, due time.Time, timer *time.Timer) bool {
	if wait := time.Until(due) - fineWait; wait > 0 {
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return false
		case <-timer.C:
		}
	}
	for {
		if ctx.Err() != nil {
			return false
		}
		left := time.Until(due)
		if left <= 0 {
			return true
		}
		finesleep.Sleep(min(left, fineWait))
	}
}

// worker sends one operation at a time with its own reusable requests.
type worker struct {
	run        *run
	picker     *picker
	holdReq    *fasthttp.Request
	releaseReq *fasthttp.Request
	resp       *fasthttp.Response
	holdID     []byte
	body       []byte
	uri        []byte
}

func (r *run) newWorker(stream uint64) *worker {
	w := &worker{
		run:        r,
		picker:     newPicker(r.cfg.Workload, stream),
		holdReq:    new(fasthttp.Request),
		releaseReq: new(fasthttp.Request),
		resp:       new(fasthttp.Response),
	}
	for _, req := range []*fasthttp.Request{w.holdReq, w.releaseReq} {
		req.Header.SetMethod(fasthttp.MethodPost)
		req.Header.SetContentType("application/json")
		if r.cfg.APIToken != "" {
			req.Header.Set(fasthttp.HeaderAuthorization, "Bearer "+r.cfg.APIToken)
		}
	}
	w.holdReq.SetRequestURI(r.baseURL + "/v1/reservations")
	return w
}

// op holds the next SKUs as hold n and releases the hold unless the
// target refused it. The hold's latency runs from start.
func (w *worker) op(n int64, start time.Time) {
	r := w.run
	ranks := w.picker.next()
	w.holdID = appendHoldID(w.holdID[:0], r.cfg.HoldIDPrefix, n)
	w.body = appendHoldBody(w.body[:0], w.holdID, &r.cfg.Workload, r.skus, ranks)
	w.holdReq.SetBodyRaw(w.body)
	err := r.client.Do(w.holdReq, w.resp)
	latency := time.Since(start)
	status := 0
	if err == nil {
		status = w.resp.StatusCode()
	}
	r.tally.hold(latency, status, err)
	// A hold without an answer may still have been made: release it too.
	if err != nil || status == fasthttp.StatusCreated || status == fasthttp.StatusOK {
		w.release()
	}
}

func (w *worker) release() {
	r := w.run
	w.uri = append(w.uri[:0], r.baseURL...)
	w.uri = append(w.uri, "/v1/reservations/"...)
	w.uri = append(w.uri, w.holdID...)
	w.uri = append(w.uri, "/release"...)
	w.releaseReq.SetRequestURIBytes(w.uri)
	err := r.client.Do(w.releaseReq, w.resp)
	status := 0
	if err == nil {
		status = w.resp.StatusCode()
	}
	r.tally.release(status, err)
}
