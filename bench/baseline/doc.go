// Package baseline holds the servers that stockd's reserve API is measured
// against in the same run, on the same machine, with the same load:
//
//   - NewNoop answers the reserve routes with a fixed small JSON body and
//     the API's status codes, doing no work: the ceiling of the HTTP stack
//     (fasthttp, loopback TCP, the load generator sharing the cores).
//   - NewRowLock answers them from PostgreSQL the classic way: one
//     transaction per hold that decrements free stock under the stock row's
//     lock (`UPDATE stock SET reserved = reserved + n WHERE … AND on_hand -
//     reserved >= n`, no row → 409) and records the hold, and one per
//     release that undoes both. A hot SKU serialises on its row lock for a
//     commit (fsync) each: the design stockd's in-memory ledger replaces.
//
// Both use httpapi.Limits for every fasthttp option, so they differ from
// stockd's server only in what the handler does.
//
// RowLockHold and RowLockRelease drive the same transactions without HTTP,
// for benchmarks of durable holds per second against stockd's journal.
//
//	pool, err := baseline.OpenRowLockPool(ctx, databaseURL, "bench_rowlock")
//	err = baseline.CreateRowLockSchema(ctx, pool, "bench_rowlock")
//	err = baseline.SeedRowLockStock(ctx, pool, loadgen.SKUNames(10_000), 1<<40)
//	srv, err := baseline.NewRowLock(baseline.NewRowLockStore(pool), httpapi.DefaultLimits(), log)
//	go srv.Serve(ln)
//	defer srv.Shutdown(ctx)
package baseline
