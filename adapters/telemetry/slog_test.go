package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
)

func TestLogHandlerAddsTraceIDs(t *testing.T) {
	tel, _ := setupRecording(t, nil)
	var buf bytes.Buffer
	log := slog.New(NewLogHandler(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))).With("component", "ingest")
	ctx, span := tel.Tracer("stockd/test").Start(context.Background(), "apply batch")
	defer span.End()

	decode := func() map[string]any {
		t.Helper()
		var rec map[string]any
		if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
			t.Fatalf("log line %q: %v", buf.String(), err)
		}
		buf.Reset()
		return rec
	}

	log.InfoContext(ctx, "applied", "events", 3)
	rec := decode()
	if got, want := rec[LogKeyTraceID], span.SpanContext().TraceID().String(); got != want {
		t.Fatalf("trace_id = %v, want %s", got, want)
	}
	if got, want := rec[LogKeySpanID], span.SpanContext().SpanID().String(); got != want {
		t.Fatalf("span_id = %v, want %s", got, want)
	}
	if rec["component"] != "ingest" || rec["events"] != float64(3) {
		t.Fatalf("record lost its attributes: %v", rec)
	}

	log.Info("no context")
	if rec := decode(); rec[LogKeyTraceID] != nil || rec[LogKeySpanID] != nil {
		t.Fatalf("ids added without a span: %v", rec)
	}

	log.DebugContext(ctx, "below the level")
	if buf.Len() != 0 {
		t.Fatalf("debug line written at info level: %q", buf.String())
	}
}
