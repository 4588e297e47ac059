// Package journal makes ledger changes durable before they are acknowledged.
//
// Every change to the reservation ledger is encoded by the ledger as an opaque
// record and appended here. Each record gets a log sequence number (LSN):
// 1, 2, 3, … with no gaps. Recovery loads the latest snapshot and replays the
// records after its LSN.
//
// The package has three parts:
//
//   - Backend is the storage interface: a durable append-only log of records
//     plus snapshot storage. Backends live in their own packages
//     (filejournal: segmented local files; pgjournal: PostgreSQL) and
//     MemBackend here is a crashable in-memory one for tests and simulations.
//   - Committer is the group committer in front of a Backend. A single-writer
//     engine enqueues records in order and gets a Ticket per change; one
//     flusher goroutine writes everything queued so far as one group (one
//     WriteBatch: one fdatasync or one database round trip) and completes
//     the tickets in LSN order. Many changes share one flush.
//   - journaltest (a sub-package) is the contract suite every Backend passes.
//
// A typical engine loop:
//
//	b, _ := filejournal.Open(ctx, dir, filejournal.DefaultOptions())
//	snapLSN, snap, err := b.LoadSnapshot(ctx) // journal.ErrNoSnapshot on first start
//	// … restore the ledger from snap, then:
//	_ = b.Replay(ctx, snapLSN+1, func(lsn uint64, rec []byte) error { return ledger.ApplyRecord(rec) })
//	c, _ := journal.NewCommitter(b, journal.DefaultCommitterConfig())
//	defer c.Close(ctx)
//
//	// In the engine goroutine, per command:
//	ticket, err := c.Enqueue(record) // journal.ErrQueueFull → HTTP 429
//	// … hand the ticket to the request goroutine, which answers once
//	// ticket.Wait(ctx) returns nil, and 503 if it wraps journal.ErrUnavailable.
//
// A reply that changes nothing but depends on state changed by records not
// yet durable (409 insufficient stock because of a hold enqueued a moment
// ago) waits on a barrier: Enqueue() with no records.
//
// # Snapshots
//
// A snapshot of the state at LSN s is saved only once s is durable
// (Committer.DurableLSN() ≥ s; SaveSnapshot refuses an LSN past LastLSN).
// Truncate then drops records the snapshots cover. Backends keep two
// snapshots; truncating through the older one's LSN keeps the records
// needed to fall back to it if the newer one is found damaged.
//
// # Failure semantics
//
// A failed write is never retried: the committer enters a failed state, fails
// the tickets of the failed group and of every later record with an error
// wrapping ErrUnavailable, and refuses new records. The process must recover
// (close, reopen the backend, reload the snapshot, replay). The records of a
// failed group were never acknowledged, but they may or may not be found after
// recovery (the data can reach the disk even though the sync reported an
// error), so a client that got 503 retries with the same idempotency key.
//
// A record is the unit of atomicity: after a crash the journal holds a prefix
// of the records written, cut at a record boundary. A change that must be all
// or nothing is encoded as one record.
package journal
