package filejournal

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"stockd/engine/journal"
)

// Options configures a file journal. Every field must be set;
// DefaultOptions gives the production values.
type Options struct {
	// MaxSegmentBytes is the size past which the next group goes to a new
	// segment. A single group larger than this gets a segment of its own.
	MaxSegmentBytes int64
	// MaxRecordBytes bounds one record's payload; WriteBatch refuses larger
	// records with an error wrapping journal.ErrTooLarge.
	MaxRecordBytes int
	// MaxSnapshotsKept is how many snapshot files stay after SaveSnapshot
	// (newest first). Two lets LoadSnapshot fall back to the previous one if
	// the newest is damaged, provided the journal still holds the records
	// after it (truncate through the previous snapshot's LSN to keep that).
	MaxSnapshotsKept int
	// ReadBufferBytes is the buffer used to read segments in Open and Replay.
	ReadBufferBytes int
	// MaxRetainedWriteBufferBytes bounds the group-encoding buffer kept
	// between writes; a larger one is dropped after use.
	MaxRetainedWriteBufferBytes int
	// PreallocateBytes is the chunk by which the active segment is extended
	// with written zeros, ahead of the groups: the group that passes the
	// preallocated end writes the zeros after its own bytes and its
	// fdatasync makes them durable; later groups then overwrite blocks
	// inside the file size and their fdatasync commits data only, no
	// file-system metadata. The file grows to the next multiple of
	// PreallocateBytes past the group's end, never past MaxSegmentBytes
	// unless the group itself goes further. The extending group's extra
	// time grows with the chunk (about 1 ms for 256 KiB, 10-15 ms for 4 MiB
	// here). 0 turns preallocation off: every group appends. At most
	// MaxPreallocateBytes.
	PreallocateBytes int64
	// FileMode and DirMode are the permissions of new files and of the
	// directory when Open creates it.
	FileMode os.FileMode
	DirMode  os.FileMode
}

// MaxPreallocateBytes bounds Options.PreallocateBytes.
const MaxPreallocateBytes = 1 << 30

// DefaultOptions returns the production options.
func DefaultOptions() Options {
	return Options{
		MaxSegmentBytes:             64 << 20,
		MaxRecordBytes:              16 << 20,
		MaxSnapshotsKept:            2,
		ReadBufferBytes:             256 << 10,
		MaxRetainedWriteBufferBytes: 8 << 20,
		PreallocateBytes:            256 << 10,
		FileMode:                    0o644,
		DirMode:                     0o755,
	}
}

func (o Options) validate() error {
	if o.MaxSegmentBytes <= 0 || o.MaxRecordBytes <= 0 || o.MaxRecordBytes > maxFrameRecordBytes ||
		o.MaxSnapshotsKept < 1 || o.ReadBufferBytes < headerBytes || o.MaxRetainedWriteBufferBytes < 0 ||
		o.PreallocateBytes < 0 || o.PreallocateBytes > MaxPreallocateBytes || o.FileMode == 0 || o.DirMode == 0 {
		return fmt.Errorf("filejournal: invalid options %+v", o)
	}
	return nil
}

// segment is one segment file. size counts its durable, validated bytes:
// final for every segment but the last, which grows with each write. The
// last segment's file may be longer (its preallocated zeros); size never
// counts them.
type segment struct {
	base uint64 // LSN of its first record
	path string
	size int64
}

// Journal is a journal.Backend over a directory. See the package doc.
//
// Locks, in acquisition order: writeMu (WriteBatch, Close), retainMu (Replay
// shares it, Truncate and Close take it alone), snapMu (snapshot files), mu (the
// segment list, lastLSN, closed: held briefly, never across I/O except the
// directory listing in Open).
type Journal struct {
	dir  string
	opts Options
	lock *os.File // holds the flock on LOCK

	writeMu    sync.Mutex
	active     *os.File // last segment, open for writing
	activeSize int64    // used bytes of active: its frames
	// preallocEnd is the size of the active file: [activeSize, preallocEnd)
	// holds written zeros made durable (see preallocate).
	preallocEnd int64
	zeros       []byte // a zero buffer for preallocate, made on first use
	writeBuf    []byte
	failed      error // a write or sync failed: no more writes on this handle

	retainMu sync.RWMutex
	snapMu   sync.Mutex

	mu       sync.Mutex
	segments []segment // sorted by base; never empty while open
	lastLSN  uint64
	closed   bool
	report   OpenReport
}

