package filejournal_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"stockd/engine/journal/filejournal"
	"stockd/engine/journal/journaltest"
)

// crashImage copies the segment and snapshot files of dir, whose journal
// may still be open, into a new directory: what a crash would leave of
// what the journal has synced.
func crashImage(tb testing.TB, dir string) string {
	tb.Helper()
	img := tb.TempDir()
	for _, pattern := range []string{"*.log", "*.snap"} {
		paths, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			tb.Fatal(err)
		}
		for _, path := range paths {
			data, err := os.ReadFile(path)
			if err != nil {
				tb.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(img, filepath.Base(path)), data, 0o644); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return img
}

func writeAt(tb testing.TB, path string, b []byte, offset int64) {
	tb.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, offset); err != nil {
		tb.Fatal(err)
	}
}

// roundUp rounds n up to a multiple of chunk.
func roundUp(n, chunk int64) int64 { return (n + chunk - 1) / chunk * chunk }

// checkZeroTails opens dir and checks that no tail was cut, that exactly
// the given segments had a zero tail trimmed, and that every segment file
// now ends after its frames.
func checkZeroTails(tb testing.TB, dir string, opts filejournal.Options, want ...filejournal.ZeroTail) *filejournal.Journal {
	tb.Helper()
	j := open(tb, dir, opts)
	r := j.Report()
	if r.Cut != nil {
		tb.Fatalf("Report().Cut = %+v, want none: a zero tail is not a torn tail", r.Cut)
	}
	if !slices.Equal(r.ZeroTails, want) {
		tb.Fatalf("Report().ZeroTails = %+v, want %+v", r.ZeroTails, want)
	}
	for _, z := range want {
		if got := fileSize(tb, z.Segment); got != z.Offset {
			tb.Fatalf("%s is %d bytes after Open, want %d (its frames)", z.Segment, got, z.Offset)
		}
	}
	return j
}

func TestPreallocationKeepsWritesInsideFile(t *testing.T) {
	dir, opts := t.TempDir(), filejournal.DefaultOptions()
	opts.PreallocateBytes = 256
	j := open(t, dir, opts)
	seg := lastSegment(t, dir)
	for _, n := range []int{1, 3, 1, 20, 2, 1, 1} { // 20 records are longer than one chunk
		journaltest.MustWrite(t, j, n)
		used := frameOffset(1, j.LastLSN()+1)
		if got, want := fileSize(t, seg), roundUp(used, opts.PreallocateBytes); got != want {
			t.Fatalf("after LSN %d (%d bytes of frames): file is %d bytes, want %d", j.LastLSN(), used, got, want)
		}
	}
	last := j.LastLSN()
	journaltest.MustClose(t, j)
	if got, want := fileSize(t, seg), frameOffset(1, last+1); got != want {
		t.Fatalf("after Close: file is %d bytes, want %d (its frames)", got, want)
	}
	j = checkZeroTails(t, dir, opts)
	journaltest.CheckRecords(t, j, 1, last)
}

// TestSealedSegmentsHoldFramesOnly: a segment is preallocated up to
// MaxSegmentBytes and trimmed to its frames when it is sealed.
func TestSealedSegmentsHoldFramesOnly(t *testing.T) {
	dir := t.TempDir()
	j, opts, segs := rotated(t, dir)
	for i := range segs[:len(segs)-1] {
		if got, want := fileSize(t, segs[i]), frameOffset(segmentBase(t, segs[i]), segmentBase(t, segs[i+1])); got != want {
			t.Fatalf("sealed %s is %d bytes, want %d (its frames)", segs[i], got, want)
		}
	}
	active := segs[len(segs)-1]
	if got, want := fileSize(t, active), opts.MaxSegmentBytes; got != want {
		t.Fatalf("active %s is %d bytes, want %d (preallocated to MaxSegmentBytes)", active, got, want)
	}
	journaltest.MustClose(t, j)
	if got, want := fileSize(t, active), frameOffset(segmentBase(t, active), 101); got != want {
		t.Fatalf("after Close: %s is %d bytes, want %d (its frames)", active, got, want)
	}
	j = checkZeroTails(t, dir, opts)
	journaltest.CheckRecords(t, j, 1, 100)
}

// TestCrashWithPreallocatedTailKeepsRecords: a crash while the active
// segment is preallocated leaves zeros after the acknowledged records.
// Open keeps every record, reports no torn tail and trims the zeros,
// with preallocation on or off.
func TestCrashWithPreallocatedTailKeepsRecords(t *testing.T) {
	for _, prealloc := range []int64{filejournal.DefaultOptions().PreallocateBytes, 0} {
		t.Run(fmt.Sprintf("reopen-prealloc=%d", prealloc), func(t *testing.T) {
			dir, opts := t.TempDir(), filejournal.DefaultOptions()
			j := open(t, dir, opts)
			for _, n := range []int{5, 10, 1} {
				journaltest.MustWrite(t, j, n)
			}
			img := crashImage(t, dir)
			seg := lastSegment(t, img)
			if got, want := fileSize(t, seg), opts.PreallocateBytes; got != want {
				t.Fatalf("crash image of the active segment is %d bytes, want %d (preallocated)", got, want)
			}
			opts.PreallocateBytes = prealloc
			used := frameOffset(1, 17)
			j = checkZeroTails(t, img, opts,
				filejournal.ZeroTail{Segment: seg, Offset: used, Bytes: filejournal.DefaultOptions().PreallocateBytes - used})
			journaltest.CheckRecords(t, j, 1, 16)
			journaltest.MustWrite(t, j, 3)
			journaltest.MustClose(t, j)
			j = checkZeroTails(t, img, opts)
			journaltest.CheckRecords(t, j, 1, 19)
		})
	}
}

