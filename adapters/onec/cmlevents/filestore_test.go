package cmlevents

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func missingSKUs(tb testing.TB, s Store, source, catalog string, present ...string) []string {
	tb.Helper()
	var got []string
	err := s.Missing(context.Background(), source, catalog, func(sku string) bool { return slices.Contains(present, sku) },
		func(o KnownOffer) error { got = append(got, o.SKU+"@"+strings.Join(o.Warehouses, "+")); return nil })
	if err != nil {
		tb.Fatalf("Missing: %v", err)
	}
	slices.Sort(got)
	return got
}

func TestFileStoreSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "onec-store.json")
	s, err := OpenFileStore(path, 100, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("a new store wrote its file before Flush: %v", err)
	}
	if err := s.Remember(ctx, "ut", "cat-1", []KnownOffer{{SKU: "A", Warehouses: []string{"msk"}}, {SKU: "B", Warehouses: []string{"spb"}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Remember(ctx, "ut", "cat-2", []KnownOffer{{SKU: "C"}}); err != nil {
		t.Fatal(err)
	}
	first, err := s.ReserveSeqs(ctx, "ut", 10)
	if err != nil || first != 101 {
		t.Fatalf("ReserveSeqs = %d, %v; want 101", first, err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	// Known after the flush, lost by the "crash" below.
	if err := s.Remember(ctx, "ut", "cat-1", []KnownOffer{{SKU: "D"}}); err != nil {
		t.Fatal(err)
	}

	r, err := OpenFileStore(path, 50, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := missingSKUs(t, r, "ut", "cat-1", "B"), []string{"A@msk"}; !slices.Equal(got, want) {
		t.Errorf("missing after reopen = %v, want %v", got, want)
	}
	if got, want := missingSKUs(t, r, "ut", "cat-2"), []string{"C@"}; !slices.Equal(got, want) {
		t.Errorf("other catalog after reopen = %v, want %v", got, want)
	}
	if got, err := r.ReserveSeqs(ctx, "ut", 1); err != nil || got != 111 {
		t.Errorf("seq after reopen = %d, %v; want 111 (saved last seq 110 > minSeq 50)", got, err)
	}

	// A clock reading past the saved seqs wins, for known and new sources.
	r2, err := OpenFileStore(path, 5000, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := r2.ReserveSeqs(ctx, "ut", 1); got != 5001 {
		t.Errorf("seq with minSeq 5000 = %d, want 5001", got)
	}
	if got, _ := r2.ReserveSeqs(ctx, "other", 1); got != 5001 {
		t.Errorf("new source seq with minSeq 5000 = %d, want 5001", got)
	}
}

func TestFileStoreFlushOnlyWhenChanged(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "store.json")
	s, err := OpenFileStore(path, 1, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("Flush of an unchanged new store wrote a file: %v", err)
	}
	if err := s.Forget(ctx, "ut", "cat", []string{"nothing"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(before, ' '), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil { // nothing changed since: the file stays as it is
		t.Fatal(err)
	}
	after, _ := os.ReadFile(path)
	if len(after) != len(before)+1 {
		t.Errorf("Flush without changes rewrote the file")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory has %d entries, want only the store (no temporary files)", len(entries))
	}
}

func TestFileStoreRefusesDamagedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.json")
	if err := os.WriteFile(path, []byte(`{"version":1,"catalogs":[{"source":`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := OpenFileStore(path, 1, 1000)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "move it away") {
		t.Fatalf("OpenFileStore of a damaged file = %v, want an error naming the file and the remedy", err)
	}
	if err := os.WriteFile(path, []byte(`{"version":2}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenFileStore(path, 1, 1000); err == nil || !strings.Contains(err.Error(), "version 2") {
		t.Fatalf("OpenFileStore of a future version = %v, want a version error", err)
	}
}