var _ journal.Backend = (*Journal)(nil)

// Open opens (creating if needed) the journal in dir, takes its lock,
// validates every segment, cuts a torn tail, and checks the snapshots.
// It fails with a *CorruptError (errors.Is ErrCorrupt) on damage it must not
// repair and with ErrLocked when the directory is in use.
func Open(ctx context.Context, dir string, opts Options) (*Journal, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, opts.DirMode); err != nil {
		return nil, fmt.Errorf("filejournal: create directory: %w", err)
	}
	lock, err := lockDir(dir, opts.FileMode)
	if err != nil {
		return nil, err
	}
	j := &Journal{dir: dir, opts: opts, lock: lock}
	if err := j.load(ctx); err != nil {
		j.closeFiles()
		return nil, err
	}
	return j, nil
}

// load builds the journal state from the directory.
func (j *Journal) load(ctx context.Context) error {
	listing, err := listDir(j.dir)
	if err != nil {
		return err
	}
	for _, tmp := range listing.temps {
		if err := os.Remove(filepath.Join(j.dir, tmp)); err != nil {
			return fmt.Errorf("filejournal: remove leftover %s: %w", tmp, err)
		}
		j.report.RemovedTempFiles = append(j.report.RemovedTempFiles, tmp)
	}
	if len(listing.segments) == 0 {
		if len(listing.snapshots) > 0 {
			return &CorruptError{Path: j.dir, Offset: -1,
				Reason: fmt.Sprintf("snapshot %s exists but no segment file", listing.snapshots[len(listing.snapshots)-1].name),
				Action: actionMissing}
		}
		return j.createFirstSegment()
	}
	j.segments = listing.segments
	for i := range j.segments[:len(j.segments)-1] {
		if err := j.validateSealed(ctx, i); err != nil {
			return err
		}
	}
	if err := j.recoverLast(ctx); err != nil {
		return err
	}
	if err := j.checkSnapshots(listing.snapshots); err != nil {
		return err
	}
	last := &j.segments[len(j.segments)-1]
	f, err := os.OpenFile(last.path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("filejournal: open %s for writing: %w", last.path, err)
	}
	j.active, j.activeSize, j.preallocEnd = f, last.size, last.size
	j.report.Segments = len(j.segments)
	j.report.FirstLSN, j.report.LastLSN = j.segments[0].base, j.lastLSN
	return syncDir(j.dir)
}

func (j *Journal) createFirstSegment() error {
	path := segmentPath(j.dir, 1)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, j.opts.FileMode)
	if err != nil {
		return fmt.Errorf("filejournal: create %s: %w", path, err)
	}
	if err := syncDir(j.dir); err != nil {
		_ = f.Close()
		return err
	}
	j.segments = []segment{{base: 1, path: path}}
	j.active, j.activeSize, j.preallocEnd, j.lastLSN = f, 0, 0, 0
	j.report.Segments, j.report.FirstLSN, j.report.Created = 1, 1, true
	return nil
}

// validateSealed checks segment i (not the last): every frame valid, ending
// exactly at the end of the file, followed by the next segment's first LSN.
func (j *Journal) validateSealed(ctx context.Context, i int) error {
	seg := &j.segments[i]
	next := j.segments[i+1]
	last, size, bad, err := j.scanSegment(ctx, seg)
	if err != nil {
		return err
	}
	var fileSize int64 // > size: a zero tail to trim
	if bad != nil {
		zero, n, err := zeroTailAt(seg.path, bad.offset)
		if err != nil {
			return err
		}
		if !zero {
			return &CorruptError{Path: seg.path, Offset: bad.offset,
				Reason: fmt.Sprintf("bad frame in a sealed segment (expected LSN %d): %s", bad.expectLSN, bad.reason),
				Action: actionRestore}
		}
		fileSize = n
	}
	if last+1 != next.base {
		return &CorruptError{Path: next.path, Offset: -1,
			Reason: fmt.Sprintf("segment starts at LSN %d but %s ends at LSN %d", next.base, filepath.Base(seg.path), last),
			Action: actionMissing}
	}
	seg.size = size
	if fileSize > size {
		return j.trimZeroTail(seg.path, size, fileSize)
	}
	return nil
}

