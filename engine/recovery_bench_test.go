package engine

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"stockd/engine/journal"
	"stockd/engine/journal/filejournal"
	"stockd/reservation"
)

// BenchmarkRecovery measures Open-time recovery of the file journal: a
// snapshot of 1,000,000 SKUs in two warehouses, then 1,000,000 journal
// records after it (holds and releases). Target ≤ 10 s.
//
//	go test -run '^$' -bench BenchmarkRecovery -benchtime 1x ./engine/
func BenchmarkRecovery(b *testing.B) {
	const skus, records = 1_000_000, 1_000_000
	dir := b.TempDir()
	lcfg := reservation.Config{Channels: []reservation.ChannelConfig{{Name: "site", Warehouses: []string{"wh-1", "wh-2"},
		Strategy: reservation.StrategyPriority, AllowSplit: true}}, Limits: reservation.DefaultLimits()}
	lcfg.Limits.MaxSKUs = 2 * skus
	buildRecoveryJournal(b, dir, lcfg, skus, records)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		j, err := filejournal.Open(context.Background(), dir, filejournal.DefaultOptions())
		if err != nil {
			b.Fatal(err)
		}
		l, err := recoverLedger(context.Background(), j, lcfg, log)
		if err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		if l.SKUCount() != skus || l.Seq() != uint64(2*skus+records) {
			b.Fatalf("recovered %d SKUs at seq %d", l.SKUCount(), l.Seq())
		}
		j.Close()
		b.ReportMetric(took.Seconds(), "recovery-s")
		b.ReportMetric(float64(records)/took.Seconds(), "records/s")
	}
}

// buildRecoveryJournal writes stock for skus SKUs in two warehouses, a
// snapshot of it, then records more records of holds and releases.
func buildRecoveryJournal(b *testing.B, dir string, lcfg reservation.Config, skus, records int) {
	b.Helper()
	ctx := context.Background()
	j, err := filejournal.Open(ctx, dir, filejournal.DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	l, err := reservation.New(lcfg)
	if err != nil {
		b.Fatal(err)
	}
	var fx reservation.Effects
	w := &batchWriter{j: j}
	at := time.Unix(1_700_000_000, 0)
	for i := range skus {
		for wh, name := range []string{"wh-1", "wh-2"} {
			ev := reservation.Event{V: 1, ID: fmt.Sprintf("e%d-%d", i, wh), Source: "bench", Seq: uint64(2*i + wh + 1), At: at,
				Type: reservation.EventStockSet, SKU: fmt.Sprintf("sku-%d", i), Warehouse: name, Qty: 100}
			fx.Reset()
			if _, err := l.ApplyEvent(&ev, reservation.Source{Topic: "onec.events", Partition: 0, Offset: int64(2*i + wh)}, &fx); err != nil {
				b.Fatal(err)
			}
			w.add(b, &fx)
		}
	}
	w.flush(b)
	if err := j.SaveSnapshot(ctx, l.Seq(), l.Snapshot()); err != nil {
		b.Fatal(err)
	}
	appendHoldRecords(b, w, l, "h", at.Add(time.Hour), skus, 0, records)
	w.flush(b)
	if got, want := j.LastLSN(), uint64(2*skus+records); got != want || l.Seq() != want {
		b.Fatalf("journal ends at %d, ledger at %d, want %d", got, l.Seq(), want)
	}
}

// batchWriter appends records to the journal in groups of 4096.
type batchWriter struct {
	j    journal.Backend
	recs [][]byte
}

func (w *batchWriter) add(b *testing.B, fx *reservation.Effects) {
	for i := range fx.Records {
		w.recs = append(w.recs, reservation.MarshalRecord(&fx.Records[i]))
	}
	if len(w.recs) >= 4096 {
		w.flush(b)
	}
}

func (w *batchWriter) flush(b *testing.B) {
	if len(w.recs) == 0 {
		return
	}
	if err := w.j.WriteBatch(context.Background(), w.j.LastLSN()+1, w.recs); err != nil {
		b.Fatal(err)
	}
	w.recs = w.recs[:0]
}
