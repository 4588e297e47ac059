// Package journaltest is the contract suite that every journal.Backend
// passes, so the file, PostgreSQL and in-memory backends behave alike:
//
//	func TestContract(t *testing.T) {
//		journaltest.RunBackendContract(t, func(tb testing.TB) journaltest.Opener {
//			dir := tb.TempDir()
//			return func() (journal.Backend, error) { return filejournal.Open(ctx, dir, opts) }
//		})
//	}
//
// The suite drives each backend directly and through a journal.Committer:
// append and replay order, reopen, truncate, snapshots, concurrent
// committers, a full queue, and write failures (failed state, no
// acknowledgement, a dense prefix after recovery).
package journaltest
