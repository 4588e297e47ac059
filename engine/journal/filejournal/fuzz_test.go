package filejournal_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"stockd/engine/journal/filejournal"
	"stockd/engine/journal/journaltest"
)

// validSegment returns the bytes of a real segment holding groups of the
// given sizes.
func validSegment(tb testing.TB, sizes ...int) []byte {
	tb.Helper()
	dir := tb.TempDir()
	writeGroups(tb, dir, filejournal.DefaultOptions(), sizes...)
	data, err := os.ReadFile(lastSegment(tb, dir))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// FuzzFileJournalOpen writes arbitrary bytes as the only segment and opens
// the journal. Open must not panic; it either refuses with ErrCorrupt or
// leaves a file that is exactly a sequence of frames with valid checksums
// and dense LSNs from 1, which Replay returns. After two more records and
// Close, the file is exactly frames again (no preallocated zeros).
func FuzzFileJournalOpen(f *testing.F) {
	valid := validSegment(f, 3, 1, 4)
	f.Add(valid)
	f.Add(valid[:len(valid)-5])
	f.Add(append(bytes.Clone(valid), 0, 0, 0, 0, 1))
	f.Add(append(bytes.Clone(valid), make([]byte, 300)...))                   // a preallocated tail
	f.Add(append(bytes.Clone(valid[:len(valid)-5]), make([]byte, 300)...))    // a torn group in it
	f.Add(append(append(bytes.Clone(valid), make([]byte, 300)...), valid...)) // frames after zeros
	flipped := bytes.Clone(valid)
	flipped[30] ^= 1
	f.Add(flipped)
	f.Add([]byte{})
	f.Add(make([]byte, 64))
	opts := filejournal.DefaultOptions()
	opts.PreallocateBytes = 256 // small: every input preallocates quickly
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		dir := t.TempDir()
		seg := filepath.Join(dir, "00000000000000000001.log")
		if err := os.WriteFile(seg, data, 0o644); err != nil {
			t.Fatal(err)
		}
		j, err := filejournal.Open(ctx, dir, opts)
		if err != nil {
			if !errors.Is(err, filejournal.ErrCorrupt) {
				t.Fatalf("Open: err = %v, want nil or ErrCorrupt", err)
			}
			return
		}
		defer func() {
			journaltest.MustClose(t, j)
			closed, err := os.ReadFile(seg)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := len(decodeFrames(t, closed)), int(j.LastLSN()); got != want {
				t.Fatalf("after Close the segment holds %d frames, want %d", got, want)
			}
		}()
		kept, err := os.ReadFile(seg)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(data, kept) {
			t.Fatalf("Open changed the kept bytes instead of cutting the tail")
		}
		want := decodeFrames(t, kept)
		if got := j.LastLSN(); got != uint64(len(want)) {
			t.Fatalf("LastLSN = %d, want %d", got, len(want))
		}
		lsns, recs := journaltest.ReplayAll(t, j, 1)
		if len(lsns) != len(want) {
			t.Fatalf("Replay gave %d records, want %d", len(lsns), len(want))
		}
		for i := range want {
			if lsns[i] != uint64(i+1) || !bytes.Equal(recs[i], want[i]) {
				t.Fatalf("record %d differs", i+1)
			}
		}
		journaltest.MustWrite(t, j, 2)
	})
}

// decodeFrames decodes a segment with an independent reading of the format
// and fails unless it is a whole number of valid frames with LSNs 1, 2, ….
func decodeFrames(tb testing.TB, data []byte) [][]byte {
	tb.Helper()
	table := crc32.MakeTable(crc32.Castagnoli)
	var recs [][]byte
	for off := 0; off < len(data); {
		if len(data)-off < frameHeaderBytes {
			tb.Fatalf("kept %d trailing bytes that are not a frame", len(data)-off)
		}
		h := data[off : off+frameHeaderBytes]
		n := int(binary.LittleEndian.Uint32(h[0:4]))
		if n > len(data)-off-frameHeaderBytes {
			tb.Fatalf("kept a frame at %d whose payload runs past the end", off)
		}
		payload := data[off+frameHeaderBytes : off+frameHeaderBytes+n]
		crc := crc32.Update(crc32.Update(crc32.Update(0, table, h[0:4]), table, h[8:20]), table, payload)
		if crc != binary.LittleEndian.Uint32(h[4:8]) {
			tb.Fatalf("kept a frame at %d whose checksum fails", off)
		}
		if lsn := binary.LittleEndian.Uint64(h[8:16]); lsn != uint64(len(recs)+1) {
			tb.Fatalf("kept a frame at %d with LSN %d, want %d", off, lsn, len(recs)+1)
		}
		recs = append(recs, payload)
		off += frameHeaderBytes + n
	}
	return recs
}
