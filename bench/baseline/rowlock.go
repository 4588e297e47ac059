package baseline

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Sentinel errors of the row-lock store; test with errors.Is.
var (
	// ErrInsufficientStock means a line asked for more than on_hand -
	// reserved of its SKU: nothing was held (HTTP 409).
	ErrInsufficientStock = errors.New("baseline: insufficient stock")
	// ErrInvalidSchema means a schema name is not a plain lower-case
	// identifier, or names a schema the baseline must not own.
	ErrInvalidSchema = errors.New("baseline: invalid schema name")
	// ErrInvalidHold means a hold has no id, no lines, or a line out of range.
	ErrInvalidHold = errors.New("baseline: invalid hold")
)

// Row-lock baseline limits and settings.
const (
	RowLockPoolConns      = 16               // connections in the pool: the baseline's parallelism
	RowLockWarehouse      = "wh-1"           // the one warehouse every SKU is stocked in
	MaxRowLockLines       = 100              // lines in one hold
	MaxRowLockQty         = 1_000_000        // units in one line
	MaxRowLockConnectTime = 10 * time.Second // opening one connection
	MaxSeedBatchSKUs      = 10_000           // SKUs inserted by one seeding statement
)

// schemaName is a plain identifier: no quoting, no case folding surprises.
var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

func checkSchema(schema string) error {
	if !schemaName.MatchString(schema) || schema == "public" || len(schema) >= 3 && schema[:3] == "pg_" {
		return fmt.Errorf("%w: %q (lower-case letters, digits, '_'; not public or pg_*)", ErrInvalidSchema, schema)
	}
	return nil
}

// OpenRowLockPool opens a pool of RowLockPoolConns connections whose
// search_path is schema, with every pool option set.
func OpenRowLockPool(ctx context.Context, databaseURL, schema string) (*pgxpool.Pool, error) {
	if err := checkSchema(schema); err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("baseline: database url: %w", err)
	}
	cfg.MaxConns = RowLockPoolConns
	cfg.MinConns = RowLockPoolConns
	cfg.MinIdleConns = 0
	cfg.MaxConnLifetime = time.Hour
	cfg.MaxConnLifetimeJitter = 0
	cfg.MaxConnIdleTime = 30 * time.Minute
	cfg.HealthCheckPeriod = time.Minute
	cfg.PingTimeout = 5 * time.Second
	cfg.ConnConfig.ConnectTimeout = MaxRowLockConnectTime
	cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeCacheStatement
	cfg.ConnConfig.StatementCacheCapacity = 64
	cfg.ConnConfig.DescriptionCacheCapacity = 64
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	cfg.ConnConfig.RuntimeParams["application_name"] = "stockd-bench-rowlock"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("baseline: open pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("baseline: ping: %w", err)
	}
	return pool, nil
}

// CreateRowLockSchema creates schema with its stock and reservation
// tables. It fails if the schema exists: the baseline never writes into a
// schema it did not make.
func CreateRowLockSchema(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	if err := checkSchema(schema); err != nil {
		return err
	}
	s := pgx.Identifier{schema}.Sanitize()
	ddl := `CREATE SCHEMA ` + s + `;
CREATE TABLE ` + s + `.stock (
	sku       text   NOT NULL,
	warehouse text   NOT NULL,
	on_hand   bigint NOT NULL,
	reserved  bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (sku, warehouse),
	CHECK (reserved >= 0 AND reserved <= on_hand)
);
CREATE TABLE ` + s + `.reservation (
	id         text        NOT NULL,
	sku        text        NOT NULL,
	warehouse  text        NOT NULL,
	qty        bigint      NOT NULL CHECK (qty > 0),
	channel    text        NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz NOT NULL,
	PRIMARY KEY (id, sku, warehouse)
);`
	// Simple protocol: several statements in one round trip.
	if _, err := pool.Exec(ctx, ddl, pgx.QueryExecModeSimpleProtocol); err != nil {
		return fmt.Errorf("baseline: create schema %s: %w", schema, err)
	}
	return nil
}

