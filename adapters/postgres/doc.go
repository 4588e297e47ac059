// Package postgres connects stockd to PostgreSQL through pgx: a connection pool whose sizes
// and timeouts are all set from Config, and the schema migrations that stockd's tables need,
// embedded in the binary and applied in order.
//
//	pool, err := postgres.NewPool(ctx, postgres.DefaultConfig(url))
//	if err != nil { ... }
//	defer pool.Close()
//	if err := postgres.Migrate(ctx, pool); err != nil { ... }
//
// Migrations live in migrations/NNNN_name.sql. Each runs in its own transaction together with
// the row that records it in schema_migrations; a transaction-scoped advisory lock makes
// concurrent migrators (several stockd processes starting at once) take turns, and a
// migration already applied is skipped, so Migrate is safe to call at every start. A
// migration file must never change once released: Migrate compares checksums and refuses to
// run when an applied migration's file differs. Unqualified names resolve through the
// connection's search_path, so one database can hold several stockd schemas.
package postgres
