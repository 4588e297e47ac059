package filejournal

import (
	"bytes"
	"fmt"
	"io"
)

// tailVerdict says what follows the first bad frame of the last segment.
type tailVerdict struct {
	// cut is true when everything from the bad frame on may be dropped: no
	// valid frame of a later write group follows.
	cut bool
	// tornLSNs counts valid frames after the bad one that belong to the
	// same (torn, never acknowledged) group; they are dropped with the cut.
	tornLSNs int
	// laterLSN and laterOffset describe the first valid frame of a later
	// group when cut is false.
	laterLSN    uint64
	laterOffset int64
}

// scanWindowBytes is how much of the tail is read at a time while looking
// for valid frames after a bad one.
const scanWindowBytes = 1 << 20

// judgeTail decides whether the bytes of the last segment from bad.offset
// on are a torn tail (cut them) or damage before acknowledged records
// (refuse). Only the group in flight at a crash can be torn, and a group is
// written and synced before the next one starts, so a valid frame whose
// group starts after bad.expectLSN proves that the group holding the bad
// frame was complete and acknowledged.
func judgeTail(f io.ReaderAt, size int64, bad *frameError) (tailVerdict, error) {
	v := tailVerdict{cut: true}
	window := make([]byte, 0, scanWindowBytes)
	var windowStart int64
	var payload []byte
	for pos := bad.offset + 1; pos+headerBytes <= size; pos++ {
		if pos < windowStart || pos+headerBytes > windowStart+int64(len(window)) {
			n := min(int64(scanWindowBytes), size-pos)
			window = window[:n]
			if _, err := f.ReadAt(window, pos); err != nil && err != io.EOF {
				return v, fmt.Errorf("filejournal: read tail: %w", err)
			}
			windowStart = pos
		}
		header := window[pos-windowStart : pos-windowStart+headerBytes]
		fr := decodeHeader(header)
		if fr.lsn < bad.expectLSN || fr.lsn-bad.expectLSN > 1<<32 || uint64(fr.groupPos) >= fr.lsn ||
			int64(fr.length) > size-pos-headerBytes {
			continue
		}
		if cap(payload) < int(fr.length) {
			payload = make([]byte, fr.length)
		}
		payload = payload[:fr.length]
		if _, err := f.ReadAt(payload, pos+headerBytes); err != nil && err != io.EOF {
			return v, fmt.Errorf("filejournal: read tail: %w", err)
		}
		if frameCRC(header, payload) != fr.crc {
			continue
		}
		if groupFirst := fr.lsn - uint64(fr.groupPos); groupFirst > bad.expectLSN {
			return tailVerdict{laterLSN: fr.lsn, laterOffset: pos}, nil
		}
		v.tornLSNs++
		pos += headerBytes + int64(fr.length) - 1
	}
	return v, nil
}

// zeroTail reports whether bytes [from, size) of f are all zero.
func zeroTail(f io.ReaderAt, from, size int64) (bool, error) {
	window := make([]byte, min(int64(scanWindowBytes), max(size-from, 0)))
	for pos := from; pos < size; {
		chunk := window[:min(int64(len(window)), size-pos)]
		if _, err := f.ReadAt(chunk, pos); err != nil && err != io.EOF {
			return false, fmt.Errorf("filejournal: read tail: %w", err)
		}
		if !allZero(chunk) {
			return false, nil
		}
		pos += int64(len(chunk))
	}
	return true, nil
}

// allZero reports whether b holds only zeros: its first byte is zero and
// every byte equals the one before it (one memory compare, no zero buffer).
func allZero(b []byte) bool {
	return len(b) == 0 || b[0] == 0 && bytes.Equal(b[1:], b[:len(b)-1])
}