// DropRowLockSchema drops schema and everything in it.
func DropRowLockSchema(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	if err := checkSchema(schema); err != nil {
		return err
	}
	if _, err := pool.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
		return fmt.Errorf("baseline: drop schema %s: %w", schema, err)
	}
	return nil
}

// SeedRowLockStock stocks every SKU with onHand units in RowLockWarehouse,
// nothing reserved, replacing what was there.
func SeedRowLockStock(ctx context.Context, pool *pgxpool.Pool, skus []string, onHand int64) error {
	for batch := range slices.Chunk(skus, MaxSeedBatchSKUs) {
		_, err := pool.Exec(ctx, `INSERT INTO stock (sku, warehouse, on_hand, reserved)
SELECT unnest($1::text[]), $2, $3, 0
ON CONFLICT (sku, warehouse) DO UPDATE SET on_hand = EXCLUDED.on_hand, reserved = 0`,
			batch, RowLockWarehouse, onHand)
		if err != nil {
			return fmt.Errorf("baseline: seed stock: %w", err)
		}
	}
	if _, err := pool.Exec(ctx, `ANALYZE stock`); err != nil {
		return fmt.Errorf("baseline: analyze stock: %w", err)
	}
	return nil
}

// Line is one SKU and quantity of a hold.
type Line struct {
	SKU string
	Qty int64
}

// Hold is one reservation request.
type Hold struct {
	ID      string
	Channel string
	Lines   []Line
	TTL     time.Duration
}

// RowLockStore holds and releases stock in PostgreSQL under row locks.
// Safe for concurrent use.
type RowLockStore struct {
	pool *pgxpool.Pool
}

// NewRowLockStore uses pool, whose search_path names a schema made by
// CreateRowLockSchema (see OpenRowLockPool).
func NewRowLockStore(pool *pgxpool.Pool) *RowLockStore {
	return &RowLockStore{pool: pool}
}

const (
	insertReservationSQL = `INSERT INTO reservation (id, sku, warehouse, qty, channel, expires_at)
VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))
ON CONFLICT (id, sku, warehouse) DO NOTHING`
	reserveStockSQL = `UPDATE stock SET reserved = reserved + $3
WHERE sku = $1 AND warehouse = $2 AND on_hand - reserved >= $3`
	deleteReservationSQL = `DELETE FROM reservation WHERE id = $1 RETURNING sku, warehouse, qty`
	unreserveStockSQL    = `UPDATE stock SET reserved = reserved - $3 WHERE sku = $1 AND warehouse = $2`
)

// Hold reserves every line in one transaction, or none. replay is true
// when a hold with this id already exists (nothing changes; the body is
// not compared). A line short of stock gives ErrInsufficientStock.
//
// The transaction records the hold first and takes the stock row locks
// last, in SKU order (no deadlock between multi-line holds), in one round
// trip, so a hot row stays locked for one round trip plus the commit.
func (s *RowLockStore) Hold(ctx context.Context, h Hold) (replay bool, err error) {
	lines, err := normalizeHold(h)
	if err != nil {
		return false, err
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted, AccessMode: pgx.ReadWrite})
	if err != nil {
		return false, fmt.Errorf("baseline: hold %s: begin: %w", h.ID, err)
	}
	defer tx.Rollback(ctx) // a no-op after Commit
	batch := &pgx.Batch{}
	for _, l := range lines {
		batch.Queue(insertReservationSQL, h.ID, l.SKU, RowLockWarehouse, l.Qty, h.Channel, h.TTL.Seconds())
	}
	for _, l := range lines {
		batch.Queue(reserveStockSQL, l.SKU, RowLockWarehouse, l.Qty)
	}
	inserted, reserved, err := execCounts(tx.SendBatch(ctx, batch), len(lines))
	if err != nil {
		return false, fmt.Errorf("baseline: hold %s: %w", h.ID, err)
	}
	switch {
	case inserted < len(lines):
		return true, nil
	case reserved < len(lines):
		return false, fmt.Errorf("%w: hold %s", ErrInsufficientStock, h.ID)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("baseline: hold %s: commit: %w", h.ID, err)
	}
	return false, nil
}

