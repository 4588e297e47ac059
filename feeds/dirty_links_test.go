package feeds

import (
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"
)

func spanCtx(n byte) trace.SpanContext {
	return trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{n}, SpanID: trace.SpanID{n},
		TraceFlags: trace.FlagsSampled})
}

func TestDirtyKeyKeepsTheLatestSpanContexts(t *testing.T) {
	d := NewDirtySet(10)
	now := time.Now()
	if err := d.MarkLinked("a", PriorityDecrease, now, trace.SpanContext{}); err != nil {
		t.Fatal(err)
	}
	for n := byte(1); n <= MaxLinksPerKey+2; n++ {
		if err := d.MarkLinked("a", PriorityDecrease, now, spanCtx(n)); err != nil {
			t.Fatal(err)
		}
	}
	d.MarkLinked("a", PriorityDecrease, now, spanCtx(MaxLinksPerKey+2)) // the same change again
	got := d.Take(1, now)
	if len(got) != 1 || len(got[0].Links) != MaxLinksPerKey {
		t.Fatalf("took %+v, want one key with %d links", got, MaxLinksPerKey)
	}
	for i, sc := range got[0].Links {
		if want := spanCtx(byte(3 + i)); !sc.Equal(want) {
			t.Fatalf("link %d = %v, want %v (the latest, oldest first)", i, sc.SpanID(), want.SpanID())
		}
	}
	if err := d.Requeue(got[0], now); err != nil {
		t.Fatal(err)
	}
	if again := d.Take(1, now); len(again) != 1 || len(again[0].Links) != MaxLinksPerKey {
		t.Fatalf("requeued key came back with %+v, want its links", again)
	}
	d.Mark("b", PriorityIncrease, now)
	if b := d.Take(1, now); b[0].Links != nil {
		t.Fatalf("an untraced key has links %v", b[0].Links)
	}
}
