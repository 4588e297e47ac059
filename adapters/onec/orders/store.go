package orders

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"

	"stockd/reservation"
)

// Store remembers which orders each 1C base (exchange account) took, so
// an order is served once. Implementations are safe for concurrent use.
type Store interface {
	// Exported reports whether account took the order.
	Exported(account, orderID string) bool
	// MarkExported records, durably before it returns, that account took
	// the orders.
	MarkExported(ctx context.Context, account string, orderIDs []string) error
	// Len is the number of entries.
	Len() int
	// Compact keeps only the entries keep accepts.
	Compact(keep func(account, orderID string) bool) error
	Close() error
}

// File format: an 8-byte magic, then records
//
//	u32 payload length | u32 CRC-32C of payload | payload
//	payload: u8 account length | account | order id
//
// A record that is short, too long or fails its CRC ends the log: it and
// everything after it are cut on open.
const (
	exportMagic = "STKEXP1\n"
	// MaxAccountBytes bounds an account (an exchange login).
	MaxAccountBytes = 255
	// maxExportRecord bounds one record's payload.
	maxExportRecord = 1 + MaxAccountBytes + reservation.MaxIDBytes
	// DefaultMaxExported bounds the entries of a FileStore.
	DefaultMaxExported = 1 << 22
)

// ErrStoreFull: the store holds MaxEntries entries even after compaction.
var ErrStoreFull = errors.New("orders: exported store full")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type exportKey struct{ account, id string }

// FileStore is a Store in an append-only file: the entries in memory,
// each MarkExported appended and fsynced once.
type FileStore struct {
	path       string
	maxEntries int

	mu      sync.Mutex
	f       *os.File
	entries map[exportKey]struct{}
	closed  bool
	// damaged: an append failed part way (a short write, a failed fsync),
	// so the log may end in a torn record that later appends would follow
	// and the next open would cut, with them; the log is rewritten from
	// entries before the next append
	damaged bool
}

var _ Store = (*FileStore)(nil)

// OpenFileStore opens or creates the log at path, cutting a torn tail;
// maxEntries 0 is DefaultMaxExported.
func OpenFileStore(path string, maxEntries int) (*FileStore, error) {
	if path == "" || maxEntries < 0 {
		return nil, fmt.Errorf("%w: file store needs a path and maxEntries ≥ 0", ErrInvalidConfig)
	}
	if maxEntries == 0 {
		maxEntries = DefaultMaxExported
	}
	s := &FileStore{path: path, maxEntries: maxEntries, entries: make(map[exportKey]struct{})}
	good, torn, err := s.read()
	if err != nil {
		return nil, err
	}
	if good == 0 || torn {
		if err := s.rewriteLocked(); err != nil {
			return nil, err
		}
		return s, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("orders: exported store: %w", err)
	}
	s.f = f
	return s, nil
}

// read loads the log: the length of its valid prefix and whether bytes
// follow it.
func (s *FileStore) read() (good int64, torn bool, err error) {
	f, err := os.Open(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("orders: exported store: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<16)
	magic := make([]byte, len(exportMagic))
	if n, err := io.ReadFull(r, magic); err != nil || string(magic) != exportMagic {
		if n == 0 || (err != nil && string(magic[:n]) == exportMagic[:n]) {
			return 0, n > 0, nil // empty, or torn inside the header
		}
		return 0, false, fmt.Errorf("orders: %s is not an exported-orders log", s.path)
	}
	good = int64(len(exportMagic))
	var hdr [8]byte
	buf := make([]byte, maxExportRecord)
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return good, !errors.Is(err, io.EOF), nil
		}
		n := binary.LittleEndian.Uint32(hdr[:4])
		if n < 2 || n > maxExportRecord {
			return good, true, nil
		}
		if _, err := io.ReadFull(r, buf[:n]); err != nil {
			return good, true, nil
		}
		p := buf[:n]
		if crc32.Checksum(p, castagnoli) != binary.LittleEndian.Uint32(hdr[4:]) || int(p[0])+1 >= len(p) {
			return good, true, nil
		}
		s.entries[exportKey{account: string(p[1 : 1+p[0]]), id: string(p[1+p[0]:])}] = struct{}{}
		good += int64(len(hdr)) + int64(n)
	}
}

