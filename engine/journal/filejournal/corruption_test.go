package filejournal_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"stockd/engine/journal"
	"stockd/engine/journal/filejournal"
	"stockd/engine/journal/journaltest"
)

const frameHeaderBytes = 20

func open(tb testing.TB, dir string, opts filejournal.Options) *filejournal.Journal {
	tb.Helper()
	j, err := filejournal.Open(context.Background(), dir, opts)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { _ = j.Close() })
	return j
}

// writeGroups writes groups of the given sizes and closes the journal.
func writeGroups(tb testing.TB, dir string, opts filejournal.Options, sizes ...int) {
	tb.Helper()
	j := open(tb, dir, opts)
	for _, n := range sizes {
		journaltest.MustWrite(tb, j, n)
	}
	journaltest.MustClose(tb, j)
}

// frameOffset is the byte offset of LSN lsn in a segment starting at base.
func frameOffset(base, lsn uint64) int64 {
	var off int64
	for l := base; l < lsn; l++ {
		off += frameHeaderBytes + int64(len(journaltest.Record(l)))
	}
	return off
}

func segments(tb testing.TB, dir string) []string {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil {
		tb.Fatal(err)
	}
	slices.Sort(paths)
	return paths
}

func lastSegment(tb testing.TB, dir string) string {
	tb.Helper()
	segs := segments(tb, dir)
	return segs[len(segs)-1]
}

func flipBit(tb testing.TB, path string, offset int64) {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	data[offset] ^= 0x10
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
}

func fileSize(tb testing.TB, path string) int64 {
	tb.Helper()
	info, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return info.Size()
}

func appendBytes(tb testing.TB, path string, b []byte) {
	tb.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		tb.Fatal(err)
	}
}

// checkCut opens the journal and checks that the tail was cut back to
// wantLast, that the cut is reported, and that writing resumes.
func checkCut(tb testing.TB, dir string, opts filejournal.Options, wantLast uint64, wantCutBytes int64, wantTorn int) {
	tb.Helper()
	j := open(tb, dir, opts)
	r := j.Report()
	if r.Cut == nil {
		tb.Fatalf("Report().Cut = nil, want a cut; report: %v", r)
	}
	if got := j.LastLSN(); got != wantLast {
		tb.Fatalf("LastLSN after cut = %d, want %d; report: %v", got, wantLast, r)
	}
	if wantCutBytes >= 0 && r.Cut.Bytes != wantCutBytes {
		tb.Fatalf("cut %d bytes, want %d; report: %v", r.Cut.Bytes, wantCutBytes, r)
	}
	if r.Cut.FirstLSN != wantLast+1 || r.Cut.TornRecords != wantTorn {
		tb.Fatalf("cut from LSN %d with %d torn records, want %d and %d; report: %v",
			r.Cut.FirstLSN, r.Cut.TornRecords, wantLast+1, wantTorn, r)
	}
	if got, want := fileSize(tb, r.Cut.Segment), r.Cut.Offset; got != want {
		tb.Fatalf("segment size after cut = %d, want %d", got, want)
	}
	journaltest.CheckRecords(tb, j, 1, wantLast)
	journaltest.MustWrite(tb, j, 3)
	journaltest.MustClose(tb, j)
	j = open(tb, dir, opts)
	if r := j.Report(); r.Cut != nil {
		tb.Fatalf("second open after a cut reports another cut: %v", r)
	}
	journaltest.CheckRecords(tb, j, 1, wantLast+3)
}

func checkCorrupt(tb testing.TB, dir string, opts filejournal.Options, wantPath string, wantOffset int64) {
	tb.Helper()
	_, err := filejournal.Open(context.Background(), dir, opts)
	var ce *filejournal.CorruptError
	if !errors.As(err, &ce) || !errors.Is(err, filejournal.ErrCorrupt) {
		tb.Fatalf("Open: err = %v, want a *CorruptError", err)
	}
	if ce.Path != wantPath || ce.Offset != wantOffset {
		tb.Fatalf("CorruptError names %s offset %d, want %s offset %d (%v)", ce.Path, ce.Offset, wantPath, wantOffset, err)
	}
	if msg := err.Error(); !strings.Contains(msg, filepath.Base(wantPath)) || ce.Action == "" {
		tb.Fatalf("error %q does not name the file and what to do", msg)
	}
	// The directory lock must have been released.
	if _, err := filejournal.Open(context.Background(), dir, opts); !errors.Is(err, filejournal.ErrCorrupt) {
		tb.Fatalf("second Open: err = %v, want ErrCorrupt again (not ErrLocked)", err)
	}
}

