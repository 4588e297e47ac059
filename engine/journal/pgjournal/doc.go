// Package pgjournal is the PostgreSQL journal.Backend, through pgx: records
// in the table journal(lsn, rec), snapshots in journal_snapshot, both
// created by adapters/postgres migration 0002_journal.sql.
//
// Each WriteBatch (one group from the committer) is one COPY statement: one
// transaction and one commit, made durable by the server's
// synchronous_commit (Open refuses a session where it is off). COPY was
// measured faster than a single INSERT … SELECT FROM unnest($1::bigint[],
// $2::bytea[]) for groups (BenchmarkWriteMethod) and as fast for one record. Replay reads
// in LSN order in batches of Options.ReplayBatchRecords (keyset pages), so
// memory stays bounded. A session-level advisory lock, held on a dedicated
// connection, keeps a second process from opening the same schema's
// journal; the primary key keeps two writers from ever interleaving.
//
// After a failed write the outcome of that statement is unknown, so the
// Journal refuses further writes; reopen it (LastLSN is read again from the
// table). Database errors reach the committer, which reports them as
// journal.ErrUnavailable (HTTP 503).
//
// Use:
//
//	pool, _ := postgres.NewPool(ctx, postgres.DefaultConfig(url)) // MaxConns ≥ 2
//	_ = postgres.Migrate(ctx, pool)
//	j, err := pgjournal.Open(ctx, pool, pgjournal.DefaultOptions())
//	c, err := journal.NewCommitter(j, journal.DefaultCommitterConfig())
package pgjournal
