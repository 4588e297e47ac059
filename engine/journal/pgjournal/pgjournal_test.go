package pgjournal_test

import (
	"context"
	"errors"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"stockd/adapters/postgres"
	"stockd/adapters/testsvc"
	"stockd/engine/journal"
	"stockd/engine/journal/journaltest"
	"stockd/engine/journal/pgjournal"
)

// newPool returns a pool on a fresh, migrated schema of its own.
func newPool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	return poolFor(tb, testsvc.SchemaURL(tb))
}

func poolFor(tb testing.TB, url string) *pgxpool.Pool {
	tb.Helper()
	ctx := context.Background()
	cfg := postgres.DefaultConfig(url)
	cfg.MaxConns = 4
	pool, err := postgres.NewPool(ctx, cfg)
	if err != nil {
		tb.Fatalf("NewPool: %v", err)
	}
	tb.Cleanup(pool.Close)
	if err := postgres.Migrate(ctx, pool); err != nil {
		tb.Fatalf("Migrate: %v", err)
	}
	return pool
}

func open(tb testing.TB, pool *pgxpool.Pool) *pgjournal.Journal {
	tb.Helper()
	j, err := pgjournal.Open(context.Background(), pool, pgjournal.DefaultOptions())
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { _ = j.Close() })
	return j
}

func TestContract(t *testing.T) {
	journaltest.RunBackendContract(t, func(tb testing.TB) journaltest.Opener {
		pool := newPool(tb)
		return func() (journal.Backend, error) {
			return pgjournal.Open(context.Background(), pool, pgjournal.DefaultOptions())
		}
	})
}

func TestReplayInSmallBatches(t *testing.T) {
	pool := newPool(t)
	opts := pgjournal.DefaultOptions()
	opts.ReplayBatchRecords = 7
	j, err := pgjournal.Open(context.Background(), pool, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	journaltest.MustWrite(t, j, 50)
	journaltest.MustWrite(t, j, 3)
	journaltest.CheckRecords(t, j, 1, 53)
	journaltest.CheckRecords(t, j, 20, 53)
}

func TestLockHeld(t *testing.T) {
	pool := newPool(t)
	j := open(t, pool)
	if _, err := pgjournal.Open(context.Background(), pool, pgjournal.DefaultOptions()); !errors.Is(err, pgjournal.ErrLocked) {
		t.Fatalf("second Open: err = %v, want ErrLocked", err)
	}
	journaltest.MustClose(t, j)
	j2 := open(t, pool)
	journaltest.MustWrite(t, j2, 1)
}

func TestRefusesSynchronousCommitOff(t *testing.T) {
	u, err := url.Parse(testsvc.SchemaURL(t))
	if err != nil {
		t.Skipf("database URL is not a URL: %v", err)
	}
	q := u.Query()
	q.Set("synchronous_commit", "off") // a startup parameter of these connections only
	u.RawQuery = q.Encode()
	pool := poolFor(t, u.String())
	if _, err := pgjournal.Open(context.Background(), pool, pgjournal.DefaultOptions()); !errors.Is(err, pgjournal.ErrNotDurable) {
		t.Fatalf("Open with synchronous_commit off: err = %v, want ErrNotDurable", err)
	}
}

func TestGapIsCorrupt(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t)
	j := open(t, pool)
	journaltest.MustWrite(t, j, 10)
	if _, err := pool.Exec(ctx, "DELETE FROM journal WHERE lsn = 5"); err != nil {
		t.Fatal(err)
	}
	err := j.Replay(ctx, 1, func(uint64, []byte) error { return nil })
	if !errors.Is(err, pgjournal.ErrCorrupt) {
		t.Fatalf("Replay over a gap: err = %v, want ErrCorrupt", err)
	}
}

func TestDamagedSnapshotFallsBack(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t)
	j := open(t, pool)
	journaltest.MustWrite(t, j, 10)
	for _, lsn := range []uint64{3, 6, 9} {
		if err := j.SaveSnapshot(ctx, lsn, []byte{byte(lsn)}); err != nil {
			t.Fatal(err)
		}
	}
	var rows int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM journal_snapshot").Scan(&rows); err != nil || rows != 2 {
		t.Fatalf("snapshot rows = %d (%v), want 2", rows, err)
	}
	if _, err := pool.Exec(ctx, "UPDATE journal_snapshot SET data = '\\x00' WHERE lsn = 9"); err != nil {
		t.Fatal(err)
	}
	lsn, data, err := j.LoadSnapshot(ctx)
	if err != nil || lsn != 6 || len(data) != 1 || data[0] != 6 {
		t.Fatalf("LoadSnapshot = %d, %x, %v; want the previous snapshot (6)", lsn, data, err)
	}
}

// TestDatabaseErrorFailsCommitter makes the database refuse the insert
// under a running committer: the write fails, the committer enters the
// failed state, and reopening recovers every acknowledged record.
func TestDatabaseErrorFailsCommitter(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t)
	j := open(t, pool)
	c := journaltest.MustCommitter(t, j, journaltest.TestConfig())
	for lsn := uint64(1); lsn <= 20; lsn++ {
		if err := c.Commit(ctx, journaltest.Record(lsn)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, "ALTER TABLE journal RENAME TO journal_away"); err != nil {
		t.Fatal(err)
	}
	if err := c.Commit(ctx, journaltest.Record(21)); !errors.Is(err, journal.ErrUnavailable) {
		t.Fatalf("Commit with the table gone: err = %v, want ErrUnavailable", err)
	}
	if c.Healthy() {
		t.Fatalf("committer healthy after a database error")
	}
	if _, err := pool.Exec(ctx, "ALTER TABLE journal_away RENAME TO journal"); err != nil {
		t.Fatal(err)
	}
	if err := j.WriteBatch(ctx, 21, journaltest.Records(21, 1)); !errors.Is(err, journal.ErrUnavailable) {
		t.Fatalf("WriteBatch after a failed write: err = %v, want ErrUnavailable (reopen first)", err)
	}
	_ = c.Close(ctx)
	journaltest.MustClose(t, j)
	j2 := open(t, pool)
	if got := j2.LastLSN(); got != 20 {
		t.Fatalf("LastLSN after reopening = %d, want 20", got)
	}
	journaltest.CheckRecords(t, j2, 1, 20)
}
