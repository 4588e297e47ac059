package httpapi

import (
	"context"
	"errors"
	"testing"
	"time"
)

type deadlineTestKey struct{}

func TestDeadlineContextEndsAfterTimeout(t *testing.T) {
	const timeout, grain = 60 * time.Millisecond, 20 * time.Millisecond
	d := newDeadlines(timeout, grain)
	parent := context.WithValue(context.Background(), deadlineTestKey{}, "span")
	start := time.Now()
	ctx, cancel := d.context(parent, start)
	defer cancel()
	if got := ctx.Value(deadlineTestKey{}); got != "span" {
		t.Fatalf("Value = %v, want the parent's", got)
	}
	dl, ok := ctx.Deadline()
	if !ok || dl.Before(start.Add(timeout)) || dl.After(start.Add(timeout+grain)) {
		t.Fatalf("Deadline = %v, %v; want within [%v, %v] after start", dl.Sub(start), ok, timeout, timeout+grain)
	}
	if err := ctx.Err(); err != nil {
		t.Fatalf("Err before the deadline = %v", err)
	}
	select {
	case <-ctx.Done():
		t.Fatal("done before the deadline")
	case <-time.After(timeout / 2):
	}
	select {
	case <-ctx.Done():
	case <-time.After(10 * timeout):
		t.Fatal("not done 10 timeouts later")
	}
	if elapsed := time.Since(start); elapsed < timeout {
		t.Fatalf("done after %v, before the timeout %v", elapsed, timeout)
	}
	if err := ctx.Err(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Err after the deadline = %v, want DeadlineExceeded", err)
	}
}

func TestDeadlineSlotsAreSharedWithinAGrain(t *testing.T) {
	d := newDeadlines(time.Hour, time.Second)
	now := time.Now()
	a := d.slot(now)
	b := d.slot(now.Add(500 * time.Millisecond))
	c := d.slot(now.Add(1500 * time.Millisecond))
	if a != b {
		t.Fatal("requests half a grain apart got different slots")
	}
	if c == a {
		t.Fatal("a request past the slot's deadline minus the timeout joined it: its deadline would come early")
	}
	if !c.at.After(now.Add(1500*time.Millisecond + time.Hour - time.Nanosecond)) {
		t.Fatalf("slot deadline %v is before now+timeout", c.at.Sub(now))
	}
}

func TestDeadlineContextKeepsACancellableParent(t *testing.T) {
	d := newDeadlines(time.Hour, time.Second)
	parent, cancelParent := context.WithCancel(context.Background())
	ctx, cancel := d.context(parent, time.Now())
	defer cancel()
	cancelParent()
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the parent's cancellation did not reach the request context")
	}
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Fatalf("Err = %v, want Canceled", ctx.Err())
	}
}
