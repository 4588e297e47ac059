package orders

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestFileStoreRepairsAFailedAppend: an append that fails part way (here
// torn bytes left at the end and the descriptor gone) does not leave the
// log so that later marks follow garbage: the log is rewritten from what
// was marked, the next mark works, and a reopen reads every mark.
func TestFileStoreRepairsAFailedAppend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "exported.log")
	s, err := OpenFileStore(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.MarkExported(ctx, "ut11", []string{"A"}); err != nil {
		t.Fatal(err)
	}
	torn, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := torn.Write([]byte{0x05, 0x00, 'u'}); err != nil { // half a record, as a short write leaves
		t.Fatal(err)
	}
	torn.Close()
	s.mu.Lock()
	s.f.Close() // the next write fails
	s.mu.Unlock()
	if err := s.MarkExported(ctx, "ut11", []string{"B"}); err == nil {
		t.Fatal("a mark on a failed write succeeded")
	}
	if s.Exported("ut11", "B") {
		t.Fatal("a mark whose write failed is counted")
	}
	if err := s.MarkExported(ctx, "ut11", []string{"C"}); err != nil {
		t.Fatalf("the mark after a failed one: %v", err)
	}
	s.Close()
	s, err = OpenFileStore(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for id, want := range map[string]bool{"A": true, "B": false, "C": true} {
		if got := s.Exported("ut11", id); got != want {
			t.Errorf("after reopen %s exported %v, want %v", id, got, want)
		}
	}
}