// recoverLast validates the last segment, trims a preallocated zero tail
// and cuts a torn tail.
func (j *Journal) recoverLast(ctx context.Context) error {
	seg := &j.segments[len(j.segments)-1]
	last, size, bad, err := j.scanSegment(ctx, seg)
	if err != nil {
		return err
	}
	seg.size, j.lastLSN = size, last
	if bad == nil {
		return nil
	}
	zero, fileSize, err := zeroTailAt(seg.path, bad.offset)
	if err != nil {
		return err
	}
	if zero {
		return j.trimZeroTail(seg.path, bad.offset, fileSize)
	}
	f, err := os.OpenFile(seg.path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("filejournal: open %s: %w", seg.path, err)
	}
	defer f.Close()
	verdict, err := judgeTail(f, fileSize, bad)
	if err != nil {
		return err
	}
	if !verdict.cut {
		return &CorruptError{Path: seg.path, Offset: bad.offset,
			Reason: fmt.Sprintf("bad frame (expected LSN %d: %s) followed by a valid frame of a later write group (LSN %d at offset %d)",
				bad.expectLSN, bad.reason, verdict.laterLSN, verdict.laterOffset),
			Action: actionRestore}
	}
	if err := truncateDurably(f, bad.offset); err != nil {
		return fmt.Errorf("filejournal: cut torn tail: %w", err)
	}
	j.report.Cut = &TailCut{Segment: seg.path, Offset: bad.offset, Bytes: fileSize - bad.offset,
		FirstLSN: bad.expectLSN, Reason: bad.reason, TornRecords: verdict.tornLSNs}
	return nil
}

// scanSegment reads a whole segment. It returns the LSN of its last good
// record (base-1 if none), the offset after it, and the first bad frame
// (nil if the file ends exactly after a good frame).
func (j *Journal) scanSegment(ctx context.Context, seg *segment) (uint64, int64, *frameError, error) {
	f, err := os.Open(seg.path)
	if err != nil {
		return 0, 0, nil, fmt.Errorf("filejournal: open %s: %w", seg.path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return 0, 0, nil, fmt.Errorf("filejournal: stat %s: %w", seg.path, err)
	}
	fr := newFrameReader(f, info.Size(), seg.base, j.opts.ReadBufferBytes)
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return 0, 0, nil, err
			}
		}
		_, _, err := fr.next()
		var bad *frameError
		switch {
		case err == io.EOF:
			return fr.expect - 1, fr.offset, nil, nil
		case errors.As(err, &bad):
			return fr.expect - 1, fr.offset, bad, nil
		case err != nil:
			return 0, 0, nil, fmt.Errorf("filejournal: read %s: %w", seg.path, err)
		}
	}
}

// WriteBatch implements journal.Backend: one pwrite of the encoded group,
// then one fdatasync; between them, when the group passes the preallocated
// end of the segment, the zeros that extend it (see preallocate). After a failed
// write or sync the journal refuses further writes; reopen it to recover.
func (j *Journal) WriteBatch(ctx context.Context, firstLSN uint64, recs [][]byte) error {
	j.writeMu.Lock()
	defer j.writeMu.Unlock()
	if err := j.writableLocked(ctx, firstLSN); err != nil {
		return err
	}
	if len(recs) == 0 {
		return nil
	}
	buf := j.writeBuf[:0]
	for i, rec := range recs {
		if len(rec) > j.opts.MaxRecordBytes {
			return fmt.Errorf("%w: record LSN %d has %d bytes (MaxRecordBytes %d)",
				journal.ErrTooLarge, firstLSN+uint64(i), len(rec), j.opts.MaxRecordBytes)
		}
		buf = appendFrame(buf, firstLSN+uint64(i), uint32(i), rec)
	}
	if cap(buf) <= j.opts.MaxRetainedWriteBufferBytes {
		j.writeBuf = buf
	} else {
		j.writeBuf = nil
	}
	if j.activeSize > 0 && j.activeSize+int64(len(buf)) > j.opts.MaxSegmentBytes {
		if err := j.rotate(firstLSN); err != nil {
			return err
		}
	}
	if err := j.writeAt(buf, j.activeSize); err != nil {
		return err
	}
	preallocEnd, err := j.preallocate(j.activeSize + int64(len(buf)))
	if err != nil {
		return err
	}
	if err := j.datasync(); err != nil {
		return err
	}
	j.activeSize += int64(len(buf))
	j.preallocEnd = max(preallocEnd, j.activeSize)
	j.mu.Lock()
	j.lastLSN = firstLSN + uint64(len(recs)) - 1
	j.segments[len(j.segments)-1].size = j.activeSize
	j.mu.Unlock()
	return nil
}

