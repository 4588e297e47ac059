package ackstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Postgres is the PostgreSQL store: one row of table feed_ack (migration
// 0003_ackstore.sql, applied by adapters/postgres.Migrate) per key. Each
// Put is one transaction. The pool is the caller's; Close leaves it open.
type Postgres struct {
	pool *pgxpool.Pool
}

// NewPostgres uses pool, whose schema has been migrated.
func NewPostgres(pool *pgxpool.Pool) *Postgres { return &Postgres{pool: pool} }

// Load implements Store.
func (s *Postgres) Load(ctx context.Context, channel string, fn func(Entry) error) error {
	rows, err := s.pool.Query(ctx,
		`SELECT kind, offer, warehouse, qty, price, old_price, acked_at FROM feed_ack WHERE channel = $1`, channel)
	if err != nil {
		return fmt.Errorf("ackstore: load %s: %w", channel, err)
	}
	defer rows.Close()
	for rows.Next() {
		e := Entry{Key: Key{Channel: channel}}
		var kind int16
		if err := rows.Scan(&kind, &e.Offer, &e.Warehouse, &e.Qty, &e.Price, &e.OldPrice, &e.At); err != nil {
			return fmt.Errorf("ackstore: load %s: %w", channel, err)
		}
		e.Kind = Kind(kind)
		e.At = e.At.UTC()
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("ackstore: load %s: %w", channel, err)
	}
	return nil
}

// Put implements Store: upserts and deletes in one transaction.
func (s *Postgres) Put(ctx context.Context, entries []Entry) error {
	if err := checkBatch(entries); err != nil {
		return err
	}
	if len(entries) == 0 {
		return nil
	}
	// The last entry of a key wins; one statement may touch a row once.
	last := make(map[Key]int, len(entries))
	for i, e := range entries {
		last[e.Key] = i
	}
	var up, del struct {
		channel, offer, warehouse []string
		kind                      []int16
		qty, price, oldPrice      []int64
		at                        []time.Time
	}
	for i, e := range entries {
		if last[e.Key] != i {
			continue
		}
		t := &up
		if e.Deleted {
			t = &del
		}
		t.channel = append(t.channel, e.Channel)
		t.kind = append(t.kind, int16(e.Kind))
		t.offer = append(t.offer, e.Offer)
		t.warehouse = append(t.warehouse, e.Warehouse)
		at := e.At
		if at.IsZero() {
			at = time.Unix(0, 0)
		}
		t.qty, t.price, t.oldPrice, t.at = append(t.qty, e.Qty), append(t.price, e.Price), append(t.oldPrice, e.OldPrice), append(t.at, at)
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if len(up.channel) > 0 {
			if _, err := tx.Exec(ctx, `
INSERT INTO feed_ack (channel, kind, offer, warehouse, qty, price, old_price, acked_at)
SELECT * FROM unnest($1::text[], $2::smallint[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::timestamptz[])
ON CONFLICT (channel, kind, offer, warehouse) DO UPDATE
SET qty = EXCLUDED.qty, price = EXCLUDED.price, old_price = EXCLUDED.old_price, acked_at = EXCLUDED.acked_at`,
				up.channel, up.kind, up.offer, up.warehouse, up.qty, up.price, up.oldPrice, up.at); err != nil {
				return fmt.Errorf("ackstore: put: %w", err)
			}
		}
		if len(del.channel) > 0 {
			if _, err := tx.Exec(ctx, `
DELETE FROM feed_ack a USING unnest($1::text[], $2::smallint[], $3::text[], $4::text[]) AS d(channel, kind, offer, warehouse)
WHERE a.channel = d.channel AND a.kind = d.kind AND a.offer = d.offer AND a.warehouse = d.warehouse`,
				del.channel, del.kind, del.offer, del.warehouse); err != nil {
				return fmt.Errorf("ackstore: delete: %w", err)
			}
		}
		return nil
	})
}

// Close implements Store; the pool stays open.
func (s *Postgres) Close() error { return nil }

var (
	_ Store = (*Postgres)(nil)
	_ Store = (*File)(nil)
)