func TestTruncatedRecordIsCut(t *testing.T) {
	dir, opts := t.TempDir(), filejournal.DefaultOptions()
	writeGroups(t, dir, opts, 5, 1, 1, 1, 1, 1) // LSN 10 is 10 bytes long, alone in its group
	seg := lastSegment(t, dir)
	size := fileSize(t, seg)
	if err := os.Truncate(seg, size-3); err != nil {
		t.Fatal(err)
	}
	checkCut(t, dir, opts, 9, size-3-frameOffset(1, 10), 0)
}

func TestTruncatedHeaderIsCut(t *testing.T) {
	dir, opts := t.TempDir(), filejournal.DefaultOptions()
	writeGroups(t, dir, opts, 5, 5)
	seg := lastSegment(t, dir)
	off := frameOffset(1, 10)
	if err := os.Truncate(seg, off+7); err != nil {
		t.Fatal(err)
	}
	checkCut(t, dir, opts, 9, 7, 0)
}

func TestFlippedBitInTailIsCut(t *testing.T) {
	dir, opts := t.TempDir(), filejournal.DefaultOptions()
	writeGroups(t, dir, opts, 20, 1)
	seg := lastSegment(t, dir)
	flipBit(t, seg, frameOffset(1, 21)+frameHeaderBytes+3)
	checkCut(t, dir, opts, 20, fileSize(t, seg)-frameOffset(1, 21), 0)
}

// TestTornGroupIsCut damages the first record of the last group while the
// group's later records are intact, as when a crash persists only some of
// a write's pages: the whole group was never acknowledged and is cut.
func TestTornGroupIsCut(t *testing.T) {
	dir, opts := t.TempDir(), filejournal.DefaultOptions()
	writeGroups(t, dir, opts, 20, 10)
	seg := lastSegment(t, dir)
	flipBit(t, seg, frameOffset(1, 21)+frameHeaderBytes+1)
	checkCut(t, dir, opts, 20, fileSize(t, seg)-frameOffset(1, 21), 9)
}

// TestGarbageAppendedIsCut: bytes that are not all zero (zeros alone are a
// preallocated tail, see prealloc_test.go).
func TestGarbageAppendedIsCut(t *testing.T) {
	for _, garbage := range [][]byte{
		[]byte("this is not a frame at all, just text that was appended"),
		append(make([]byte, 4096), 1), // zeros, then a byte that is not
		{1, 2, 3},
	} {
		t.Run(fmt.Sprintf("%d bytes", len(garbage)), func(t *testing.T) {
			dir, opts := t.TempDir(), filejournal.DefaultOptions()
			writeGroups(t, dir, opts, 10, 10)
			appendBytes(t, lastSegment(t, dir), garbage)
			checkCut(t, dir, opts, 20, int64(len(garbage)), 0)
		})
	}
}

// TestStaleFrameAfterTailIsCut appends a copy of an old, valid frame:
// it carries an old LSN, so it is not evidence of lost records.
func TestStaleFrameAfterTailIsCut(t *testing.T) {
	dir, opts := t.TempDir(), filejournal.DefaultOptions()
	writeGroups(t, dir, opts, 10, 10)
	seg := lastSegment(t, dir)
	data, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	stale := data[frameOffset(1, 5):frameOffset(1, 6)]
	appendBytes(t, seg, append([]byte{0xff, 0xff}, stale...))
	checkCut(t, dir, opts, 20, int64(2+len(stale)), 0)
}

// TestFlippedBitBeforeLaterGroupIsCorrupt damages an acknowledged group in
// the last segment that later groups follow: cutting would lose them.
func TestFlippedBitBeforeLaterGroupIsCorrupt(t *testing.T) {
	dir, opts := t.TempDir(), filejournal.DefaultOptions()
	writeGroups(t, dir, opts, 10, 10, 10)
	seg := lastSegment(t, dir)
	off := frameOffset(1, 15)
	flipBit(t, seg, off+frameHeaderBytes+2)
	checkCorrupt(t, dir, opts, seg, off)
}