func (j *Journal) writableLocked(ctx context.Context, firstLSN uint64) error {
	if j.failed != nil {
		return fmt.Errorf("filejournal: %w: writes refused after an earlier failure (%w); reopen the journal",
			journal.ErrUnavailable, j.failed)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	j.mu.Lock()
	closed, last := j.closed, j.lastLSN
	j.mu.Unlock()
	if closed {
		return journal.ErrClosed
	}
	if firstLSN != last+1 {
		return fmt.Errorf("%w: write at %d, last LSN %d", journal.ErrLSN, firstLSN, last)
	}
	return nil
}

// rotate seals the active segment (trimmed to its frames) and starts a new
// one whose first record is base. The directory is synced before any record
// goes into it, so an acknowledged record never sits in a file whose name a
// crash could lose.
func (j *Journal) rotate(base uint64) error {
	if err := j.trimActive(); err != nil {
		return err
	}
	path := segmentPath(j.dir, base)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, j.opts.FileMode)
	if err != nil {
		return fmt.Errorf("filejournal: create segment: %w", err)
	}
	if err := syncDir(j.dir); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return err
	}
	old := j.active
	j.active, j.activeSize, j.preallocEnd = f, 0, 0
	j.mu.Lock()
	j.segments = append(j.segments, segment{base: base, path: path})
	j.mu.Unlock()
	if err := old.Close(); err != nil {
		return fmt.Errorf("filejournal: close %s: %w", old.Name(), err)
	}
	return nil
}

// Replay implements journal.Backend. It reads the segments that hold
// fromLSN onwards, checking every frame again.
func (j *Journal) Replay(ctx context.Context, fromLSN uint64, fn func(lsn uint64, rec []byte) error) error {
	j.retainMu.RLock()
	defer j.retainMu.RUnlock()
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return journal.ErrClosed
	}
	segs := slices.Clone(j.segments)
	last := j.lastLSN
	j.mu.Unlock()

	fromLSN = max(fromLSN, 1)
	if fromLSN > last {
		return nil
	}
	if fromLSN < segs[0].base {
		return fmt.Errorf("%w: replay from %d, first retained LSN %d", journal.ErrTruncated, fromLSN, segs[0].base)
	}
	i := sort.Search(len(segs), func(i int) bool { return segs[i].base > fromLSN }) - 1
	for ; i < len(segs); i++ {
		done, err := j.replaySegment(ctx, segs[i], fromLSN, last, fn)
		if err != nil || done {
			return err
		}
	}
	return nil
}

// replaySegment replays the records of one segment within [from, last] and
// reports whether last was reached.
func (j *Journal) replaySegment(ctx context.Context, seg segment, from, last uint64,
	fn func(lsn uint64, rec []byte) error) (bool, error) {
	f, err := os.Open(seg.path)
	if err != nil {
		return false, fmt.Errorf("filejournal: open %s: %w", seg.path, err)
	}
	defer f.Close()
	fr := newFrameReader(f, seg.size, seg.base, j.opts.ReadBufferBytes)
	for n := 0; ; n++ {
		if n%256 == 0 {
			if err := ctx.Err(); err != nil {
				return false, err
			}
		}
		lsn, rec, err := fr.next()
		var bad *frameError
		switch {
		case err == io.EOF:
			return false, nil
		case errors.As(err, &bad):
			return false, &CorruptError{Path: seg.path, Offset: bad.offset,
				Reason: fmt.Sprintf("damaged since open (expected LSN %d): %s", bad.expectLSN, bad.reason),
				Action: actionRestore}
		case err != nil:
			return false, fmt.Errorf("filejournal: read %s: %w", seg.path, err)
		}
		if lsn < from {
			continue
		}
		if err := fn(lsn, rec); err != nil {
			return false, err
		}
		if lsn == last {
			return true, nil
		}
	}
}

