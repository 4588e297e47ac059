// Command reservebench measures stockd's reserve API against its
// baselines in one run on this machine and prints the figures, the ratios
// against the targets and a markdown block for BENCHMARKS.md:
//
//   - stockd, started in-process with a file journal (fdatasync per group
//     commit) in a temporary directory, listening on 127.0.0.1:0;
//   - the same load on a no-op fasthttp server (the HTTP stack's ceiling);
//   - the same load on the PostgreSQL row-lock baseline (needs a database);
//   - stockd again in an open loop at half its measured peak, for the p99.
//
// Usage:
//
//	go run ./bench/cmd/reservebench [-quick] [-duration 10s] [-connections 64]
//	    [-skus 10000] [-zipf-s 1.1] [-lines 1] [-database-url URL]
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runWith(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "reservebench:", err)
		os.Exit(1)
	}
}
