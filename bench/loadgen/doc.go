// Package loadgen drives stockd's reserve API (or anything that answers the
// same routes) from this machine and measures it: each operation is a hold
// of a few Zipf-distributed SKUs followed by the release of that hold, so
// stock and per-SKU hold limits never run out however long the run.
//
// Two modes:
//
//   - ClosedLoop: Connections workers, each sending its next operation when
//     the previous one has been answered. It finds the peak throughput.
//   - OpenLoop: operations arrive on a fixed timetable (RateOpsPerSec) and
//     latency is measured from each operation's scheduled send time, so a
//     server that stalls is charged for every request that should have been
//     sent during the stall (no coordinated omission). At most MaxInFlight
//     operations are admitted at once; later arrivals are dropped and
//     counted, never queued without bound.
//
// Only loopback targets are accepted (127.0.0.0/8, ::1, localhost): a load
// run never leaves the machine. Every run is bounded by Duration and MaxOps
// and stops by itself.
//
//	res, err := loadgen.Run(ctx, loadgen.Config{
//		Target:      "127.0.0.1:8080",
//		APIToken:    token,
//		Mode:        loadgen.ClosedLoop,
//		Connections: 64,
//		Duration:    10 * time.Second,
//		MaxOps:      5_000_000,
//		Workload:    loadgen.DefaultWorkload(),
//	})
//	fmt.Println(res.HoldsPerSec(), res.Quantile(99))
package loadgen
