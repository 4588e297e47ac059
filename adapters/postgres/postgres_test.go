package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"stockd/adapters/testsvc"
)

// maxTestTime bounds each database test.
const maxTestTime = time.Minute

// newTestPool opens a pool on a fresh schema that is dropped when the test ends.
func newTestPool(t *testing.T) (context.Context, *pgxpool.Pool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), maxTestTime)
	t.Cleanup(cancel)
	cfg := DefaultConfig(testsvc.SchemaURL(t))
	cfg.MaxConns = 4
	pool, err := NewPool(ctx, cfg)
	if err != nil {
		t.Fatalf("NewPool: %v", err)
	}
	t.Cleanup(pool.Close)
	return ctx, pool
}

func TestNewPoolSetsConfig(t *testing.T) {
	ctx, pool := newTestPool(t)
	var version string
	if err := pool.QueryRow(ctx, "SHOW server_version").Scan(&version); err != nil {
		t.Fatalf("server_version: %v", err)
	}
	t.Logf("postgres: PostgreSQL %s at %s:%d", version, pool.Config().ConnConfig.Host, pool.Config().ConnConfig.Port)
	if got, want := pool.Config().MaxConns, int32(4); got != want {
		t.Errorf("MaxConns = %d, want %d", got, want)
	}
	if got, want := pool.Config().MinConns, int32(DefaultMinConns); got != want {
		t.Errorf("MinConns = %d, want %d", got, want)
	}
	var timeout, app string
	if err := pool.QueryRow(ctx, "SELECT current_setting('statement_timeout'), current_setting('application_name')").Scan(&timeout, &app); err != nil {
		t.Fatalf("read settings: %v", err)
	}
	if timeout != "30s" || app != DefaultApplicationName {
		t.Errorf("statement_timeout, application_name = %q, %q, want %q, %q", timeout, app, "30s", DefaultApplicationName)
	}
}

func TestMigrateTwiceThenRoundTrip(t *testing.T) {
	ctx, pool := newTestPool(t)
	if err := Migrate(ctx, pool); err != nil {
		t.Fatalf("first Migrate: %v", err)
	}
	before := appliedVersions(ctx, t, pool)
	if err := Migrate(ctx, pool); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	after := appliedVersions(ctx, t, pool)
	migrations, err := Migrations()
	if err != nil {
		t.Fatalf("Migrations: %v", err)
	}
	if len(after) != len(migrations) {
		t.Errorf("schema_migrations has %d rows, want %d", len(after), len(migrations))
	}
	for version, appliedAt := range before {
		if after[version] != appliedAt {
			t.Errorf("version %d applied at %v, then at %v after the second Migrate; want it untouched", version, appliedAt, after[version])
		}
	}

	if _, err := pool.Exec(ctx, "INSERT INTO stockd_meta (key, value) VALUES ($1, $2)", "format", "1"); err != nil {
		t.Fatalf("insert stockd_meta: %v", err)
	}
	var got string
	if err := pool.QueryRow(ctx, "SELECT value FROM stockd_meta WHERE key = $1", "format").Scan(&got); err != nil {
		t.Fatalf("select stockd_meta: %v", err)
	}
	if got != "1" {
		t.Errorf("stockd_meta[format] = %q, want %q", got, "1")
	}
}

// appliedVersions returns schema_migrations as version -> applied_at.
func appliedVersions(ctx context.Context, t *testing.T, pool *pgxpool.Pool) map[int]time.Time {
	t.Helper()
	rows, err := pool.Query(ctx, "SELECT version, applied_at FROM schema_migrations")
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	defer rows.Close()
	got := map[int]time.Time{}
	for rows.Next() {
		var version int
		var at time.Time
		if err := rows.Scan(&version, &at); err != nil {
			t.Fatalf("scan schema_migrations: %v", err)
		}
		got[version] = at
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	return got
}

func TestConcurrentMigratorsApplyEachOnce(t *testing.T) {
	ctx, pool := newTestPool(t)
	// Each migration appends to a log; run twice, it would leave two rows.
	migrations := mustLoad(t, fstest.MapFS{
		"0001_log.sql":  {Data: []byte("CREATE TABLE applied_log (version int NOT NULL)")},
		"0002_one.sql":  {Data: []byte("INSERT INTO applied_log VALUES (2); SELECT pg_sleep(0.05)")},
		"0003_two.sql":  {Data: []byte("INSERT INTO applied_log VALUES (3); SELECT pg_sleep(0.05)")},
		"0004_last.sql": {Data: []byte("INSERT INTO applied_log VALUES (4)")},
	})
	const migrators = 4
	errs := make(chan error, migrators)
	var wg sync.WaitGroup
	for range migrators {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- applyMigrations(ctx, pool, migrations)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent applyMigrations: %v", err)
		}
	}
	var got, want = 0, 3
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM applied_log").Scan(&got); err != nil {
		t.Fatalf("count applied_log: %v", err)
	}
	if got != want {
		t.Errorf("applied_log rows = %d, want %d (each migration once)", got, want)
	}
}