// crashedDuringGroup returns the segment of a journal that crashed while
// the last of the groups was being written into its preallocated region:
// the earlier groups acknowledged, then reached(group) (the bytes of the
// last group that reached the disk), then zeros. It returns the segment and
// the offset of the last group.
func crashedDuringGroup(tb testing.TB, opts filejournal.Options, sizes []int, reached func(group []byte) []byte) (string, int64) {
	tb.Helper()
	ref := tb.TempDir()
	writeGroups(tb, ref, opts, sizes...)
	data, err := os.ReadFile(lastSegment(tb, ref))
	if err != nil {
		tb.Fatal(err)
	}
	var acked uint64
	for _, n := range sizes[:len(sizes)-1] {
		acked += uint64(n)
	}
	groupOffset := frameOffset(1, acked+1)
	dir := tb.TempDir()
	j := open(tb, dir, opts)
	for _, n := range sizes[:len(sizes)-1] {
		journaltest.MustWrite(tb, j, n)
	}
	seg := lastSegment(tb, crashImage(tb, dir))
	size := fileSize(tb, seg)
	written := reached(data[groupOffset:])
	if groupOffset+int64(len(written)) >= size {
		tb.Fatalf("the torn group does not fit in the preallocated region")
	}
	writeAt(tb, seg, written, groupOffset)
	return seg, groupOffset
}

// TestTornGroupInPreallocatedRegionIsCut: a group in flight at a crash,
// partly on disk with zeros after it, is cut and reported as a torn tail.
func TestTornGroupInPreallocatedRegionIsCut(t *testing.T) {
	opts := filejournal.DefaultOptions()
	t.Run("partial frame then zeros", func(t *testing.T) {
		seg, _ := crashedDuringGroup(t, opts, []int{10, 10, 10}, func(group []byte) []byte {
			return group[:frameOffset(21, 23)+frameHeaderBytes+3] // LSNs 21, 22 whole; 23 partial
		})
		checkCut(t, filepath.Dir(seg), opts, 22, fileSize(t, seg)-frameOffset(1, 23), 0)
	})
	t.Run("zeros then the rest of the group", func(t *testing.T) {
		seg, off := crashedDuringGroup(t, opts, []int{10, 10, 10}, func(group []byte) []byte {
			torn := slices.Clone(group)
			clear(torn[:frameOffset(21, 22)]) // the page with LSN 21 never reached the disk
			return torn
		})
		checkCut(t, filepath.Dir(seg), opts, 20, fileSize(t, seg)-off, 9)
	})
}

// TestZerosBeforeLaterGroupAreCorrupt: zeros where acknowledged records
// were, followed by a valid frame of a later group, are damage, not the
// end of the log, even with a preallocated tail after them.
func TestZerosBeforeLaterGroupAreCorrupt(t *testing.T) {
	for _, c := range []struct {
		name          string
		zeroFrom, end uint64 // LSNs [zeroFrom, end) are zeroed
	}{
		{"a whole group", 11, 21},
		{"the rest of a group", 15, 21},
		{"one record", 15, 16},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, opts := t.TempDir(), filejournal.DefaultOptions()
			j := open(t, dir, opts)
			for range 3 {
				journaltest.MustWrite(t, j, 10)
			}
			img := crashImage(t, dir)
			seg := lastSegment(t, img)
			off := frameOffset(1, c.zeroFrom)
			writeAt(t, seg, make([]byte, frameOffset(c.zeroFrom, c.end)), off)
			checkCorrupt(t, img, opts, seg, off)
		})
	}
}

// TestZeroTailOnSealedSegment: a sealed segment that ends in zeros (a
// crash between rotation and its trim) is trimmed when the next segment
// continues its LSNs; anything else stays an error.
func TestZeroTailOnSealedSegment(t *testing.T) {
	sealed := func(t *testing.T) (string, filejournal.Options, []string) {
		dir := t.TempDir()
		j, opts, segs := rotated(t, dir)
		journaltest.MustClose(t, j)
		return dir, opts, segs
	}
	t.Run("zeros after the last frame are trimmed", func(t *testing.T) {
		dir, opts, segs := sealed(t)
		size := fileSize(t, segs[0])
		appendBytes(t, segs[0], make([]byte, 4096))
		j := checkZeroTails(t, dir, opts, filejournal.ZeroTail{Segment: segs[0], Offset: size, Bytes: 4096})
		journaltest.CheckRecords(t, j, 1, 100)
	})
	t.Run("zeros then a byte are corrupt", func(t *testing.T) {
		dir, opts, segs := sealed(t)
		size := fileSize(t, segs[0])
		appendBytes(t, segs[0], append(make([]byte, 4096), 1))
		checkCorrupt(t, dir, opts, segs[0], size)
	})
	t.Run("zeros over acknowledged records leave a gap", func(t *testing.T) {
		dir, opts, segs := sealed(t)
		size := fileSize(t, segs[0])
		off := frameOffset(1, segmentBase(t, segs[1])-5) // the last five records of the first segment
		writeAt(t, segs[0], make([]byte, size-off), off)
		checkCorrupt(t, dir, opts, segs[1], -1)
		if got := fileSize(t, segs[0]); got != size {
			t.Fatalf("refused Open changed %s: %d bytes, want %d", segs[0], got, size)
		}
	})
}

func TestInvalidPreallocateBytes(t *testing.T) {
	for _, n := range []int64{-1, filejournal.MaxPreallocateBytes + 1} {
		opts := filejournal.DefaultOptions()
		opts.PreallocateBytes = n
		_, err := filejournal.Open(context.Background(), t.TempDir(), opts)
		if err == nil || errors.Is(err, filejournal.ErrCorrupt) {
			t.Fatalf("Open with PreallocateBytes %d: err = %v, want an options error", n, err)
		}
	}
}