func TestFlippedBitInOlderSegmentIsCorrupt(t *testing.T) {
	dir, opts := t.TempDir(), filejournal.DefaultOptions()
	opts.MaxSegmentBytes = 1000
	writeGroups(t, dir, opts, 10, 10, 10, 10, 10, 10)
	segs := segments(t, dir)
	if len(segs) < 3 {
		t.Fatalf("got %d segments, want at least 3", len(segs))
	}
	off := frameOffset(1, 5)
	flipBit(t, segs[0], off+frameHeaderBytes+2)
	checkCorrupt(t, dir, opts, segs[0], off)
}

func TestTruncatedOlderSegmentIsCorrupt(t *testing.T) {
	dir, opts := t.TempDir(), filejournal.DefaultOptions()
	opts.MaxSegmentBytes = 1000
	writeGroups(t, dir, opts, 10, 10, 10, 10, 10, 10)
	segs := segments(t, dir)
	size := fileSize(t, segs[1])
	if err := os.Truncate(segs[1], size-1); err != nil {
		t.Fatal(err)
	}
	_, err := filejournal.Open(context.Background(), dir, opts)
	var ce *filejournal.CorruptError
	if !errors.As(err, &ce) || ce.Path != segs[1] {
		t.Fatalf("Open: err = %v, want a *CorruptError naming %s", err, segs[1])
	}
}

func TestMissingSegmentIsCorrupt(t *testing.T) {
	dir, opts := t.TempDir(), filejournal.DefaultOptions()
	opts.MaxSegmentBytes = 1000
	writeGroups(t, dir, opts, 10, 10, 10, 10, 10, 10)
	segs := segments(t, dir)
	if len(segs) < 3 {
		t.Fatalf("got %d segments, want at least 3", len(segs))
	}
	if err := os.Remove(segs[1]); err != nil {
		t.Fatal(err)
	}
	checkCorrupt(t, dir, opts, segs[2], -1)
}

