package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"stockd/adapters/kafka"
	"stockd/engine"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "stockd.yaml", "path to the YAML config file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve takes no arguments (got %q): give the file with -config", fs.Args())
	}
	cfg, err := loadConfig(*configPath, os.LookupEnv)
	if err != nil {
		return err
	}
	log := newLogger(stderr, slog.LevelInfo)
	tel, stopTel, err := setupTelemetry(ctx, cfg)
	if err != nil {
		return err
	}
	defer stopTel()
	eng, err := engine.Open(ctx, cfg, engine.Deps{Logger: log, Telemetry: tel, Secrets: osSecrets{}})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "stockd serving on http://%s\n", eng.HTTPAddr())
	return eng.Run(ctx)
}

// loadConfig reads the file, then applies STOCKD_* overrides.
func loadConfig(path string, lookup func(string) (string, bool)) (engine.Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return engine.Config{}, fmt.Errorf("read config: %w", err)
	}
	cfg, err := engine.DecodeConfig(data)
	if err != nil {
		return engine.Config{}, err
	}
	applyEnv(&cfg, lookup) // before validation: a variable may give what the file leaves out
	return cfg, cfg.Validate()
}

// applyEnv applies the documented STOCKD_* overrides.
func applyEnv(cfg *engine.Config, lookup func(string) (string, bool)) {
	if v, ok := lookup("STOCKD_HTTP_LISTEN"); ok {
		cfg.HTTP.Listen = v
	}
	if v, ok := lookup("STOCKD_JOURNAL_KIND"); ok {
		cfg.Journal.Kind = engine.JournalKind(v)
	}
	if v, ok := lookup("STOCKD_JOURNAL_DIR"); ok {
		cfg.Journal.Dir = v
	}
	if v, ok := lookup("STOCKD_DATABASE_URL"); ok {
		cfg.Journal.DatabaseURL = v
	}
	if v, ok := lookup("STOCKD_KAFKA_BROKERS"); ok {
		cfg.Kafka.Brokers = kafka.SplitBrokers(v)
	}
}
