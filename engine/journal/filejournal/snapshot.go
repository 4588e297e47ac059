package filejournal

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"

	"stockd/engine/journal"
)

// A snapshot file, little endian:
//
//	offset  size  field
//	0       8     magic "STKDSNP1"
//	8       8     LSN
//	16      8     data length n
//	24      4     CRC32C of bytes 8..24 and the data
//	28      n     data
const (
	snapshotMagic       = "STKDSNP1"
	snapshotHeaderBytes = 28
)

func snapshotPath(dir string, lsn uint64) string {
	return filepath.Join(dir, fmt.Sprintf("%020d.snap", lsn))
}

func encodeSnapshotHeader(lsn uint64, data []byte) []byte {
	h := make([]byte, snapshotHeaderBytes)
	copy(h, snapshotMagic)
	binary.LittleEndian.PutUint64(h[8:16], lsn)
	binary.LittleEndian.PutUint64(h[16:24], uint64(len(data)))
	crc := crc32.Update(0, castagnoli, h[8:24])
	binary.LittleEndian.PutUint32(h[24:28], crc32.Update(crc, castagnoli, data))
	return h
}

// SaveSnapshot implements journal.Backend: temp file, write, fsync, rename,
// directory fsync; then it removes snapshots beyond MaxSnapshotsKept.
func (j *Journal) SaveSnapshot(ctx context.Context, lsn uint64, data []byte) error {
	j.snapMu.Lock()
	defer j.snapMu.Unlock()
	j.mu.Lock()
	closed, last := j.closed, j.lastLSN
	j.mu.Unlock()
	if closed {
		return journal.ErrClosed
	}
	if lsn > last {
		return fmt.Errorf("%w: snapshot at %d, last LSN %d", journal.ErrLSN, lsn, last)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := j.writeSnapshotFile(lsn, data); err != nil {
		return err
	}
	return j.pruneSnapshots()
}

func (j *Journal) writeSnapshotFile(lsn uint64, data []byte) (err error) {
	tmp, err := os.CreateTemp(j.dir, "snapshot-*.tmp")
	if err != nil {
		return fmt.Errorf("filejournal: create snapshot: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(j.opts.FileMode); err != nil {
		return fmt.Errorf("filejournal: chmod snapshot: %w", err)
	}
	if _, err := tmp.Write(encodeSnapshotHeader(lsn, data)); err != nil {
		return fmt.Errorf("filejournal: write snapshot: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("filejournal: write snapshot: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("filejournal: fsync snapshot: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("filejournal: close snapshot: %w", err)
	}
	if err := os.Rename(tmp.Name(), snapshotPath(j.dir, lsn)); err != nil {
		return fmt.Errorf("filejournal: rename snapshot: %w", err)
	}
	return syncDir(j.dir)
}

func (j *Journal) pruneSnapshots() error {
	listing, err := listDir(j.dir)
	if err != nil {
		return err
	}
	extra := len(listing.snapshots) - j.opts.MaxSnapshotsKept
	if extra <= 0 {
		return nil
	}
	for _, s := range listing.snapshots[:extra] {
		if err := os.Remove(filepath.Join(j.dir, s.name)); err != nil {
			return fmt.Errorf("filejournal: remove old snapshot: %w", err)
		}
	}
	return syncDir(j.dir)
}

// LoadSnapshot implements journal.Backend: the newest snapshot whose
// checksum holds. Damaged newer ones are skipped and listed in Report.
func (j *Journal) LoadSnapshot(ctx context.Context) (uint64, []byte, error) {
	j.snapMu.Lock()
	defer j.snapMu.Unlock()
	j.mu.Lock()
	closed := j.closed
	j.mu.Unlock()
	if closed {
		return 0, nil, journal.ErrClosed
	}
	listing, err := listDir(j.dir)
	if err != nil {
		return 0, nil, err
	}
	var corrupt []string
	for _, s := range slices.Backward(listing.snapshots) {
		if err := ctx.Err(); err != nil {
			return 0, nil, err
		}
		raw, err := os.ReadFile(filepath.Join(j.dir, s.name))
		if err != nil {
			return 0, nil, fmt.Errorf("filejournal: read snapshot: %w", err)
		}
		data, err := decodeSnapshot(raw, s.lsn)
		if err != nil {
			corrupt = append(corrupt, s.name)
			j.noteCorruptSnapshot(s.name)
			continue
		}
		return s.lsn, data, nil
	}
	if len(corrupt) > 0 {
		return 0, nil, fmt.Errorf("%w: every snapshot file failed its checksum: %q", journal.ErrNoSnapshot, corrupt)
	}
	return 0, nil, journal.ErrNoSnapshot
}

func (j *Journal) noteCorruptSnapshot(name string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !slices.Contains(j.report.CorruptSnapshots, name) {
		j.report.CorruptSnapshots = append(j.report.CorruptSnapshots, name)
	}
}

var errBadSnapshot = errors.New("filejournal: bad snapshot")

func decodeSnapshot(raw []byte, wantLSN uint64) ([]byte, error) {
	if len(raw) < snapshotHeaderBytes || string(raw[:8]) != snapshotMagic {
		return nil, errBadSnapshot
	}
	lsn := binary.LittleEndian.Uint64(raw[8:16])
	n := binary.LittleEndian.Uint64(raw[16:24])
	if lsn != wantLSN || n != uint64(len(raw)-snapshotHeaderBytes) {
		return nil, errBadSnapshot
	}
	crc := crc32.Update(0, castagnoli, raw[8:24])
	if crc32.Update(crc, castagnoli, raw[snapshotHeaderBytes:]) != binary.LittleEndian.Uint32(raw[24:28]) {
		return nil, errBadSnapshot
	}
	return raw[snapshotHeaderBytes:], nil
}

// checkSnapshot streams a snapshot file through its checksum without
// holding it in memory.
func checkSnapshot(path string, wantLSN uint64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := make([]byte, snapshotHeaderBytes)
	if _, err := io.ReadFull(f, h); err != nil {
		return errBadSnapshot
	}
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if string(h[:8]) != snapshotMagic || binary.LittleEndian.Uint64(h[8:16]) != wantLSN ||
		binary.LittleEndian.Uint64(h[16:24]) != uint64(info.Size()-snapshotHeaderBytes) {
		return errBadSnapshot
	}
	sum := crc32.New(castagnoli)
	sum.Write(h[8:24])
	if _, err := io.Copy(sum, f); err != nil {
		return err
	}
	if sum.Sum32() != binary.LittleEndian.Uint32(h[24:28]) {
		return errBadSnapshot
	}
	return nil
}

// checkSnapshots runs at Open: it lists damaged snapshot files in the
// report and refuses a journal that ends before the newest valid snapshot
// (records that snapshot covered were durable, so some were lost).
func (j *Journal) checkSnapshots(snaps []snapshotFile) error {
	for _, s := range slices.Backward(snaps) {
		path := filepath.Join(j.dir, s.name)
		err := checkSnapshot(path, s.lsn)
		if errors.Is(err, errBadSnapshot) {
			j.report.CorruptSnapshots = append(j.report.CorruptSnapshots, s.name)
			continue
		}
		if err != nil {
			return fmt.Errorf("filejournal: check snapshot %s: %w", s.name, err)
		}
		if s.lsn > j.lastLSN {
			return &CorruptError{Path: path, Offset: -1,
				Reason: fmt.Sprintf("snapshot covers LSN %d but the journal ends at LSN %d", s.lsn, j.lastLSN),
				Action: actionRestore}
		}
		return nil
	}
	return nil
}
