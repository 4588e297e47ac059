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
// when the next group would take the current one past MaxSegmentBytes.
//
// Open validates every segment. At the end of the last segment a torn or
// corrupt tail is cut (the file is truncated to the last good frame, and
// Report says what was cut): it can only be the group whose write was in
// flight at a crash, which was never acknowledged. The group position field
// tells that case apart from real damage: if a valid frame from a later group
// follows the bad one, acknowledged records would be lost, and Open fails
// with a *CorruptError naming the file, the offset and what to do. So does
// any damage inside an older segment and a missing segment (a gap in LSNs).
// Open never proceeds on a journal with a hole.
//
// Use:
//
//	j, err := filejournal.Open(ctx, dir, filejournal.DefaultOptions())
//	if err != nil { … } // *CorruptError, ErrLocked, I/O errors
//	log.Info("journal opened", "report", j.Report())
//	c, err := journal.NewCommitter(j, journal.DefaultCommitterConfig())
package filejournal
