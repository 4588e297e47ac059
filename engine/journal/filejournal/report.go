package filejournal

import (
	"fmt"
	"strings"
)

// OpenReport describes what Open found and repaired. Log it once at start.
type OpenReport struct {
	Created          bool       // the journal was empty and its first segment was created
	Segments         int        // segment files after Open
	FirstLSN         uint64     // first retained LSN (first segment's base)
	LastLSN          uint64     // last durable LSN
	Cut              *TailCut   // the torn tail that was cut, nil if the tail was clean
	ZeroTails        []ZeroTail // preallocated zeros trimmed after the last frame of a segment: not damage
	CorruptSnapshots []string   // snapshot files that failed their checksum and are ignored
	RemovedTempFiles []string   // leftovers of interrupted snapshot writes
}

// TailCut describes bytes removed from the end of the last segment.
type TailCut struct {
	Segment     string // file path
	Offset      int64  // new size of the file
	Bytes       int64  // bytes removed
	FirstLSN    uint64 // LSN the first removed frame should have carried
	Reason      string // why the frame at Offset was rejected
	TornRecords int    // valid frames of the same, never acknowledged, group that were removed too
}

// ZeroTail describes preallocated zeros that Open trimmed from the end of a
// segment: the journal was not closed (a crash, a kill) while the segment
// was extended ahead of its writes. No record is lost; nothing was torn.
type ZeroTail struct {
	Segment string // file path
	Offset  int64  // new size of the file: the end of its last frame
	Bytes   int64  // zero bytes removed
}

func (r OpenReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "segments=%d first_lsn=%d last_lsn=%d", r.Segments, r.FirstLSN, r.LastLSN)
	if r.Created {
		b.WriteString(" created")
	}
	if c := r.Cut; c != nil {
		fmt.Fprintf(&b, " cut=%q offset=%d bytes=%d from_lsn=%d torn_records=%d reason=%q",
			c.Segment, c.Offset, c.Bytes, c.FirstLSN, c.TornRecords, c.Reason)
	}
	for _, z := range r.ZeroTails {
		fmt.Fprintf(&b, " zero_tail=%q offset=%d bytes=%d", z.Segment, z.Offset, z.Bytes)
	}
	if len(r.CorruptSnapshots) > 0 {
		fmt.Fprintf(&b, " corrupt_snapshots=%q", r.CorruptSnapshots)
	}
	if len(r.RemovedTempFiles) > 0 {
		fmt.Fprintf(&b, " removed_temp_files=%q", r.RemovedTempFiles)
	}
	return b.String()
}