func appendRecord(dst []byte, k exportKey) []byte {
	payload := make([]byte, 0, 1+len(k.account)+len(k.id))
	payload = append(payload, byte(len(k.account)))
	payload = append(payload, k.account...)
	payload = append(payload, k.id...)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(payload)))
	dst = binary.LittleEndian.AppendUint32(dst, crc32.Checksum(payload, castagnoli))
	return append(dst, payload...)
}

// Exported implements Store.
func (s *FileStore) Exported(account, orderID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.entries[exportKey{account, orderID}]
	return ok
}

// Len implements Store.
func (s *FileStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// MarkExported implements Store: one write and one fsync for all ids.
func (s *FileStore) MarkExported(ctx context.Context, account string, orderIDs []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(account) > MaxAccountBytes {
		return fmt.Errorf("%w: account longer than %d bytes", ErrInvalidConfig, MaxAccountBytes)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("orders: exported store closed")
	}
	var buf []byte
	var add []exportKey
	for _, id := range orderIDs {
		k := exportKey{account, id}
		if _, ok := s.entries[k]; ok || id == "" || len(id) > reservation.MaxIDBytes {
			continue
		}
		add = append(add, k)
		buf = appendRecord(buf, k)
	}
	if len(add) == 0 {
		return nil
	}
	if len(s.entries)+len(add) > s.maxEntries {
		return fmt.Errorf("%w: %d entries (MaxEntries %d)", ErrStoreFull, len(s.entries), s.maxEntries)
	}
	if s.damaged {
		if err := s.rewriteLocked(); err != nil {
			return fmt.Errorf("orders: exported store: rewrite after a failed append: %w", err)
		}
		s.damaged = false
	}
	_, err := s.f.Write(buf)
	if err == nil {
		err = s.f.Sync()
	}
	if err != nil {
		s.damaged = true
		if rerr := s.rewriteLocked(); rerr == nil { // the entries before this call, whole
			s.damaged = false
		}
		return fmt.Errorf("orders: exported store: %w", err)
	}
	for _, k := range add {
		s.entries[k] = struct{}{}
	}
	return nil
}

// Compact implements Store: the kept entries are written to a new file
// that replaces the log atomically.
func (s *FileStore) Compact(keep func(account, orderID string) bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("orders: exported store closed")
	}
	for k := range s.entries {
		if !keep(k.account, k.id) {
			delete(s.entries, k)
		}
	}
	return s.rewriteLocked()
}

// rewriteLocked writes the entries to path.tmp, fsyncs it, renames it over
// the log, fsyncs the directory and reopens the log for appending.
func (s *FileStore) rewriteLocked() error {
	buf := []byte(exportMagic)
	for k := range s.entries {
		buf = appendRecord(buf, k)
	}
	tmp := s.path + ".tmp"
	if err := writeSynced(tmp, buf); err != nil {
		return err
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return fmt.Errorf("orders: exported store: %w", err)
	}
	if dir, err := os.Open(filepath.Dir(s.path)); err == nil {
		err = dir.Sync()
		dir.Close()
		if err != nil {
			return fmt.Errorf("orders: exported store: sync directory: %w", err)
		}
	}
	if s.f != nil {
		s.f.Close()
	}
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("orders: exported store: %w", err)
	}
	s.f = f
	return nil
}

func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("orders: exported store: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("orders: exported store: %w", err)
	}
	return nil
}

// Close closes the log.
func (s *FileStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.f == nil {
		return nil
	}
	return s.f.Close()
}
