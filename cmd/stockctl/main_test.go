package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"stockd/adapters/httpapi"
	"stockd/engine"
	"stockd/reservation"
)

const ctlKey = "stockctl-test-key"

// startStockd runs a real engine on 127.0.0.1:0 with one SKU and one hold.
func startStockd(tb testing.TB) string {
	tb.Helper()
	cfg := engine.DefaultConfig()
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Journal.Dir = tb.TempDir()
	cfg.Channels = engine.DemoChannels()
	cfg.HTTP.APIKeys = []httpapi.APIKey{{Name: "ctl", SHA256: httpapi.HashToken(ctlKey), Scopes: []httpapi.Scope{httpapi.ScopeAdmin}}}
	eng, err := engine.Open(context.Background(), cfg, engine.Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	tb.Cleanup(func() { cancel(); <-done })
	ev := reservation.Event{V: 1, ID: "e1", Source: "t", Seq: 1, At: time.Unix(1_700_000_000, 0), Type: reservation.EventStockSet,
		SKU: "sku#1", Warehouse: "wh-msk", Qty: 9}
	if _, err := eng.ApplyEvents(ctx, []engine.SourcedEvent{{Event: ev}}); err != nil {
		tb.Fatal(err)
	}
	base := "http://" + eng.HTTPAddr()
	req, _ := http.NewRequest("POST", base+"/v1/reservations", strings.NewReader(
		`{"id":"order 7","channel":"site","lines":[{"sku":"sku#1","qty":4}]}`))
	req.Header.Set("Authorization", "Bearer "+ctlKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 201 {
		tb.Fatalf("seed hold: %v %v", err, resp)
	}
	resp.Body.Close()
	return base
}

func ctl(tb testing.TB, base string, args ...string) (string, error) {
	tb.Helper()
	var out bytes.Buffer
	env := map[string]string{"STOCKD_URL": base, "STOCKD_API_KEY": ctlKey}
	err := run(context.Background(), args, func(k string) string { return env[k] }, &out, io.Discard)
	return out.String(), err
}

func TestStockctlShowsSKUAndHold(t *testing.T) {
	base := startStockd(t)
	out, err := ctl(t, base, "sku", "sku#1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "SKU sku#1") || !hasRow(out, "wh-msk 9 4 0 5") || !hasRow(out, "site 5") {
		t.Fatalf("stockctl sku output lacks the SKU, the wh-msk row (free 9 held 4 available 5) or site 5:\n%s", out)
	}
	out, err = ctl(t, base, "hold", "order 7")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "state held") || !strings.Contains(out, "4×sku#1@wh-msk") {
		t.Fatalf("stockctl hold output:\n%s", out)
	}
	if _, err := ctl(t, base, "hold", "nope"); err == nil || !strings.Contains(err.Error(), "hold_not_found") {
		t.Fatalf("unknown hold: err = %v, want hold_not_found", err)
	}
	out, err = ctl(t, base, "health")
	if err != nil || !strings.Contains(out, "/readyz") {
		t.Fatalf("health: %v %s", err, out)
	}
	out, err = ctl(t, base, "ingest")
	if err != nil || !strings.Contains(out, "applied 0") {
		t.Fatalf("ingest: %v %s", err, out)
	}
}

// hasRow reports whether a line of out has exactly these fields.
func hasRow(out, fields string) bool {
	for _, line := range strings.Split(out, "\n") {
		if strings.Join(strings.Fields(line), " ") == fields {
			return true
		}
	}
	return false
}