// execCounts reads n inserts then n updates and counts those that changed
// a row.
func execCounts(br pgx.BatchResults, n int) (inserted, updated int, err error) {
	defer func() {
		if cerr := br.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	for i := range 2 * n {
		tag, err := br.Exec()
		if err != nil {
			return 0, 0, err
		}
		if tag.RowsAffected() == 1 {
			if i < n {
				inserted++
			} else {
				updated++
			}
		}
	}
	return inserted, updated, nil
}

// normalizeHold checks h and returns its lines summed per SKU and sorted
// by SKU: the order row locks are taken in.
func normalizeHold(h Hold) ([]Line, error) {
	if h.ID == "" || len(h.ID) > MaxHoldIDBytes || h.Channel == "" || h.TTL <= 0 ||
		len(h.Lines) == 0 || len(h.Lines) > MaxRowLockLines {
		return nil, fmt.Errorf("%w: id %q channel %q ttl %v with %d lines", ErrInvalidHold, h.ID, h.Channel, h.TTL, len(h.Lines))
	}
	lines := slices.Clone(h.Lines)
	for _, l := range lines {
		if l.SKU == "" || l.Qty < 1 || l.Qty > MaxRowLockQty {
			return nil, fmt.Errorf("%w: line %q × %d", ErrInvalidHold, l.SKU, l.Qty)
		}
	}
	slices.SortFunc(lines, func(a, b Line) int { return cmp.Compare(a.SKU, b.SKU) })
	merged := lines[:1]
	for _, l := range lines[1:] {
		if last := &merged[len(merged)-1]; last.SKU == l.SKU {
			last.Qty += l.Qty
		} else {
			merged = append(merged, l)
		}
	}
	return merged, nil
}

// Release deletes the hold and returns its units, in one transaction. A
// hold that does not exist is released already: nil.
func (s *RowLockStore) Release(ctx context.Context, holdID string) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted, AccessMode: pgx.ReadWrite})
	if err != nil {
		return fmt.Errorf("baseline: release %s: begin: %w", holdID, err)
	}
	defer tx.Rollback(ctx) // a no-op after Commit
	rows, err := tx.Query(ctx, deleteReservationSQL, holdID)
	if err != nil {
		return fmt.Errorf("baseline: release %s: %w", holdID, err)
	}
	lines, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (heldLine, error) {
		var l heldLine
		err := row.Scan(&l.sku, &l.warehouse, &l.qty)
		return l, err
	})
	if err != nil {
		return fmt.Errorf("baseline: release %s: %w", holdID, err)
	}
	if len(lines) == 0 {
		return nil
	}
	slices.SortFunc(lines, func(a, b heldLine) int {
		return cmp.Or(cmp.Compare(a.sku, b.sku), cmp.Compare(a.warehouse, b.warehouse))
	})
	batch := &pgx.Batch{}
	for _, l := range lines {
		batch.Queue(unreserveStockSQL, l.sku, l.warehouse, l.qty)
	}
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("baseline: release %s: %w", holdID, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("baseline: release %s: commit: %w", holdID, err)
	}
	return nil
}

// heldLine is a reservation row as a release finds it.
type heldLine struct {
	sku, warehouse string
	qty            int64
}

// RowLockHold holds qty of sku under a new random id: the row-lock
// transaction without HTTP, for benchmarks. pool is as for
// NewRowLockStore.
func RowLockHold(ctx context.Context, pool *pgxpool.Pool, sku string, qty int64) (holdID string, err error) {
	holdID = "rl-" + rand.Text()
	_, err = NewRowLockStore(pool).Hold(ctx, Hold{
		ID:      holdID,
		Channel: "site",
		Lines:   []Line{{SKU: sku, Qty: qty}},
		TTL:     5 * time.Minute,
	})
	return holdID, err
}

// RowLockRelease releases a hold made by RowLockHold.
func RowLockRelease(ctx context.Context, pool *pgxpool.Pool, holdID string) error {
	return NewRowLockStore(pool).Release(ctx, holdID)
}
