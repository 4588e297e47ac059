package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"stockd/engine/journal"

	"stockd/adapters/postgres"
	"stockd/engine/journal/filejournal"
	"stockd/engine/journal/pgjournal"
	"stockd/reservation"
)

// openBackend opens the configured journal backend.
func openBackend(ctx context.Context, cfg JournalConfig) (journal.Backend, error) {
	switch cfg.Kind {
	case JournalFile:
		j, err := filejournal.Open(ctx, cfg.Dir, filejournal.DefaultOptions())
		if err != nil {
			return nil, fmt.Errorf("engine: open the file journal in %s: %w", cfg.Dir, err)
		}
		return j, nil
	case JournalPostgres:
		return openPostgresJournal(ctx, cfg)
	default:
		return nil, fmt.Errorf("engine: journal kind %q is not available in this build", cfg.Kind)
	}
}

// pgBackend is the PostgreSQL journal with the pool it owns.
type pgBackend struct {
	*pgjournal.Journal
	pool *pgxpool.Pool
}

func (b *pgBackend) Close() error {
	err := b.Journal.Close()
	b.pool.Close()
	return err
}

// openPostgresJournal opens a pool, applies the schema migrations and
// opens the journal on it.
func openPostgresJournal(ctx context.Context, cfg JournalConfig) (journal.Backend, error) {
	pcfg := postgres.DefaultConfig(cfg.DatabaseURL)
	if cfg.MaxConns > 0 {
		pcfg.MaxConns = cfg.MaxConns
		pcfg.MinConns = min(pcfg.MinConns, cfg.MaxConns)
	}
	pool, err := postgres.NewPool(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("engine: connect to the journal database: %w", err)
	}
	if err := postgres.Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("engine: migrate the journal database: %w", err)
	}
	j, err := pgjournal.Open(ctx, pool, pgjournal.DefaultOptions())
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("engine: open the PostgreSQL journal: %w", err)
	}
	return &pgBackend{Journal: j, pool: pool}, nil
}

// recoverLedger rebuilds the ledger from the latest snapshot and the
// journal records after it. A record that does not decode or does not
// apply stops recovery with an error that says what to do: stockd never
// serves from a state it could not rebuild exactly.
func recoverLedger(ctx context.Context, b journal.Backend, lcfg reservation.Config, log *slog.Logger) (*reservation.Ledger, error) {
	start := time.Now()
	ledger, fromLSN, err := loadSnapshot(ctx, b, lcfg)
	if err != nil {
		return nil, err
	}
	var replayed int
	var bad *badRecordError
	err = b.Replay(ctx, fromLSN, func(lsn uint64, data []byte) error {
		rec, err := reservation.DecodeRecord(data)
		if err != nil {
			return &badRecordError{fmt.Errorf("record %d: %w", lsn, err)}
		}
		if rec.Seq != lsn {
			return &badRecordError{fmt.Errorf("record %d carries seq %d", lsn, rec.Seq)}
		}
		if err := ledger.ApplyRecord(&rec, nil); err != nil {
			return &badRecordError{fmt.Errorf("record %d: %w", lsn, err)}
		}
		replayed++
		return nil
	})
	switch {
	case errors.As(err, &bad):
		return nil, fmt.Errorf("engine: recovery: %w; the journal and snapshot disagree with this build — "+
			"keep the data directory for inspection and restore it from a backup", bad.err)
	case errors.Is(err, journal.ErrTruncated), errors.Is(err, filejournal.ErrCorrupt), errors.Is(err, pgjournal.ErrCorrupt):
		// the journal itself is damaged or lacks records the snapshot
		// needs (the error says what): retrying cannot help
		return nil, fmt.Errorf("engine: recovery: %w; the journal cannot rebuild the ledger — "+
			"keep the data directory for inspection and restore it from a backup", err)
	case err != nil:
		// reading failed (a disk or database error, a cancelled start):
		// nothing is wrong with what was written, so no restore
		return nil, fmt.Errorf("engine: recovery: read the journal after record %d: %w; nothing was changed — "+
			"retry once the journal's storage answers (do not restore a backup for this)", fromLSN-1+uint64(replayed), err)
	}
	if got, want := ledger.Seq(), b.LastLSN(); got != want {
		return nil, fmt.Errorf("engine: recovery: ledger at record %d, journal ends at %d", got, want)
	}
	log.Info("ledger recovered", "from_lsn", fromLSN, "records", replayed, "last_lsn", ledger.Seq(),
		"skus", ledger.SKUCount(), "active_holds", ledger.ActiveHolds(), "took", time.Since(start).String())
	return ledger, nil
}

// badRecordError is a journal record that recovery could not decode or
// apply: the data, not the reading, is wrong.
type badRecordError struct{ err error }

func (e *badRecordError) Error() string { return e.err.Error() }
func (e *badRecordError) Unwrap() error { return e.err }

// loadSnapshot returns the ledger to replay onto and the first LSN to replay.
func loadSnapshot(ctx context.Context, b journal.Backend, lcfg reservation.Config) (*reservation.Ledger, uint64, error) {
	lsn, data, err := b.LoadSnapshot(ctx)
	switch {
	case errors.Is(err, journal.ErrNoSnapshot):
		l, err := reservation.New(lcfg)
		return l, 1, err
	case err != nil:
		return nil, 0, fmt.Errorf("engine: load snapshot: %w", err)
	}
	l, err := reservation.Restore(lcfg, data)
	if err != nil {
		return nil, 0, fmt.Errorf("engine: snapshot at record %d: %w", lsn, err)
	}
	if l.Seq() != lsn {
		return nil, 0, fmt.Errorf("engine: snapshot stored at record %d holds state at %d", lsn, l.Seq())
	}
	return l, lsn + 1, nil
}
