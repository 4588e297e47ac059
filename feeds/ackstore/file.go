package ackstore

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
	"time"
)

// File format: an 8-byte magic, then records
//
//	u32 payload length | u32 CRC-32C of payload | payload
//	payload: version(1) kind flags uvarint-len channel, offer, warehouse
//	         varint qty, price, old price, acknowledged-at unix nanoseconds
//
// A record that is short, too long, fails its CRC or does not decode ends
// the log: it and everything after it are cut on open.
const (
	fileMagic     = "STKACK1\n"
	recordVersion = 1
	flagDeleted   = 1
	headerBytes   = 8
	// MaxRecordBytes bounds one record's payload.
	MaxRecordBytes = 3*MaxFieldBytes + 64
	// DefaultCompactRatio compacts a log grown past 4× its live size.
	DefaultCompactRatio = 4
	// MinCompactBytes is the size below which a log is never compacted.
	MinCompactBytes = 1 << 20
	// DefaultMaxEntries bounds the live keys of a file store.
	DefaultMaxEntries = 1 << 23
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// FileConfig configures a File store.
type FileConfig struct {
	Path string
	// CompactRatio: the log is rewritten with only live entries when it
	// is larger than CompactRatio × their size (and MinCompactBytes);
	// ≥ 2. Compaction also runs on open when the log is over the ratio
	// or had a torn tail.
	CompactRatio int
	// MaxEntries bounds the live keys; a Put past it fails with ErrFull.
	MaxEntries int
}

// File is the file store: the live entries in memory, each Put appended
// and fsynced. Safe for concurrent use.
type File struct {
	cfg FileConfig

	mu        sync.Mutex
	f         *os.File
	size      int64 // bytes in the file
	liveBytes int64 // bytes the live entries take encoded
	live      map[Key]liveValue
	closed    bool
	stats     FileStats
}

type liveValue struct {
	Value
	size int64
}

// FileStats are counters for tests and metrics.
type FileStats struct {
	Compactions int
	TornBytes   int64 // bytes cut from the tail on open
	Records     int64 // records read on open
}

// OpenFile opens or creates the log, cuts a torn tail and compacts it if
// it is over the ratio.
func OpenFile(cfg FileConfig) (*File, error) {
	if cfg.Path == "" {
		return nil, errors.New("ackstore: no file path")
	}
	if cfg.CompactRatio == 0 {
		cfg.CompactRatio = DefaultCompactRatio
	}
	if cfg.MaxEntries == 0 {
		cfg.MaxEntries = DefaultMaxEntries
	}
	if cfg.CompactRatio < 2 || cfg.MaxEntries < 1 {
		return nil, errors.New("ackstore: CompactRatio must be ≥ 2 and MaxEntries ≥ 1")
	}
	s := &File{cfg: cfg, live: make(map[Key]liveValue)}
	good, torn, err := s.read()
	if err != nil {
		return nil, err
	}
	s.stats.TornBytes = torn
	s.size = good
	if torn > 0 || s.overRatio() {
		if err := s.compactLocked(); err != nil {
			return nil, err
		}
		return s, nil
	}
	f, err := os.OpenFile(cfg.Path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("ackstore: %w", err)
	}
	s.f = f
	return s, nil
}

// read loads the log; it returns the length of its valid prefix and the
// number of bytes after it.
func (s *File) read() (good, torn int64, err error) {
	f, err := os.Open(s.cfg.Path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, 1, nil // create through compaction
	}
	if err != nil {
		return 0, 0, fmt.Errorf("ackstore: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, 0, fmt.Errorf("ackstore: %w", err)
	}
	r := bufio.NewReaderSize(f, 1<<16)
	magic := make([]byte, headerBytes)
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != fileMagic {
		if st.Size() == 0 || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return 0, max(st.Size(), 1), nil
		}
		return 0, 0, fmt.Errorf("ackstore: %s is not an acknowledgement log", s.cfg.Path)
	}
	good = headerBytes
	var hdr [8]byte
	buf := make([]byte, MaxRecordBytes)
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			break
		}
		n := binary.LittleEndian.Uint32(hdr[:4])
		if n == 0 || n > MaxRecordBytes {
			break
		}
		payload := buf[:n]
		if _, err := io.ReadFull(r, payload); err != nil {
			break
		}
		if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(hdr[4:]) {
			break
		}
		e, ok := decodeRecord(payload)
		if !ok {
			break
		}
		s.applyLocked(e, int64(len(hdr))+int64(n))
		s.stats.Records++
		good += int64(len(hdr)) + int64(n)
	}
	return good, st.Size() - good, nil
}

func (s *File) applyLocked(e Entry, size int64) {
	if old, ok := s.live[e.Key]; ok {
		s.liveBytes -= old.size
		delete(s.live, e.Key)
	}
	if e.Deleted {
		return
	}
	s.live[e.Key] = liveValue{Value: e.Value, size: size}
	s.liveBytes += size
}

func (s *File) overRatio() bool {
	return s.size > MinCompactBytes && s.size > int64(s.cfg.CompactRatio)*s.liveBytes
}

