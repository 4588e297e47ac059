package filejournal

import (
	"errors"
	"fmt"
)

var (
	// ErrCorrupt is matched (errors.Is) by every *CorruptError.
	ErrCorrupt = errors.New("filejournal: corrupt")
	// ErrLocked means another process (or another Open in this process)
	// holds the directory.
	ErrLocked = errors.New("filejournal: directory locked by another journal")
)

// CorruptError is damage that Open or Replay will not repair on its own
// because acknowledged records would be lost. It names the file, the offset
// and what the operator should do.
type CorruptError struct {
	Path   string // the damaged file
	Offset int64  // byte offset of the damage; -1 for a whole file
	Reason string // what is wrong
	Action string // what to do about it
}

func (e *CorruptError) Error() string {
	if e.Offset < 0 {
		return fmt.Sprintf("filejournal: corrupt %s: %s; %s", e.Path, e.Reason, e.Action)
	}
	return fmt.Sprintf("filejournal: corrupt %s at offset %d: %s; %s", e.Path, e.Offset, e.Reason, e.Action)
}

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

const (
	actionRestore = "acknowledged records after this point would be lost: stop, restore the journal directory " +
		"from a backup or a standby, and start again (stockd does not start on a journal with a hole)"
	actionMissing = "a segment file is missing or was renamed: restore it from a backup or a standby"
)
