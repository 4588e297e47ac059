package journal

import (
	"context"
	"errors"
)

// Sentinel errors. Backends and the Committer wrap them; test with errors.Is.
var (
	// ErrQueueFull means the committer's queue is at MaxQueuedRecords or
	// MaxQueuedBytes. Nothing was enqueued; the API answers 429.
	ErrQueueFull = errors.New("journal: queue full")
	// ErrUnavailable means a record could not be made durable, or the
	// committer is in the failed state after an earlier write error. The API
	// answers 503; the process recovers by reopening the backend.
	ErrUnavailable = errors.New("journal: unavailable")
	// ErrClosed means the committer or backend was closed.
	ErrClosed = errors.New("journal: closed")
	// ErrTooLarge means one Enqueue carries more records or bytes than a
	// group may hold, or a record exceeds a backend's limit.
	ErrTooLarge = errors.New("journal: too large")
	// ErrNoSnapshot is returned by LoadSnapshot when no snapshot was saved.
	ErrNoSnapshot = errors.New("journal: no snapshot")
	// ErrTruncated means Replay was asked for records that Truncate already
	// dropped: the snapshot they were dropped for must be loaded instead.
	ErrTruncated = errors.New("journal: records truncated")
	// ErrLSN means an LSN argument does not fit the journal: WriteBatch not
	// at LastLSN()+1, Truncate or SaveSnapshot beyond LastLSN().
	ErrLSN = errors.New("journal: LSN out of range")
)

// Backend is durable storage for journal records and snapshots.
//
// Concurrency: WriteBatch is called by one goroutine at a time (the
// Committer's flusher). Replay, Truncate, SaveSnapshot, LoadSnapshot and
// LastLSN may be called concurrently with WriteBatch and with each other.
//
// After WriteBatch returns an error the backend may refuse further writes
// (an fsync error is not retried on the same file descriptor); the owner
// closes it and opens it again to recover.
type Backend interface {
	// WriteBatch appends recs with LSNs firstLSN, firstLSN+1, … and returns
	// once they are durable (file: one write and one fdatasync; database:
	// one committed round trip). firstLSN must be LastLSN()+1, else the error
	// wraps ErrLSN and nothing is written. recs is not retained.
	WriteBatch(ctx context.Context, firstLSN uint64, recs [][]byte) error

	// Replay calls fn for every retained record with LSN ≥ fromLSN, in LSN
	// order, up to the LastLSN at the time of the call. rec is valid only
	// until fn returns. An error from fn stops the replay and is returned.
	// If records at or after fromLSN were dropped by Truncate, the error
	// wraps ErrTruncated and fn is not called. fromLSN 0 means 1.
	Replay(ctx context.Context, fromLSN uint64, fn func(lsn uint64, rec []byte) error) error

	// Truncate drops records with LSN ≤ throughLSN that a snapshot covers.
	// A backend may keep some of them (the file backend drops whole
	// segments); it never drops a record after throughLSN and LastLSN does
	// not change. throughLSN > LastLSN() is an error wrapping ErrLSN.
	Truncate(ctx context.Context, throughLSN uint64) error

	// LastLSN is the LSN of the last durable record, 0 for an empty journal.
	LastLSN() uint64

	// SaveSnapshot durably and atomically stores data as the state after
	// applying every record through lsn; lsn must be ≤ LastLSN(). A crash
	// leaves either the old or the new snapshot, never a torn one.
	SaveSnapshot(ctx context.Context, lsn uint64, data []byte) error

	// LoadSnapshot returns the latest valid snapshot (checksum verified), or
	// an error wrapping ErrNoSnapshot when there is none.
	LoadSnapshot(ctx context.Context) (lsn uint64, data []byte, err error)

	// Close releases the backend. It does not flush anything: every write
	// was durable when WriteBatch returned.
	Close() error
}
