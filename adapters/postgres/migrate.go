package postgres

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Migration errors.
var (
	// ErrBadMigration means the embedded migration files are misnamed, duplicated or not numbered 1, 2, 3...
	ErrBadMigration = errors.New("postgres: bad migration file")
	// ErrMigrationChanged means a migration recorded as applied no longer has the same text.
	// Retrying does not help: restore the file, or add a new migration instead.
	ErrMigrationChanged = errors.New("postgres: applied migration changed")
)

// migrationLockClass is the first key of the advisory lock that migrators of one schema share
// (the second is a hash of the schema name). It spells "stkd".
const migrationLockClass = 0x73746b64

//go:embed migrations/*.sql
var embeddedMigrations embed.FS

// migrationName is NNNN_name.sql: a four-digit version and a lower-case name.
var migrationName = regexp.MustCompile(`^([0-9]{4})_([a-z0-9_]+)\.sql$`)

// Migration is one schema change, applied once per schema.
type Migration struct {
	Version  int    // 1, 2, 3... from the file name
	Name     string // file name without the .sql suffix, e.g. "0001_init"
	SQL      string
	Checksum string // hex SHA-256 of SQL
}

// Migrations returns the migrations built into the binary, in order.
func Migrations() ([]Migration, error) {
	sub, err := fs.Sub(embeddedMigrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadMigration, err)
	}
	return loadMigrations(sub)
}

// loadMigrations reads every *.sql file at the top of fsys and checks that they are numbered
// 1, 2, 3... without gaps or duplicates.
func loadMigrations(fsys fs.FS) ([]Migration, error) {
	paths, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadMigration, err)
	}
	migrations := make([]Migration, 0, len(paths))
	for _, p := range paths {
		match := migrationName.FindStringSubmatch(path.Base(p))
		if match == nil {
			return nil, fmt.Errorf("%w: %s is not named NNNN_name.sql", ErrBadMigration, p)
		}
		version, _ := strconv.Atoi(match[1])
		text, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrBadMigration, p, err)
		}
		sum := sha256.Sum256(text)
		migrations = append(migrations, Migration{
			Version:  version,
			Name:     match[1] + "_" + match[2],
			SQL:      string(text),
			Checksum: hex.EncodeToString(sum[:]),
		})
	}
	sort.Slice(migrations, func(i, j int) bool { return migrations[i].Version < migrations[j].Version })
	for i, m := range migrations {
		if m.Version != i+1 {
			return nil, fmt.Errorf("%w: %s where version %04d was expected", ErrBadMigration, m.Name, i+1)
		}
	}
	return migrations, nil
}

// Migrate brings the schema that pool's connections use (their search_path) up to date with
// the built-in migrations. It is idempotent and safe to run from several processes at once.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	migrations, err := Migrations()
	if err != nil {
		return err
	}
	return applyMigrations(ctx, pool, migrations)
}

// applyMigrations applies the pending migrations one transaction at a time; each transaction
// first takes the schema's migration lock, so concurrent migrators apply each migration once.
func applyMigrations(ctx context.Context, pool *pgxpool.Pool, migrations []Migration) error {
	for {
		done, err := applyNext(ctx, pool, migrations)
		if err != nil || done {
			return err
		}
	}
}

// applyNext applies the first pending migration, or reports done when there is none.
func applyNext(ctx context.Context, pool *pgxpool.Pool, migrations []Migration) (done bool, err error) {
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted, AccessMode: pgx.ReadWrite})
	if err != nil {
		return false, fmt.Errorf("postgres: migrate: begin: %w", err)
	}
	defer func() {
		if rbErr := tx.Rollback(ctx); rbErr != nil && !errors.Is(rbErr, pgx.ErrTxClosed) && err == nil {
			err = fmt.Errorf("postgres: migrate: rollback: %w", rbErr)
		}
	}()
	applied, err := lockAndReadApplied(ctx, tx)
	if err != nil {
		return false, err
	}
	next, err := firstPending(migrations, applied)
	if err != nil {
		return false, err
	}
	if next == nil {
		return true, commit(ctx, tx, "")
	}
	if _, err := tx.Exec(ctx, next.SQL); err != nil {
		return false, fmt.Errorf("postgres: migration %s: %w", next.Name, err)
	}
	if _, err := tx.Exec(ctx,
		"INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
		next.Version, next.Name, next.Checksum); err != nil {
		return false, fmt.Errorf("postgres: migration %s: record: %w", next.Name, err)
	}
	return false, commit(ctx, tx, next.Name)
}

// lockAndReadApplied takes the schema's migration lock for the rest of tx, creates the
// schema_migrations table if needed, and returns the checksums of the applied versions.
func lockAndReadApplied(ctx context.Context, tx pgx.Tx) (map[int]string, error) {
	// Migrations may run longer than the pool's statement_timeout; ctx bounds them instead.
	if _, err := tx.Exec(ctx, "SET LOCAL statement_timeout = 0"); err != nil {
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	if _, err := tx.Exec(ctx,
		"SELECT pg_advisory_xact_lock($1, hashtext(coalesce(current_schema(), '')))",
		int32(migrationLockClass)); err != nil {
		return nil, fmt.Errorf("postgres: migrate: lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		checksum   text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return nil, fmt.Errorf("postgres: migrate: create schema_migrations: %w", err)
	}
	rows, err := tx.Query(ctx, "SELECT version, checksum FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("postgres: migrate: read schema_migrations: %w", err)
	}
	applied := map[int]string{}
	var version int
	var checksum string
	if _, err := pgx.ForEachRow(rows, []any{&version, &checksum}, func() error {
		applied[version] = checksum
		return nil
	}); err != nil {
		return nil, fmt.Errorf("postgres: migrate: read schema_migrations: %w", err)
	}
	return applied, nil
}

// firstPending checks the applied migrations' checksums and returns the first migration not
// applied yet, or nil.
func firstPending(migrations []Migration, applied map[int]string) (*Migration, error) {
	var pending *Migration
	for i := range migrations {
		m := &migrations[i]
		checksum, ok := applied[m.Version]
		switch {
		case ok && checksum != m.Checksum:
			return nil, fmt.Errorf("%w: %s was applied with checksum %s, the file now has %s", ErrMigrationChanged, m.Name, checksum, m.Checksum)
		case !ok && pending == nil:
			pending = m
		}
	}
	return pending, nil
}

func commit(ctx context.Context, tx pgx.Tx, name string) error {
	if err := tx.Commit(ctx); err != nil {
		if name == "" {
			return fmt.Errorf("postgres: migrate: commit: %w", err)
		}
		return fmt.Errorf("postgres: migration %s: commit: %w", name, err)
	}
	return nil
}
