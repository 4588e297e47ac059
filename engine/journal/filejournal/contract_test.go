package filejournal_test

import (
	"context"
	"fmt"
	"testing"

	"stockd/engine/journal"
	"stockd/engine/journal/filejournal"
	"stockd/engine/journal/journaltest"
)

func runContract(t *testing.T, opts filejournal.Options) {
	t.Helper()
	journaltest.RunBackendContract(t, func(tb testing.TB) journaltest.Opener {
		dir := tb.TempDir()
		return func() (journal.Backend, error) {
			return filejournal.Open(context.Background(), dir, opts)
		}
	})
}

// TestContract runs the contract with the production options (segments
// preallocated) and with preallocation off.
func TestContract(t *testing.T) {
	t.Run("default", func(t *testing.T) { runContract(t, filejournal.DefaultOptions()) })
	t.Run("no-preallocation", func(t *testing.T) {
		opts := filejournal.DefaultOptions()
		opts.PreallocateBytes = 0
		runContract(t, opts)
	})
}

// TestContractSmallSegments runs the contract with segments of a few
// hundred bytes, so rotation and segment removal happen constantly:
// without preallocation, with chunks smaller than most groups (a group
// extends the file past several chunks), and with the default chunk (a
// segment is preallocated to MaxSegmentBytes and trimmed when sealed).
func TestContractSmallSegments(t *testing.T) {
	for _, prealloc := range []int64{0, 64, filejournal.DefaultOptions().PreallocateBytes} {
		t.Run(fmt.Sprintf("prealloc=%d", prealloc), func(t *testing.T) {
			opts := filejournal.DefaultOptions()
			opts.MaxSegmentBytes = 512
			opts.PreallocateBytes = prealloc
			runContract(t, opts)
		})
	}
}
