package orders_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"stockd/adapters/onec/orders"
)

func TestFileStoreSurvivesATornTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "exported.log")
	s, err := orders.OpenFileStore(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.MarkExported(ctx, "ut11", []string{"L1", "ozon:1-1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkExported(ctx, "ut11", []string{"L2"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// A crash in the middle of the last append.
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, info.Size()-3); err != nil {
		t.Fatal(err)
	}
	s, err = orders.OpenFileStore(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for id, want := range map[string]bool{"L1": true, "ozon:1-1": true, "L2": false} {
		if got := s.Exported("ut11", id); got != want {
			t.Errorf("%s exported: got %v, want %v", id, got, want)
		}
	}
	if s.Exported("other", "L1") {
		t.Error("exported is per account")
	}
	// The cut tail is gone: new appends are read back.
	if err := s.MarkExported(ctx, "ut11", []string{"L2"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = orders.OpenFileStore(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Exported("ut11", "L2") || s.Len() != 3 {
		t.Errorf("after reopen: L2 %v, len %d, want true and 3", s.Exported("ut11", "L2"), s.Len())
	}
	s.Close()
}

func TestFileStoreCompactsAndIsBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "exported.log")
	s, err := orders.OpenFileStore(path, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.MarkExported(ctx, "ut11", []string{"a", "b", "c"}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkExported(ctx, "ut11", []string{"d"}); !errors.Is(err, orders.ErrStoreFull) {
		t.Fatalf("past MaxEntries: %v, want ErrStoreFull", err)
	}
	if err := s.Compact(func(_, id string) bool { return id == "b" }); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkExported(ctx, "ut11", []string{"d"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = orders.OpenFileStore(path, 3)
	if err != nil {
		t.Fatal(err)
	}
	if s.Exported("ut11", "a") || !s.Exported("ut11", "b") || !s.Exported("ut11", "d") || s.Len() != 2 {
		t.Errorf("after compaction and reopen: len %d", s.Len())
	}
}

func TestFileStoreRefusesAnotherFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "exported.log")
	if err := os.WriteFile(path, []byte("not an exported-orders log at all"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := orders.OpenFileStore(path, 0); err == nil {
		t.Fatal("opened a file that is not the store's")
	}
}
