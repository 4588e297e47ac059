package filejournal_test

import (
	"context"
	"testing"

	"stockd/engine/journal"
	"stockd/engine/journal/filejournal"
	"stockd/engine/journal/journaltest"
)

// BenchmarkGroupCommit: durable records/s through the committer with 1,
// 16 and 256 callers, against one WriteBatch (pwrite + fdatasync) per
// record measured in the same run (journaltest.BenchGroupCommit).
func BenchmarkGroupCommit(b *testing.B) {
	journaltest.BenchGroupCommit(b, func(tb testing.TB) journal.Backend {
		j, err := filejournal.Open(context.Background(), tb.TempDir(), filejournal.DefaultOptions())
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { _ = j.Close() })
		return j
	}, "fsync-per-record", 2000)
}
