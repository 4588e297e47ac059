package filejournal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// headerBytes is the size of a frame header.
const headerBytes = 20

// maxFrameRecordBytes bounds the payload length a reader accepts; a larger
// length field is damage. Writers are bounded by Options.MaxRecordBytes.
const maxFrameRecordBytes = 1 << 30

// castagnoli is the CRC32C table (read only).
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// frame is a decoded frame header.
type frame struct {
	length   uint32
	crc      uint32
	lsn      uint64
	groupPos uint32
}

func decodeHeader(b []byte) frame {
	return frame{
		length:   binary.LittleEndian.Uint32(b[0:4]),
		crc:      binary.LittleEndian.Uint32(b[4:8]),
		lsn:      binary.LittleEndian.Uint64(b[8:16]),
		groupPos: binary.LittleEndian.Uint32(b[16:20]),
	}
}

// frameCRC computes the checksum of a frame from its header and payload.
func frameCRC(header, payload []byte) uint32 {
	crc := crc32.Update(0, castagnoli, header[0:4])
	crc = crc32.Update(crc, castagnoli, header[8:headerBytes])
	return crc32.Update(crc, castagnoli, payload)
}

// appendFrame appends one encoded frame to buf.
func appendFrame(buf []byte, lsn uint64, groupPos uint32, payload []byte) []byte {
	start := len(buf)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(payload)))
	buf = binary.LittleEndian.AppendUint32(buf, 0)
	buf = binary.LittleEndian.AppendUint64(buf, lsn)
	buf = binary.LittleEndian.AppendUint32(buf, groupPos)
	buf = append(buf, payload...)
	header := buf[start : start+headerBytes]
	binary.LittleEndian.PutUint32(header[4:8], frameCRC(header, buf[start+headerBytes:]))
	return buf
}

// frameError describes the first frame of a segment that does not decode.
type frameError struct {
	offset    int64  // where the bad frame starts
	expectLSN uint64 // the LSN the frame should have carried
	reason    string
}

func (e *frameError) Error() string {
	return fmt.Sprintf("offset %d (expected LSN %d): %s", e.offset, e.expectLSN, e.reason)
}

// frameReader reads the frames of one segment in order, checking length,
// checksum, LSN density and group positions. next returns io.EOF exactly at
// the end of the segment and a *frameError at the first bad frame.
type frameReader struct {
	r        *bufio.Reader
	offset   int64 // of the next frame
	size     int64 // bytes of the segment to read
	expect   uint64
	prevPos  int64 // group position of the previous frame, -1 before the first
	header   [headerBytes]byte
	payload  []byte
	lastSeen frame
}

func newFrameReader(r io.Reader, size int64, base uint64, bufBytes int) *frameReader {
	return &frameReader{r: bufio.NewReaderSize(r, bufBytes), size: size, expect: base, prevPos: -1}
}

// next returns the next record; rec is valid until the next call.
func (fr *frameReader) next() (lsn uint64, rec []byte, err error) {
	if fr.offset == fr.size {
		return 0, nil, io.EOF
	}
	bad := func(format string, args ...any) error {
		return &frameError{offset: fr.offset, expectLSN: fr.expect, reason: fmt.Sprintf(format, args...)}
	}
	if fr.size-fr.offset < headerBytes {
		return 0, nil, bad("truncated frame header: %d bytes left", fr.size-fr.offset)
	}
	if _, err := io.ReadFull(fr.r, fr.header[:]); err != nil {
		return 0, nil, fr.readErr(err)
	}
	f := decodeHeader(fr.header[:])
	if int64(f.length) > fr.size-fr.offset-headerBytes || f.length > maxFrameRecordBytes {
		return 0, nil, bad("truncated frame: payload length %d, %d bytes left", f.length, fr.size-fr.offset-headerBytes)
	}
	if cap(fr.payload) < int(f.length) {
		fr.payload = make([]byte, f.length)
	}
	fr.payload = fr.payload[:f.length]
	if _, err := io.ReadFull(fr.r, fr.payload); err != nil {
		return 0, nil, fr.readErr(err)
	}
	if got := frameCRC(fr.header[:], fr.payload); got != f.crc {
		return 0, nil, bad("checksum mismatch: stored %08x, computed %08x", f.crc, got)
	}
	if f.lsn != fr.expect {
		return 0, nil, bad("frame carries LSN %d", f.lsn)
	}
	if f.groupPos != 0 && int64(f.groupPos) != fr.prevPos+1 {
		return 0, nil, bad("group position %d after %d", f.groupPos, fr.prevPos)
	}
	fr.offset += headerBytes + int64(f.length)
	fr.expect++
	fr.prevPos = int64(f.groupPos)
	fr.lastSeen = f
	return f.lsn, fr.payload, nil
}

func (fr *frameReader) readErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		// The file is shorter than its size said: it changed under us.
		return &frameError{offset: fr.offset, expectLSN: fr.expect, reason: "file ended early"}
	}
	return err
}