func TestFailedMigrationLeavesNothing(t *testing.T) {
	ctx, pool := newTestPool(t)
	migrations := mustLoad(t, fstest.MapFS{
		"0001_ok.sql":  {Data: []byte("CREATE TABLE first_table (n int)")},
		"0002_bad.sql": {Data: []byte("CREATE TABLE half_done (n int); SELECT 1/0")},
	})
	if err := applyMigrations(ctx, pool, migrations); err == nil {
		t.Fatal("applyMigrations with a failing migration: nil error, want one")
	}
	versions := appliedVersions(ctx, t, pool)
	if _, ok := versions[1]; !ok || len(versions) != 1 {
		t.Errorf("applied versions = %v, want only 1", versions)
	}
	var halfDone *string
	if err := pool.QueryRow(ctx, "SELECT to_regclass('half_done')::text").Scan(&halfDone); err != nil {
		t.Fatalf("look for half_done: %v", err)
	}
	if halfDone != nil {
		t.Errorf("table half_done exists after its migration failed; want it rolled back")
	}
}

func TestChangedMigrationIsRefused(t *testing.T) {
	ctx, pool := newTestPool(t)
	original := mustLoad(t, fstest.MapFS{"0001_t.sql": {Data: []byte("CREATE TABLE t (n int)")}})
	if err := applyMigrations(ctx, pool, original); err != nil {
		t.Fatalf("applyMigrations: %v", err)
	}
	changed := mustLoad(t, fstest.MapFS{"0001_t.sql": {Data: []byte("CREATE TABLE t (n bigint)")}})
	if err := applyMigrations(ctx, pool, changed); !errors.Is(err, ErrMigrationChanged) {
		t.Errorf("applyMigrations with a changed file: %v, want ErrMigrationChanged", err)
	}
}

func mustLoad(t *testing.T, fsys fstest.MapFS) []Migration {
	t.Helper()
	migrations, err := loadMigrations(fsys)
	if err != nil {
		t.Fatalf("loadMigrations: %v", err)
	}
	return migrations
}

func TestLoadMigrationsRejectsBadSets(t *testing.T) {
	sql := &fstest.MapFile{Data: []byte("SELECT 1")}
	bad := map[string]fstest.MapFS{
		"gap":       {"0001_a.sql": sql, "0003_c.sql": sql},
		"duplicate": {"0001_a.sql": sql, "0001_b.sql": sql},
		"bad name":  {"0001_a.sql": sql, "2_b.sql": sql},
		"uppercase": {"0001_A.sql": sql},
		"from two":  {"0002_a.sql": sql},
	}
	for name, fsys := range bad {
		if _, err := loadMigrations(fsys); !errors.Is(err, ErrBadMigration) {
			t.Errorf("%s: loadMigrations error = %v, want ErrBadMigration", name, err)
		}
	}
	got, err := loadMigrations(fstest.MapFS{"0002_b.sql": sql, "0001_a.sql": sql})
	if err != nil {
		t.Fatalf("loadMigrations: %v", err)
	}
	if len(got) != 2 || got[0].Name != "0001_a" || got[1].Name != "0002_b" {
		t.Errorf("loadMigrations order = %v, want 0001_a, 0002_b", names(got))
	}
}

func TestEmbeddedMigrationsLoad(t *testing.T) {
	migrations, err := Migrations()
	if err != nil {
		t.Fatalf("Migrations: %v", err)
	}
	if len(migrations) == 0 || migrations[0].Name != "0001_init" {
		t.Errorf("embedded migrations = %v, want 0001_init first", names(migrations))
	}
}

func names(migrations []Migration) []string {
	out := make([]string, len(migrations))
	for i, m := range migrations {
		out[i] = m.Name
	}
	return out
}

func TestConfigValidation(t *testing.T) {
	bad := map[string]func(*Config){
		"empty url":     func(c *Config) { c.URL = "" },
		"no conns":      func(c *Config) { c.MaxConns = 0 },
		"too many":      func(c *Config) { c.MaxConns = MaxPoolConns + 1 },
		"min over max":  func(c *Config) { c.MinConns = c.MaxConns + 1 },
		"zero timeout":  func(c *Config) { c.ConnectTimeout = 0 },
		"negative jitt": func(c *Config) { c.MaxConnLifetimeJitter = -time.Second },
	}
	for name, change := range bad {
		cfg := DefaultConfig("postgres://127.0.0.1:1/db")
		change(&cfg)
		if _, err := NewPool(context.Background(), cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: NewPool error = %v, want ErrInvalidConfig", name, err)
		}
	}
	if err := DefaultConfig("postgres://127.0.0.1:1/db").Validate(); err != nil {
		t.Errorf("DefaultConfig: %v", err)
	}
}

func TestNewPoolReportsUnreachableDatabase(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), maxTestTime)
	defer cancel()
	cfg := DefaultConfig(fmt.Sprintf("postgres://nobody@127.0.0.1:%d/none?sslmode=disable", 1))
	cfg.ConnectTimeout = time.Second
	pool, err := NewPool(ctx, cfg)
	if err == nil {
		pool.Close()
		t.Fatal("NewPool to a closed port: nil error, want one")
	}
}
