package cmlevents

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"stockd/adapters/onec/commerceml"
	"stockd/reservation"
)

// recorder is a Sink that keeps every message, and can be told to fail.
type recorder struct {
	mu      sync.Mutex
	batches [][]Message
	fail    error
}

func (r *recorder) Publish(_ context.Context, msgs []Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	batch := make([]Message, len(msgs))
	for i, m := range msgs {
		batch[i] = Message{Key: bytes.Clone(m.Key), Value: bytes.Clone(m.Value)}
	}
	r.batches = append(r.batches, batch)
	return nil
}

// events decodes every published message with reservation.DecodeEvent and checks
// that each key is the event's SKU.
func (r *recorder) events(tb testing.TB) []reservation.Event {
	tb.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []reservation.Event
	for _, b := range r.batches {
		for _, m := range b {
			ev, err := reservation.DecodeEvent(m.Value)
			if err != nil {
				tb.Fatalf("DecodeEvent(%s): %v", m.Value, err)
			}
			if string(m.Key) != ev.SKU {
				tb.Fatalf("key %q, event sku %q", m.Key, ev.SKU)
			}
			out = append(out, ev)
		}
	}
	return out
}

// ofType returns the events of one type.
func ofType(evs []reservation.Event, t reservation.EventType) []reservation.Event {
	var out []reservation.Event
	for _, ev := range evs {
		if ev.Type == t {
			out = append(out, ev)
		}
	}
	return out
}

// checkSeqs checks that seqs are contiguous from first and ids are "<source>:<seq>".
func checkSeqs(tb testing.TB, evs []reservation.Event, first uint64) {
	tb.Helper()
	for i, ev := range evs {
		if want := first + uint64(i); ev.Seq != want {
			tb.Fatalf("event %d: seq %d, want %d", i, ev.Seq, want)
		}
		if !strings.HasSuffix(ev.ID, ":"+itoa(ev.Seq)) || !strings.HasPrefix(ev.ID, ev.Source+":") {
			tb.Fatalf("event %d: id %q for source %q seq %d", i, ev.ID, ev.Source, ev.Seq)
		}
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// repoRoot walks up from the package directory to the directory holding go.mod.
func repoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("go.mod not found above the package directory")
		}
		dir = parent
	}
}

// samplesDir returns shared/samples/commerceml beside the repository. Missing: fatal
// under CI=true, skipped otherwise.
func samplesDir(tb testing.TB) string {
	tb.Helper()
	dir := filepath.Join(repoRoot(tb), "..", "shared", "samples", "commerceml")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("real CommerceML samples missing at %s: %v", dir, err)
		}
		tb.Skipf("real CommerceML samples not found at %s; skipping", dir)
	}
	return dir
}

// runImport reads paths with a fresh reader into a new Import and finishes it.
func runImport(tb testing.TB, cfg Config, store Store, sink Sink, now time.Time, paths ...string) (commerceml.Summary, Summary) {
	tb.Helper()
	ctx := context.Background()
	imp, err := NewImport(cfg, store, sink, now)
	if err != nil {
		tb.Fatalf("NewImport: %v", err)
	}
	r, err := commerceml.NewReader(commerceml.DefaultLimits())
	if err != nil {
		tb.Fatal(err)
	}
	rsum, err := commerceml.Import(ctx, r, paths, imp)
	if err != nil {
		tb.Fatalf("commerceml.Import: %v", err)
	}
	sum, err := imp.Finish(ctx)
	if err != nil {
		tb.Fatalf("Finish: %v", err)
	}
	return rsum, sum
}

// readDoc reads one in-memory document into imp.
func readDoc(tb testing.TB, imp *Import, name, doc string) {
	tb.Helper()
	r, err := commerceml.NewReader(commerceml.DefaultLimits())
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := r.Read(context.Background(), name, strings.NewReader(doc), imp); err != nil {
		tb.Fatalf("Read %s: %v", name, err)
	}
}

// offersDoc wraps offers in a package of catalog "cat" with the given mode attribute.
func offersDoc(generated, modeAttr, body string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<КоммерческаяИнформация ВерсияСхемы="2.08" ДатаФормирования="` + generated + `">
<ПакетПредложений` + modeAttr + `><Ид>cat#</Ид><ИдКаталога>cat</ИдКаталога><Предложения>
` + body + `
</Предложения></ПакетПредложений></КоммерческаяИнформация>`
}

// offer is one offer with per-warehouse cells (layout B) given as id=qty pairs.
func offer(id string, cells ...string) string {
	var b strings.Builder
	b.WriteString("<Предложение><Ид>" + id + "</Ид><Наименование>n</Наименование>")
	for _, c := range cells {
		wh, qty, _ := strings.Cut(c, "=")
		b.WriteString(`<Склад ИдСклада="` + wh + `" КоличествоНаСкладе="` + qty + `"/>`)
	}
	b.WriteString("</Предложение>\n")
	return b.String()
}

var errSinkDown = errors.New("sink down")

var importTime = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