func TestMissingLastSegmentWithSnapshotIsCorrupt(t *testing.T) {
	dir, opts := t.TempDir(), filejournal.DefaultOptions()
	j := open(t, dir, opts)
	journaltest.MustWrite(t, j, 10)
	if err := j.SaveSnapshot(context.Background(), 10, []byte("state")); err != nil {
		t.Fatal(err)
	}
	journaltest.MustClose(t, j)
	for _, seg := range segments(t, dir) {
		if err := os.Remove(seg); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := filejournal.Open(context.Background(), dir, opts); !errors.Is(err, filejournal.ErrCorrupt) {
		t.Fatalf("Open with snapshots but no segments: err = %v, want ErrCorrupt", err)
	}
}

func TestSnapshotBeyondJournalIsCorrupt(t *testing.T) {
	dir, opts := t.TempDir(), filejournal.DefaultOptions()
	j := open(t, dir, opts)
	journaltest.MustWrite(t, j, 10)
	journaltest.MustWrite(t, j, 1)
	if err := j.SaveSnapshot(context.Background(), 11, []byte("state")); err != nil {
		t.Fatal(err)
	}
	journaltest.MustClose(t, j)
	// Damage the last (acknowledged, snapshotted) record: the cut would
	// leave the journal ending before the snapshot.
	seg := lastSegment(t, dir)
	flipBit(t, seg, frameOffset(1, 11)+frameHeaderBytes)
	if _, err := filejournal.Open(context.Background(), dir, opts); !errors.Is(err, filejournal.ErrCorrupt) {
		t.Fatalf("Open with a snapshot past the journal's end: err = %v, want ErrCorrupt", err)
	}
}

func TestLockHeld(t *testing.T) {
	dir, opts := t.TempDir(), filejournal.DefaultOptions()
	j := open(t, dir, opts)
	if _, err := filejournal.Open(context.Background(), dir, opts); !errors.Is(err, filejournal.ErrLocked) {
		t.Fatalf("second Open of a locked directory: err = %v, want ErrLocked", err)
	}
	journaltest.MustClose(t, j)
	j2 := open(t, dir, opts)
	journaltest.MustWrite(t, j2, 1)
}

func TestCorruptSnapshotFallsBack(t *testing.T) {
	ctx := context.Background()
	dir, opts := t.TempDir(), filejournal.DefaultOptions()
	j := open(t, dir, opts)
	journaltest.MustWrite(t, j, 20)
	for _, lsn := range []uint64{5, 10, 15} {
		if err := j.SaveSnapshot(ctx, lsn, fmt.Appendf(nil, "state at %d", lsn)); err != nil {
			t.Fatal(err)
		}
	}
	snaps, _ := filepath.Glob(filepath.Join(dir, "*.snap"))
	if got, want := len(snaps), opts.MaxSnapshotsKept; got != want {
		t.Fatalf("%d snapshot files, want %d", got, want)
	}
	journaltest.MustClose(t, j)
	newest := filepath.Join(dir, fmt.Sprintf("%020d.snap", 15))
	flipBit(t, newest, fileSize(t, newest)-1)
	// A leftover of an interrupted save is removed at open.
	if err := os.WriteFile(filepath.Join(dir, "snapshot-123.tmp"), []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	j = open(t, dir, opts)
	r := j.Report()
	if !slices.Equal(r.CorruptSnapshots, []string{filepath.Base(newest)}) || len(r.RemovedTempFiles) != 1 {
		t.Fatalf("report = %v, want the damaged snapshot and the temp file listed", r)
	}
	lsn, data, err := j.LoadSnapshot(ctx)
	if err != nil || lsn != 10 || string(data) != "state at 10" {
		t.Fatalf("LoadSnapshot = %d, %q, %v; want the previous snapshot (10)", lsn, data, err)
	}
}

// segmentBase is the first LSN of the segment at path, from its name.
func segmentBase(tb testing.TB, path string) uint64 {
	tb.Helper()
	var base uint64
	if _, err := fmt.Sscanf(filepath.Base(path), "%020d.log", &base); err != nil {
		tb.Fatalf("segment name %s: %v", path, err)
	}
	return base
}

// rotated opens a journal in dir with 1000-byte segments and writes 100
// records in groups of 10, and returns it, its options and its segments
// (at least four).
func rotated(tb testing.TB, dir string) (*filejournal.Journal, filejournal.Options, []string) {
	tb.Helper()
	opts := filejournal.DefaultOptions()
	opts.MaxSegmentBytes = 1000
	j := open(tb, dir, opts)
	for range 10 {
		journaltest.MustWrite(tb, j, 10)
	}
	segs := segments(tb, dir)
	if len(segs) < 4 {
		tb.Fatalf("got %d segments for 100 records in 1000-byte segments, want at least 4", len(segs))
	}
	return j, opts, segs
}

func TestRotationAndTruncateFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	j, _, segs := rotated(t, dir)
	for _, seg := range segs {
		// Groups of 10 never span segments: every segment starts at 10k+1.
		if segmentBase(t, seg)%10 != 1 {
			t.Fatalf("segment %s does not start at a group boundary", seg)
		}
	}
	if err := j.Truncate(ctx, 100); err != nil {
		t.Fatal(err)
	}
	if got := segments(t, dir); len(got) != 1 || got[0] != segs[len(segs)-1] {
		t.Fatalf("segments after Truncate(100) = %v, want only the last one", got)
	}
	if err := j.Replay(ctx, 1, func(uint64, []byte) error { return nil }); !errors.Is(err, journal.ErrTruncated) {
		t.Fatalf("Replay(1) after truncating: err = %v, want ErrTruncated", err)
	}
	journaltest.CheckRecords(t, j, 101, 100)
}

func TestRecordTooLarge(t *testing.T) {
	dir, opts := t.TempDir(), filejournal.DefaultOptions()
	opts.MaxRecordBytes = 100
	j := open(t, dir, opts)
	err := j.WriteBatch(context.Background(), 1, [][]byte{make([]byte, 101)})
	if !errors.Is(err, journal.ErrTooLarge) {
		t.Fatalf("WriteBatch of a 101-byte record with MaxRecordBytes 100: err = %v, want ErrTooLarge", err)
	}
	journaltest.MustWrite(t, j, 1)
}
