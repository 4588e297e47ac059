package cmlevents

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// FileStore is a MemoryStore kept in one JSON file, so that the offers a
// full snapshot must list survive a restart of the engine. Changes are in
// memory until Flush, which replaces the file atomically (a temporary file,
// fsync, rename, fsync of the directory); call it after each exchange and
// at shutdown. A crash loses at most the knowledge gathered since the last
// Flush: a later snapshot then reports fewer missing offers, never more.
type FileStore struct {
	*MemoryStore
	path string

	flushMu sync.Mutex    // one Flush at a time
	changes atomic.Uint64 // Remember, Forget and ReserveSeqs calls so far
	saved   uint64        // changes at the last Flush; under flushMu
}

var _ Store = (*FileStore)(nil)

// OpenFileStore loads the store at path, or starts an empty one when the
// file does not exist. Every source's seqs continue after minSeq at least
// (the engine passes a clock reading), so that seqs reserved after the last
// Flush and before a crash are never handed out again.
func OpenFileStore(path string, minSeq uint64, maxKnownOffers int) (*FileStore, error) {
	s := &FileStore{path: path}
	raw, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		s.MemoryStore = NewMemoryStore(minSeq, maxKnownOffers)
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("cmlevents: open store: %w", err)
	}
	m, err := LoadMemoryStore(bytes.NewReader(raw), maxKnownOffers)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s: move it away to start with no known offers; the next full snapshots rebuild it)", err, path)
	}
	m.raiseSeqs(minSeq)
	s.MemoryStore = m
	return s, nil
}

// Path is the store's file.
func (s *FileStore) Path() string { return s.path }

// ReserveSeqs implements Store.
func (s *FileStore) ReserveSeqs(ctx context.Context, source string, n int) (uint64, error) {
	first, err := s.MemoryStore.ReserveSeqs(ctx, source, n)
	if err == nil {
		s.changes.Add(1)
	}
	return first, err
}

// Remember implements Store.
func (s *FileStore) Remember(ctx context.Context, source, catalog string, offers []KnownOffer) error {
	err := s.MemoryStore.Remember(ctx, source, catalog, offers)
	if err == nil {
		s.changes.Add(1)
	}
	return err
}

// Forget implements Store.
func (s *FileStore) Forget(ctx context.Context, source, catalog string, skus []string) error {
	err := s.MemoryStore.Forget(ctx, source, catalog, skus)
	if err == nil {
		s.changes.Add(1)
	}
	return err
}

// Flush writes the store to its file if it changed since the last Flush.
func (s *FileStore) Flush() error {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	changes := s.changes.Load()
	if changes == s.saved {
		return nil
	}
	var buf bytes.Buffer
	if err := s.MemoryStore.Save(&buf); err != nil {
		return fmt.Errorf("cmlevents: save store: %w", err)
	}
	if err := writeFileAtomic(s.path, buf.Bytes()); err != nil {
		return fmt.Errorf("cmlevents: save store: %w", err)
	}
	s.saved = changes
	return nil
}

// writeFileAtomic replaces path with data: readers see the old file or
// the new one, never a part.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	done = true
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
