// Command stockd keeps every sales channel's stock and prices true to the
// seller's 1C. See README.md.
//
//	stockd demo                       everything embedded, for a first look
//	stockd serve --config stockd.yaml production
//	stockd checkdisk --dir DIR         how fast the journal's disk makes a group durable
//	stockd version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"stockd/adapters/telemetry"
	"stockd/engine"
)

const usage = `usage: stockd <command> [flags]

commands:
  demo       run everything embedded: in-process Kafka-protocol broker, file journal
             in a temporary directory, HTTP API; stops on Ctrl-C
  serve      run in production from a config file (STOCKD_* env vars override it)
  checkdisk  measure how fast a directory's disk makes a journal group durable
             (stockd checkdisk --dir DIR, or --config stockd.yaml)
  version    print the version
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// the first signal starts a clean shutdown; from then on a second one
	// ends the process at once, as without a handler
	go func() {
		<-ctx.Done()
		stop()
	}()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "stockd:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "demo":
		return runDemo(ctx, args[1:], stdout, stderr)
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case "checkdisk":
		return runCheckDisk(ctx, args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "stockd", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}

// newLogger returns the JSON logger every component is handed; records
// logged with a span in their context carry trace_id and span_id.
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(telemetry.NewLogHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})))
}

// setupTelemetry starts tracing and metrics as configured; the returned
// function flushes and stops them, bounded in time.
func setupTelemetry(ctx context.Context, cfg engine.Config) (*telemetry.Telemetry, func(), error) {
	tc := cfg.Telemetry
	tc.ServiceVersion = version
	tel, err := telemetry.Setup(ctx, tc)
	if err != nil {
		return nil, nil, fmt.Errorf("telemetry: %w", err)
	}
	return tel, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		tel.Shutdown(sctx)
	}, nil
}

// osSecrets resolves marketplace credentials from the process's
// environment and files.
type osSecrets struct{}

func (osSecrets) LookupEnv(name string) (string, bool) { return os.LookupEnv(name) }
func (osSecrets) ReadFile(path string) ([]byte, error) { return os.ReadFile(path) }