// Load implements Store.
func (s *File) Load(ctx context.Context, channel string, fn func(Entry) error) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	var out []Entry
	for k, v := range s.live {
		if k.Channel == channel {
			out = append(out, Entry{Key: k, Value: v.Value})
		}
	}
	s.mu.Unlock()
	for i, e := range out {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// Put implements Store: one write and one fsync per call.
func (s *File) Put(ctx context.Context, entries []Entry) error {
	if err := checkBatch(entries); err != nil {
		return err
	}
	if len(entries) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	buf := make([]byte, 0, len(entries)*96)
	sizes := make([]int64, len(entries))
	for i, e := range entries {
		before := len(buf)
		buf = appendRecord(buf, e)
		sizes[i] = int64(len(buf) - before)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	added := 0
	for _, e := range entries {
		if _, ok := s.live[e.Key]; !ok && !e.Deleted {
			added++
		}
	}
	if len(s.live)+added > s.cfg.MaxEntries {
		return fmt.Errorf("%w: %d keys", ErrFull, s.cfg.MaxEntries)
	}
	if _, err := s.f.Write(buf); err != nil {
		return s.failLocked(err)
	}
	if err := s.f.Sync(); err != nil {
		return s.failLocked(err)
	}
	s.size += int64(len(buf))
	for i, e := range entries {
		s.applyLocked(e, sizes[i])
	}
	if s.overRatio() {
		return s.compactLocked()
	}
	return nil
}

// failLocked closes the store after a failed write: what was written is
// unknown, and the next open cuts whatever is torn.
func (s *File) failLocked(err error) error {
	s.closed = true
	s.f.Close()
	return fmt.Errorf("ackstore: write %s: %w", s.cfg.Path, err)
}

// compactLocked writes the live entries to a new file and renames it over
// the log.
func (s *File) compactLocked() error {
	tmp := s.cfg.Path + ".compact"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("ackstore: compact: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<16)
	size := int64(len(fileMagic))
	_, err = w.WriteString(fileMagic)
	rec := make([]byte, 0, MaxRecordBytes+8)
	for k, v := range s.live {
		if err != nil {
			break
		}
		rec = appendRecord(rec[:0], Entry{Key: k, Value: v.Value})
		_, err = w.Write(rec)
		size += int64(len(rec))
	}
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, s.cfg.Path)
	}
	if err == nil {
		err = syncDir(filepath.Dir(s.cfg.Path))
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("ackstore: compact: %w", err)
	}
	if s.f != nil {
		s.f.Close()
	}
	s.f, err = os.OpenFile(s.cfg.Path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		s.closed = true
		return fmt.Errorf("ackstore: reopen after compaction: %w", err)
	}
	s.size = size
	s.liveBytes = size - int64(len(fileMagic))
	s.stats.Compactions++
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Stats returns the counters.
func (s *File) Stats() FileStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Size is the log's size in bytes and the live entries' share of it.
func (s *File) Size() (file, live int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size, s.liveBytes
}

// Close implements Store.
func (s *File) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.f.Close()
}

func appendRecord(dst []byte, e Entry) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0)
	flags := byte(0)
	if e.Deleted {
		flags = flagDeleted
	}
	dst = append(dst, recordVersion, byte(e.Kind), flags)
	for _, s := range []string{e.Channel, e.Offer, e.Warehouse} {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	at := int64(0)
	if !e.At.IsZero() {
		at = e.At.UnixNano()
	}
	for _, v := range []int64{e.Qty, e.Price, e.OldPrice, at} {
		dst = binary.AppendVarint(dst, v)
	}
	payload := dst[start+8:]
	binary.LittleEndian.PutUint32(dst[start:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(dst[start+4:], crc32.Checksum(payload, castagnoli))
	return dst
}

func decodeRecord(p []byte) (Entry, bool) {
	if len(p) < 3 || p[0] != recordVersion {
		return Entry{}, false
	}
	e := Entry{Key: Key{Kind: Kind(p[1])}, Deleted: p[2]&flagDeleted != 0}
	p = p[3:]
	var fields [3]string
	for i := range fields {
		n, k := binary.Uvarint(p)
		if k <= 0 || n > MaxFieldBytes || uint64(len(p)-k) < n {
			return Entry{}, false
		}
		fields[i] = string(p[k : k+int(n)])
		p = p[k+int(n):]
	}
	e.Channel, e.Offer, e.Warehouse = fields[0], fields[1], fields[2]
	var vals [4]int64
	for i := range vals {
		v, k := binary.Varint(p)
		if k <= 0 {
			return Entry{}, false
		}
		vals[i] = v
		p = p[k:]
	}
	if len(p) != 0 {
		return Entry{}, false
	}
	e.Qty, e.Price, e.OldPrice = vals[0], vals[1], vals[2]
	if vals[3] != 0 {
		e.At = time.Unix(0, vals[3]).UTC()
	}
	if e.Validate() != nil {
		return Entry{}, false
	}
	return e, true
}
