package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"stockd/reservation"
)

// TestSnapshotsTruncateAndRecover: with frequent snapshots the journal is
// cut while the engine serves, and a restart from snapshot + the records
// after it gives the same state.
func TestSnapshotsTruncateAndRecover(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Journal.SnapshotEveryRecords = 20
	cfg.Journal.SnapshotInterval = 10 * time.Millisecond
	te := startEngine(t, cfg, Deps{})
	for i := range 40 {
		setStock(t, te.eng, fmt.Sprintf("sku-%d", i), "wh-msk", int64(10+i), int64(i+1))
	}
	for i := range 40 {
		wantStatus(t, call(t, "POST", te.base+"/v1/reservations", testKey,
			fmt.Sprintf(`{"id":"h%d","channel":"site","lines":[{"sku":"sku-%d","qty":%d}]}`, i, i, 1+i%3)), 201, "")
	}
	waitFor(t, "two snapshots", 20*time.Second, func() bool { return snapshotFiles(t, dir) >= 2 })
	before := stateOf(t, te.eng)
	te.stop()

	te = startEngine(t, cfg, Deps{})
	if after := stateOf(t, te.eng); after != before {
		t.Fatalf("state after restart differs:\n got %s\nwant %s", after, before)
	}
	wantStatus(t, call(t, "GET", te.base+"/v1/reservations/h7", testKey, ""), 200, "")
}

func snapshotFiles(tb testing.TB, dir string) int {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var n int
	for _, e := range entries {
		if filepath.Ext(e.Name()) == ".snap" {
			n++
		}
	}
	return n
}

// stateOf is the ledger's deterministic snapshot, as a comparable string.
func stateOf(tb testing.TB, e *Engine) string {
	tb.Helper()
	if err := e.core.Barrier(context.Background()); err != nil {
		tb.Fatal(err)
	}
	var s string
	e.core.Read(func(l *reservation.Ledger) { s = string(l.Snapshot()) })
	return s
}

// TestSnapshotterKeepsItsLedger: the snapshotter builds its ledger once and
// then replays only the records since its last snapshot; every snapshot it
// saves, taken while the engine is quiet, is exactly the serving ledger's
// state, and a restart from the last one gives that state too.
func TestSnapshotterKeepsItsLedger(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Journal.SnapshotEveryRecords = 1 << 40 // only the snapshots taken here
	te := startEngine(t, cfg, Deps{})
	ctx := context.Background()
	s := &snapshotter{e: te.eng}
	var last SnapshotStats
	for round := range 4 {
		for i := range 25 {
			sku := fmt.Sprintf("sku-%d", i)
			setStock(t, te.eng, sku, "wh-msk", int64(50+round*10+i), int64(round*100+i+1))
			wantStatus(t, call(t, "POST", te.base+"/v1/reservations", testKey,
				fmt.Sprintf(`{"id":"r%d-h%d","channel":"site","lines":[{"sku":"%s","qty":%d}]}`, round, i, sku, 1+i%3)), 201, "")
			if i%4 == 0 {
				wantStatus(t, call(t, "POST", te.base+fmt.Sprintf("/v1/reservations/r%d-h%d/release", round, i), testKey, ""), 200, "")
			}
		}
		want := stateOf(t, te.eng)
		b, durable := te.eng.journalState()
		st, err := s.take(ctx, b, durable)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		_, data, err := b.LoadSnapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if string(data) != want {
			t.Fatalf("round %d: the snapshot at %d differs from the serving ledger's state", round, durable)
		}
		if round > 0 && st.Replayed != int(durable-last.LSN) {
			t.Errorf("round %d: replayed %d records, want the %d since the last snapshot", round, st.Replayed, durable-last.LSN)
		}
		if round > 0 && s.ledger == nil {
			t.Fatalf("round %d: the snapshotter dropped its ledger", round)
		}
		last = st
	}
	before := stateOf(t, te.eng)
	te.stop()
	te = startEngine(t, cfg, Deps{})
	if after := stateOf(t, te.eng); after != before {
		t.Fatalf("state after restart differs:\n got %s\nwant %s", after, before)
	}
}
