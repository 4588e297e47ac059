package engine

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenRefusesAJournalItCannotRead: damage in the middle of the
// journal (not a torn tail) stops Open with a message that names the file
// and says what to do; nothing is served from a partial state.
func TestOpenRefusesAJournalItCannotRead(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	te := startEngine(t, cfg, Deps{})
	for i := range 20 {
		setStock(t, te.eng, "sku-1", "wh-msk", int64(i+1), int64(i+1))
	}
	te.stop()
	segs, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil || len(segs) != 1 {
		t.Fatalf("segments = %v, %v", segs, err)
	}
	data, err := os.ReadFile(segs[0])
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/3] ^= 0xff // a record in the middle, acknowledged records after it
	if err := os.WriteFile(segs[0], data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Open(context.Background(), cfg, Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil {
		t.Fatal("Open on a journal damaged in the middle succeeded")
	}
	msg := err.Error()
	if !strings.Contains(msg, filepath.Base(segs[0])) {
		t.Fatalf("error does not name the damaged file: %v", err)
	}
	t.Logf("refused with: %v", err)
}
