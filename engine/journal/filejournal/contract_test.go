package filejournal_test

import (
	"context"
	"testing"

	"stockd/engine/journal"
	"stockd/engine/journal/filejournal"
	"stockd/engine/journal/journaltest"
)

func TestContract(t *testing.T) {
	journaltest.RunBackendContract(t, func(tb testing.TB) journaltest.Opener {
		dir := tb.TempDir()
		return func() (journal.Backend, error) {
			return filejournal.Open(context.Background(), dir, filejournal.DefaultOptions())
		}
	})
}

// TestContractSmallSegments runs the contract with segments of a few
// hundred bytes, so rotation and segment removal happen constantly.
func TestContractSmallSegments(t *testing.T) {
	opts := filejournal.DefaultOptions()
	opts.MaxSegmentBytes = 512
	journaltest.RunBackendContract(t, func(tb testing.TB) journaltest.Opener {
		dir := tb.TempDir()
		return func() (journal.Backend, error) {
			return filejournal.Open(context.Background(), dir, opts)
		}
	})
}
