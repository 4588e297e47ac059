// Package filejournal is the local-disk journal.Backend: a segmented,
// append-only log of records in one directory, plus snapshot files.
//
// Layout of the directory:
//
//	LOCK                          flock held while a process has the journal open
//	00000000000000000001.log      segment: records from LSN 1
//	00000000000000004097.log      segment: records from LSN 4097 (name = first LSN)
//	00000000000000004000.snap     snapshot: state after LSN 4000
//
// A segment is a sequence of frames, little endian:
//
//	offset  size  field
//	0       4     payload length n
//	4       4     CRC32C (Castagnoli) of bytes 0..3 and 8..20+n
//	8       8     LSN
//	16      4     position of the record in its write group (0 = first)
//	20      n     payload
//
// Each WriteBatch (one group from the committer) is encoded into one buffer,
// written with one pwrite and made durable with one fdatasync. A group never
// spans two segments; a new segment is started (and the directory fsynced)
// when the next group would take the current one past MaxSegmentBytes (its
// used bytes: frames, not preallocated zeros).
//
// Preallocation: the active segment is kept longer than its frames by a
// region of written zeros. When a group passes the end of that region, the
// zeros that extend the file to the next multiple of PreallocateBytes (at
// most MaxSegmentBytes, unless the group alone is larger) are written right
// after the group, and the group's own fdatasync makes both durable: that
// group pays one file-size commit and the zero bytes' transfer, no other
// group waits. Later groups overwrite blocks inside the file size, so
// their fdatasync commits data only: no size change, no file-system journal
// commit (as PostgreSQL pre-zeroes WAL segments). The default chunk, 256
// KiB, keeps an extending group's extra time near a millisecond; a 4 MiB
// chunk costs it 10-15 ms on this class of disk.
// Before a segment is sealed by rotation, and when the journal is closed,
// it is truncated to its frames and synced: sealed segments and a cleanly
// closed journal hold frames only.
//
// Open validates every segment. A segment whose bytes after its last good
// frame are all zero, up to the end of the file, ends there: the zeros are
// the preallocated region of a journal that was not closed (a crash, a
// kill), and Open truncates the file to its frames and syncs it; Report
// lists it under ZeroTails, not as a cut. This is a byte compare over the
// tail, no frame scan, and it cannot hide a lost acknowledged group: zeros
// hold no frame, so nothing after them proves a later group, and the scan
// below would cut the same bytes. It applies to a sealed segment too (a
// crash between rotation and the trim), whose LSNs must still continue in
// the next segment. A zero header followed by anything non-zero is judged
// as any other bad frame.
//
// Any other bad frame at the end of the last segment is a torn or corrupt
// tail and is cut (the file is truncated to the last good frame, and
// Report says what was cut): it can only be the group whose write was in
// flight at a crash, which was never acknowledged. The group position field
// tells that case apart from real damage: if a valid frame from a later
// group follows the bad one, acknowledged records would be lost, and Open
// fails with a *CorruptError naming the file, the offset and what to do.
// So does any other damage inside an older segment and a missing segment
// (a gap in LSNs). Open never proceeds on a journal with a hole.
//
// Use:
//
//	j, err := filejournal.Open(ctx, dir, filejournal.DefaultOptions())
//	if err != nil { … } // *CorruptError, ErrLocked, I/O errors
//	log.Info("journal opened", "report", j.Report())
//	c, err := journal.NewCommitter(j, journal.DefaultCommitterConfig())
package filejournal