// Truncate implements journal.Backend: it removes, oldest first, every
// segment but the last whose records are all ≤ throughLSN.
func (j *Journal) Truncate(ctx context.Context, throughLSN uint64) error {
	j.retainMu.Lock()
	defer j.retainMu.Unlock()
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return journal.ErrClosed
	}
	if throughLSN > j.lastLSN {
		defer j.mu.Unlock()
		return fmt.Errorf("%w: truncate through %d, last LSN %d", journal.ErrLSN, throughLSN, j.lastLSN)
	}
	var doomed []string
	for i := 0; i+1 < len(j.segments) && j.segments[i+1].base-1 <= throughLSN; i++ {
		doomed = append(doomed, j.segments[i].path)
	}
	j.mu.Unlock()
	for _, path := range doomed {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("filejournal: remove %s: %w", path, err)
		}
		j.mu.Lock()
		j.segments = j.segments[1:]
		j.mu.Unlock()
	}
	if len(doomed) == 0 {
		return nil
	}
	return syncDir(j.dir)
}

// LastLSN implements journal.Backend.
func (j *Journal) LastLSN() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.lastLSN
}

// Report describes what Open found and did.
func (j *Journal) Report() OpenReport {
	j.mu.Lock()
	defer j.mu.Unlock()
	r := j.report
	r.ZeroTails = slices.Clone(r.ZeroTails)
	r.CorruptSnapshots = slices.Clone(r.CorruptSnapshots)
	r.RemovedTempFiles = slices.Clone(r.RemovedTempFiles)
	return r
}

// Close implements journal.Backend: it trims the active segment's
// preallocated zeros (unless a write failed: then Open sorts the tail out),
// closes the files and releases the directory lock.
func (j *Journal) Close() error {
	j.writeMu.Lock()
	defer j.writeMu.Unlock()
	// a Replay or a Truncate running now finishes first: a Truncate still
	// removing segments after the lock is released could remove one a new
	// Open of the directory has listed
	j.retainMu.Lock()
	defer j.retainMu.Unlock()
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return journal.ErrClosed
	}
	j.closed = true
	j.mu.Unlock()
	var trimErr error
	if j.failed == nil {
		trimErr = j.trimActive()
	}
	return errors.Join(trimErr, j.closeFiles())
}

func (j *Journal) closeFiles() error {
	var errs []error
	if j.active != nil {
		errs = append(errs, j.active.Close())
	}
	errs = append(errs, unlockDir(j.lock))
	return errors.Join(errs...)
}

// segmentPath names the segment whose first record is base.
func segmentPath(dir string, base uint64) string {
	return filepath.Join(dir, fmt.Sprintf("%020d.log", base))
}

// parseLSNName parses "<20 digits><suffix>".
func parseLSNName(name, suffix string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, suffix)
	if !ok || len(digits) != 20 {
		return 0, false
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	return n, err == nil
}

type snapshotFile struct {
	lsn  uint64
	name string
}

type dirListing struct {
	segments  []segment      // by base
	snapshots []snapshotFile // by LSN, oldest first
	temps     []string
}

func listDir(dir string) (dirListing, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return dirListing{}, fmt.Errorf("filejournal: list %s: %w", dir, err)
	}
	var l dirListing
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() {
			continue
		}
		if base, ok := parseLSNName(name, ".log"); ok && base > 0 {
			l.segments = append(l.segments, segment{base: base, path: filepath.Join(dir, name)})
		} else if lsn, ok := parseLSNName(name, ".snap"); ok {
			l.snapshots = append(l.snapshots, snapshotFile{lsn: lsn, name: name})
		} else if strings.HasSuffix(name, ".tmp") {
			l.temps = append(l.temps, name)
		}
	}
	slices.SortFunc(l.segments, func(a, b segment) int { return cmp.Compare(a.base, b.base) })
	slices.SortFunc(l.snapshots, func(a, b snapshotFile) int { return cmp.Compare(a.lsn, b.lsn) })
	return l, nil
}

// syncDir fsyncs a directory so that creations, renames and removals in it
// survive a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("filejournal: open directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("filejournal: fsync directory %s: %w", dir, err)
	}
	return nil
}
