package pgjournal_test

import (
	"testing"

	"stockd/engine/journal"
	"stockd/engine/journal/journaltest"
)

// BenchmarkGroupCommit: durable records/s through the committer with 1,
// 16 and 256 callers, against one WriteBatch (one committed COPY) per
// record measured in the same run (journaltest.BenchGroupCommit).
func BenchmarkGroupCommit(b *testing.B) {
	journaltest.BenchGroupCommit(b, func(tb testing.TB) journal.Backend {
		return open(tb, newPool(tb))
	}, "commit-per-record", 500)
}
