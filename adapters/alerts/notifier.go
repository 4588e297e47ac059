package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Alert is one condition firing now.
type Alert struct {
	// Name is the alert's name, the same as the Prometheus rule's
	// (StockdSeqGaps, StockdChannelFreshnessOverSLO, …).
	Name string
	// Key tells apart alerts of one name: a channel, a partition; "" for
	// the process as a whole.
	Key string
	// Severity is page, ticket or info.
	Severity string
	// Summary is one line for a person.
	Summary string
	// Labels are added to the message's labels (channel, kind, …).
	Labels map[string]string
	// Value is the figure that crossed the threshold.
	Value float64
}

// Deps are what the notifier is handed.
type Deps struct {
	// Client posts the messages; its own Timeout is not relied on
	// (Config.Timeout bounds each POST). Required.
	Client *http.Client
	// Now is the clock of the messages' times and the rate limit. Required.
	Now func() time.Time
	// Service is the service label of every message; "" means stockd.
	Service string
}

// Stats are the notifier's counters since start.
type Stats struct {
	Firing   uint64 // firing messages queued
	Resolved uint64 // resolved messages queued
	Sent     uint64 // messages the webhook accepted
	Failed   uint64 // messages given up after MaxAttempts
	Dropped  uint64 // messages lost to a full queue or MaxActiveAlerts
	Waits    uint64 // sends held back by MaxPerMinute
	Active   int    // alerts firing now
	Queued   int    // messages waiting
}

// Notifier de-duplicates alerts and posts them to the webhook. Update is
// called by the evaluator; Run is the one sender goroutine.
type Notifier struct {
	cfg     Config
	client  *http.Client
	now     func() time.Time
	service string
	queue   chan message

	mu     sync.Mutex
	active map[alertKey]*alertState

	firing, resolved, sent, failed, dropped, waits atomic.Uint64
}

type alertKey struct{ name, key string }

type alertState struct {
	alert    Alert
	startsAt time.Time
	lastSent time.Time
}

type message struct {
	status   string // firing, resolved
	alert    Alert
	startsAt time.Time
	endsAt   time.Time
}

// New checks cfg and returns a notifier; call Run to send.
func New(cfg Config, deps Deps) (*Notifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !cfg.Enabled() {
		return nil, fmt.Errorf("%w: alerts.webhook_url is empty", ErrConfig)
	}
	if deps.Client == nil || deps.Now == nil {
		return nil, errors.New("alerts: Deps.Client and Deps.Now are required")
	}
	if deps.Service == "" {
		deps.Service = "stockd"
	}
	return &Notifier{cfg: cfg, client: deps.Client, now: deps.Now, service: deps.Service,
		queue: make(chan message, MaxQueuedMessages), active: make(map[alertKey]*alertState)}, nil
}

// Update takes every alert firing now. An alert not firing before is
// queued as firing; one firing before and missing now is queued as
// resolved; one still firing is queued again only after MinRepeat. It
// never blocks.
func (n *Notifier) Update(firing []Alert) {
	now := n.now()
	n.mu.Lock()
	defer n.mu.Unlock()
	seen := make(map[alertKey]bool, len(firing))
	for _, a := range firing {
		k := alertKey{a.Name, a.Key}
		if seen[k] {
			continue
		}
		seen[k] = true
		st, ok := n.active[k]
		if !ok {
			if len(n.active) >= MaxActiveAlerts {
				n.dropped.Add(1)
				continue
			}
			st = &alertState{alert: a, startsAt: now, lastSent: now}
			n.active[k] = st
			n.enqueue(message{status: "firing", alert: a, startsAt: now})
			continue
		}
		st.alert = a
		if n.cfg.MinRepeat > 0 && now.Sub(st.lastSent) >= n.cfg.MinRepeat {
			st.lastSent = now
			n.enqueue(message{status: "firing", alert: a, startsAt: st.startsAt})
		}
	}
	for k, st := range n.active {
		if !seen[k] {
			delete(n.active, k)
			n.enqueue(message{status: "resolved", alert: st.alert, startsAt: st.startsAt, endsAt: now})
		}
	}
}

func (n *Notifier) enqueue(m message) {
	select {
	case n.queue <- m:
		if m.status == "firing" {
			n.firing.Add(1)
		} else {
			n.resolved.Add(1)
		}
	default:
		n.dropped.Add(1)
	}
}

// Stats returns the counters.
func (n *Notifier) Stats() Stats {
	n.mu.Lock()
	active := len(n.active)
	n.mu.Unlock()
	return Stats{Firing: n.firing.Load(), Resolved: n.resolved.Load(), Sent: n.sent.Load(), Failed: n.failed.Load(),
		Dropped: n.dropped.Load(), Waits: n.waits.Load(), Active: active, Queued: len(n.queue)}
}

// Run sends queued messages, at most MaxPerMinute in any minute, until ctx
// ends. Messages still queued then are not sent.
func (n *Notifier) Run(ctx context.Context) error {
	var window []time.Time // send times within the last minute, oldest first
	for {
		var m message
		select {
		case <-ctx.Done():
			return nil
		case m = <-n.queue:
		}
		for {
			now := n.now()
			for len(window) > 0 && !now.Before(window[0].Add(time.Minute)) {
				window = window[1:]
			}
			if len(window) < n.cfg.MaxPerMinute {
				break
			}
			n.waits.Add(1)
			if !sleep(ctx, window[0].Add(time.Minute).Sub(now)) {
				return nil
			}
		}
		window = append(window, n.now())
		if err := n.deliver(ctx, m); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			n.failed.Add(1)
			continue
		}
		n.sent.Add(1)
	}
}

// deliver tries one message up to MaxAttempts times, 1 s then 2 s apart.
func (n *Notifier) deliver(ctx context.Context, m message) error {
	body, err := json.Marshal(n.payload(m))
	if err != nil {
		return fmt.Errorf("alerts: encode: %w", err)
	}
	var errs []error
	for attempt := range MaxAttempts {
		if attempt > 0 && !sleep(ctx, time.Duration(attempt)*time.Second) {
			return ctx.Err()
		}
		err := n.post(ctx, body)
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (n *Notifier) post(ctx context.Context, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.cfg.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("alerts: request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", n.service)
	for k, v := range n.cfg.Headers {
		req.Header.Set(k, v)
	}
	resp, err := n.client.Do(req)
	if err != nil {
		return fmt.Errorf("alerts: post: %w", err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("alerts: webhook answered %d: %s", resp.StatusCode, snippet)
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
