package feeds

import (
	"time"

	"stockd/feeds/limit"
)

// Stats is one channel's push state, for metrics and the admin API.
type Stats struct {
	Channel string `json:"channel"`
	Kind    Kind   `json:"kind"`
	// Freshness is now minus the oldest change not yet acknowledged
	// (pending or in flight); 0 when everything is acknowledged.
	Freshness     time.Duration `json:"freshness_ns"`
	OldestPending time.Time     `json:"oldest_pending"`
	Stock         MethodStats   `json:"stock"`
	Price         MethodStats   `json:"price"`
	// Quarantined counts keys not sent: refused as invalid, bad mapping
	// rows and prices awaiting approval (AwaitingApproval of them).
	Quarantined      int `json:"quarantined"`
	AwaitingApproval int `json:"awaiting_approval"`
	MappingErrors    int `json:"mapping_errors"`
	// Dropped counts changes lost to a full dirty set or quarantine.
	Dropped     uint64         `json:"dropped"`
	Limiters    []LimiterStats `json:"limiters"`
	LastError   string         `json:"last_error"`
	LastErrorAt time.Time      `json:"last_error_at"`
	// Feed is the YML feed's pending offers; 0 without a feed.
	FeedPending int `json:"feed_pending"`
	// Reconcile is the last (or running) read-back pass.
	Reconcile ReconcileStats `json:"reconcile"`
}

// MethodStats is one worker's queue and counters.
type MethodStats struct {
	Pending  int        `json:"pending"` // keys waiting, ready or cooling
	Cooling  int        `json:"cooling"` // of which held back by a per-item cooldown
	InFlight int        `json:"in_flight"`
	Ready    QueueDepth `json:"ready"`
	// Counters since start.
	Sent          uint64 `json:"sent"` // items the marketplace answered
	Acked         uint64 `json:"acked"`
	Skipped       uint64 `json:"skipped"`        // keys found equal to the acknowledged value at send time
	Retries       uint64 `json:"retries"`        // items put back after a retriable failure
	Rejected      uint64 `json:"rejected"`       // items quarantined as invalid
	Requests      uint64 `json:"requests"`       // push calls
	RequestErrors uint64 `json:"request_errors"` // push calls that failed as a whole
	// GaveUp counts keys quarantined after more than MaxItemAttempts
	// retriable refusals in a row (they are in Rejected too).
	GaveUp uint64 `json:"gave_up"`
	// PausedUntil is the end of the worker's backoff after a failed
	// request (Ozon "Circle is open": minutes); zero when not paused.
	PausedUntil time.Time `json:"paused_until"`
	// Asynchronous price uploads (Wildberries): the uploads awaiting
	// their verdict, the keys they carry (neither pending nor
	// acknowledged yet) and the polls made.
	Tasks           int    `json:"tasks"`
	AwaitingVerdict int    `json:"awaiting_verdict"`
	TaskPolls       uint64 `json:"task_polls"`
}

// QueueDepth counts ready keys by priority.
type QueueDepth struct {
	ToZero   int `json:"to_zero"`
	Decrease int `json:"decrease"`
	Increase int `json:"increase"`
	Price    int `json:"price"`
}

// LimiterStats is one client bucket.
type LimiterStats struct {
	Name        string  `json:"name"`
	Utilisation float64 `json:"utilisation"` // 0 full, 1 empty, above 1 backlog
	limit.Stats
}

// Stats reports a channel's freshness, queues, counters and limiters.
func (h *Hub) Stats(channel string) (Stats, error) {
	st, err := h.channel(channel)
	if err != nil {
		return Stats{}, err
	}
	now := h.cfg.Now()
	s := Stats{Channel: st.name, Kind: st.ch.Config.Kind, MappingErrors: len(st.ch.Offers.Bad)}
	st.mu.Lock()
	var oldest time.Time
	found := false
	consider := func(t time.Time) {
		if !found || t.Before(oldest) {
			oldest, found = t, true
		}
	}
	for m := range numMethods {
		ms := MethodStats{Pending: st.dirty[m].Len(), InFlight: len(st.inflight[m])}
		r := st.dirty[m].ReadyByPriority()
		ms.Ready = QueueDepth{ToZero: r[PriorityToZero], Decrease: r[PriorityDecrease], Increase: r[PriorityIncrease], Price: r[PriorityPrice]}
		ms.Cooling = ms.Pending - r[PriorityToZero] - r[PriorityDecrease] - r[PriorityIncrease] - r[PriorityPrice]
		c := st.counters[m]
		ms.Sent, ms.Acked, ms.Skipped, ms.Retries, ms.Rejected = c.sent, c.acked, c.skipped, c.retries, c.rejected
		ms.Requests, ms.RequestErrors = c.requests, c.requestErrors
		ms.GaveUp, ms.TaskPolls, ms.PausedUntil = c.gaveUp, c.taskPolls, st.pausedUntil[m]
		if m == MethodPrice {
			ms.Tasks, ms.AwaitingVerdict = len(st.tasks.tasks), len(st.tasks.byKey)
			for _, t := range st.tasks.tasks {
				for _, it := range t.items {
					consider(it.pd.Since)
				}
			}
		}
		if t, ok := st.dirty[m].Oldest(); ok {
			consider(t)
		}
		for _, t := range st.inflight[m] {
			consider(t)
		}
		if m == MethodStock {
			s.Stock = ms
		} else {
			s.Price = ms
		}
	}
	for _, q := range st.quarantine {
		s.Quarantined++
		if q.NeedsApproval {
			s.AwaitingApproval++
		}
	}
	if st.feed != nil {
		s.FeedPending = st.feed.Len()
	}
	s.Dropped, s.LastError, s.LastErrorAt = st.dropped, st.lastErr, st.lastErrAt
	s.Reconcile = st.recon.last
	s.Reconcile.Running, s.Reconcile.Requested = st.recon.running, st.recon.requested
	st.mu.Unlock()
	if found {
		s.OldestPending, s.Freshness = oldest, max(now.Sub(oldest), 0)
	}
	for _, l := range st.ch.Limiters {
		s.Limiters = append(s.Limiters, LimiterStats{Name: l.Name, Utilisation: l.Bucket.Utilisation(), Stats: l.Bucket.Stats()})
	}
	return s, nil
}
