package testsvc

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// MaxSchemaSetupTime bounds creating and dropping a test schema.
const MaxSchemaSetupTime = 30 * time.Second

// SchemaURL creates a fresh schema in the database named by STOCKD_TEST_DATABASE_URL, drops it
// (with everything in it) when the test ends, and returns a URL whose connections use that
// schema as their search_path, so that unqualified tables land in it. Like DatabaseURL, it
// skips the test when the variable is unset, or fails it under CI.
func SchemaURL(tb testing.TB) string {
	tb.Helper()
	base := DatabaseURL(tb)
	schema := UniqueName(tb, "test")
	ctx, cancel := context.WithTimeout(context.Background(), MaxSchemaSetupTime)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("testsvc: connect to %s: %v", EnvDatabaseURL, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		tb.Fatalf("testsvc: create schema %s: %v", schema, err)
	}
	tb.Cleanup(func() { dropSchema(tb, base, schema) })
	withPath, err := withSearchPath(base, schema)
	if err != nil {
		tb.Fatalf("testsvc: %s: %v", EnvDatabaseURL, err)
	}
	return withPath
}

func dropSchema(tb testing.TB, base, schema string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), MaxSchemaSetupTime)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Errorf("testsvc: connect to drop schema %s: %v", schema, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
		tb.Errorf("testsvc: drop schema %s: %v", schema, err)
	}
}

// withSearchPath adds search_path=schema to a PostgreSQL URL or keyword/value connection string.
func withSearchPath(connString, schema string) (string, error) {
	if !strings.HasPrefix(connString, "postgres://") && !strings.HasPrefix(connString, "postgresql://") {
		return connString + " search_path=" + schema, nil
	}
	u, err := url.Parse(connString)
	if err != nil {
		return "", err
	}
	query := u.Query()
	query.Set("search_path", schema)
	u.RawQuery = query.Encode()
	return u.String(), nil
}
