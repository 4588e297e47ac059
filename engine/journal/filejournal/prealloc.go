package filejournal

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// zeroWriteBytes is the largest zero buffer preallocate writes at a time.
const zeroWriteBytes = 1 << 20

// preallocate extends the active segment with written zeros when a group
// (about to be written at start, ending at end) would pass its preallocated
// end: to the next multiple of PreallocateBytes past end, never past
// MaxSegmentBytes unless the group itself goes further. The zeros are
// written here, to the page cache, right after the group's bytes; the
// group's own fdatasync then makes both durable, so an extension costs that
// one group the zero bytes' transfer and one file-size commit, and no other
// group waits for it. Written zeros, not fallocate: an unwritten extent is
// converted on the first write into it, and that conversion is metadata
// every later group's fdatasync would commit again. With the zeros durable,
// a later group overwrites allocated blocks inside the file size and its
// fdatasync writes data only. A chunk of a few hundred KiB keeps an
// extending group's extra time near a millisecond (DefaultOptions).
//
// A crash after an extension leaves the segment ending in zeros after its
// last frame; Open trims them (trimZeroTail). Sealed and cleanly closed
// segments carry none (trimActive).
func (j *Journal) preallocate(end int64) (int64, error) {
	chunk := j.opts.PreallocateBytes
	if chunk == 0 || end <= j.preallocEnd {
		return j.preallocEnd, nil
	}
	target := min((end+chunk-1)/chunk*chunk, max(j.opts.MaxSegmentBytes, end))
	if j.zeros == nil {
		j.zeros = make([]byte, min(chunk, zeroWriteBytes))
	}
	for off := max(end, j.preallocEnd); off < target; {
		n := min(int64(len(j.zeros)), target-off)
		if err := j.writeAt(j.zeros[:n], off); err != nil {
			return 0, err
		}
		off += n
	}
	return target, nil
}

// trimActive truncates the active segment to its frames, dropping its
// preallocated zeros, and syncs it: done before the segment is sealed and
// when the journal is closed.
func (j *Journal) trimActive() error {
	if j.preallocEnd == j.activeSize {
		return nil
	}
	if err := truncateDurably(j.active, j.activeSize); err != nil {
		return j.fail(err)
	}
	j.preallocEnd = j.activeSize
	return nil
}

// writeAt writes b at off in the active segment.
func (j *Journal) writeAt(b []byte, off int64) error {
	if _, err := j.active.WriteAt(b, off); err != nil {
		return j.fail(fmt.Errorf("write %s: %w", j.active.Name(), err))
	}
	return nil
}

// datasync makes the active segment's writes durable.
func (j *Journal) datasync() error {
	if err := unix.Fdatasync(int(j.active.Fd())); err != nil {
		return j.fail(fmt.Errorf("fdatasync %s: %w", j.active.Name(), err))
	}
	return nil
}

// fail puts the journal in the failed state: a write or sync of the active
// segment went wrong, and its contents are no longer known (an fsync error
// is never retried). Reopening recovers.
func (j *Journal) fail(err error) error {
	j.failed = err
	return fmt.Errorf("filejournal: %w", err)
}

// zeroTailAt is Open's check at the first bad frame of a segment, at
// offset from: whether every byte from there to the end of the file is
// zero, which makes it the preallocated region of a journal that was not
// closed, the clean end of the segment. It returns the file's size too.
// Only a byte compare over the tail, no frame scan. A zero tail is never
// damage that the frame scan would judge otherwise: zeros hold no frame, so
// no valid frame of a later group follows, and judgeTail would cut the same
// bytes.
func zeroTailAt(path string, from int64) (bool, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, 0, fmt.Errorf("filejournal: open %s: %w", path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return false, 0, fmt.Errorf("filejournal: stat %s: %w", path, err)
	}
	zero, err := zeroTail(f, from, info.Size())
	return zero, info.Size(), err
}

// trimZeroTail truncates the segment at path, fileSize bytes long, to its
// frames (from bytes), syncs it and records the trim in the report.
func (j *Journal) trimZeroTail(path string, from, fileSize int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("filejournal: open %s: %w", path, err)
	}
	defer f.Close()
	if err := truncateDurably(f, from); err != nil {
		return fmt.Errorf("filejournal: trim zero tail: %w", err)
	}
	j.report.ZeroTails = append(j.report.ZeroTails, ZeroTail{Segment: path, Offset: from, Bytes: fileSize - from})
	return nil
}

// truncateDurably cuts f to size and fsyncs it.
func truncateDurably(f *os.File, size int64) error {
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("truncate %s to %d bytes: %w", f.Name(), size, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync %s after truncating it: %w", f.Name(), err)
	}
	return nil
}
