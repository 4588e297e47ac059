package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"stockd/engine"
)

// demoPartitions is the partition count of the embedded broker's topics.
const demoPartitions = 8

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "HTTP API address (port 0 picks a free one)")
	dir := fs.String("dir", "", "data directory (default: a new temporary directory, removed at exit)")
	duration := fs.Duration("duration", 0, "stop by itself after this long (0: run until Ctrl-C)")
	verbose := fs.Bool("v", false, "log at debug level")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	dataDir, cleanup, err := demoDir(*dir)
	if err != nil {
		return err
	}
	defer cleanup()

	cfg := engine.DefaultConfig()
	cfg.HTTP.Listen = *listen
	cfg.Journal = engine.JournalConfig{Kind: engine.JournalFile, Dir: filepath.Join(dataDir, "journal")}
	broker, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.SeedTopics(demoPartitions, cfg.Kafka.EventsTopic, cfg.Kafka.DLQTopic, cfg.Kafka.OrdersTopic),
	)
	if err != nil {
		return fmt.Errorf("start the embedded Kafka-protocol broker: %w", err)
	}
	defer broker.Close()
	cfg.Kafka.Brokers = broker.ListenAddrs()

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := newLogger(stderr, level)
	eng, err := engine.Open(ctx, cfg, engine.Deps{Logger: log})
	if err != nil {
		return err
	}
	printDemoBanner(stdout, eng.HTTPAddr(), cfg, dataDir)
	err = eng.Run(ctx)
	fmt.Fprintln(stdout, "stockd demo stopped")
	return err
}

func demoDir(dir string) (string, func(), error) {
	if dir != "" {
		return dir, func() {}, os.MkdirAll(dir, 0o755)
	}
	tmp, err := os.MkdirTemp("", "stockd-demo-")
	if err != nil {
		return "", nil, fmt.Errorf("make a temporary data directory: %w", err)
	}
	return tmp, func() { os.RemoveAll(tmp) }, nil
}

func printDemoBanner(w io.Writer, httpAddr string, cfg engine.Config, dataDir string) {
	base := "http://" + httpAddr
	fmt.Fprintf(w, `stockd demo (started %s)
  HTTP API        %s
    health        %s/healthz
    readiness     %s/readyz
  Kafka broker    %v (embedded, topics %s, %s, %s)
  journal         %s (file, fsync on)
Press Ctrl-C to stop.
`, time.Now().Format(time.RFC3339), base, base, base, cfg.Kafka.Brokers,
		cfg.Kafka.EventsTopic, cfg.Kafka.DLQTopic, cfg.Kafka.OrdersTopic, cfg.Journal.Dir)
}
