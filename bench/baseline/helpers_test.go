package baseline

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"stockd/adapters/testsvc"
)

// rowLockPool makes a fresh schema for one test, seeds stock and drops
// the schema when the test ends.
func rowLockPool(tb testing.TB, stock map[string]int64) *pgxpool.Pool {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	schema := testsvc.UniqueName(tb, "bench")
	pool, err := OpenRowLockPool(ctx, testsvc.DatabaseURL(tb), schema)
	if err != nil {
		tb.Fatalf("open pool: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := DropRowLockSchema(ctx, pool, schema); err != nil {
			tb.Errorf("drop schema: %v", err)
		}
		pool.Close()
	})
	if err := CreateRowLockSchema(ctx, pool, schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	byQty := make(map[int64][]string)
	for sku, qty := range stock {
		byQty[qty] = append(byQty[qty], sku)
	}
	for qty, skus := range byQty {
		if err := SeedRowLockStock(ctx, pool, skus, qty); err != nil {
			tb.Fatalf("seed: %v", err)
		}
	}
	return pool
}

// reserved reads a SKU's reserved units and its reservation rows.
func reserved(tb testing.TB, pool *pgxpool.Pool, sku string) (units, rows int64) {
	tb.Helper()
	ctx := context.Background()
	if err := pool.QueryRow(ctx, `SELECT reserved FROM stock WHERE sku = $1`, sku).Scan(&units); err != nil {
		tb.Fatalf("read stock %s: %v", sku, err)
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM reservation WHERE sku = $1`, sku).Scan(&rows); err != nil {
		tb.Fatalf("count reservations %s: %v", sku, err)
	}
	return units, rows
}

// serveBaseline runs srv on 127.0.0.1 until the test ends.
func serveBaseline(tb testing.TB, srv *Server) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			tb.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			tb.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String()
}

func discardLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
