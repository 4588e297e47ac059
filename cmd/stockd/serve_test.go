package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"stockd/engine"
)

// exampleWith writes the example config with its journal section swapped
// for journal, and returns the file's path.
func exampleWith(t *testing.T, journal string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "deploy", "stockd.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	start := strings.Index(text, "journal:\n")
	end := strings.Index(text, "\nkafka:\n")
	if start < 0 || end < start {
		t.Fatal("the example config has no journal section before kafka")
	}
	path := filepath.Join(t.TempDir(), "stockd.yaml")
	if err := os.WriteFile(path, []byte(text[:start]+journal+text[end:]), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

// TestEnvOverridesBeforeValidation: STOCKD_* variables apply before the
// config is checked, so a variable may give what the file leaves out (the
// database URL of a postgres journal); a broker list is trimmed and
// empty entries dropped.
func TestEnvOverridesBeforeValidation(t *testing.T) {
	path := exampleWith(t, "journal:\n  kind: postgres\n")
	if _, err := loadConfig(path, env(nil)); err == nil || !strings.Contains(err.Error(), "database_url") {
		t.Fatalf("postgres journal without a URL anywhere: %v, want the database_url error", err)
	}
	cfg, err := loadConfig(path, env(map[string]string{
		"STOCKD_DATABASE_URL":  "postgres://stockd@db:5432/stockd",
		"STOCKD_KAFKA_BROKERS": " k1:9092, k2:9092,,",
	}))
	if err != nil {
		t.Fatalf("the URL from STOCKD_DATABASE_URL: %v", err)
	}
	if cfg.Journal.Kind != engine.JournalPostgres || cfg.Journal.DatabaseURL != "postgres://stockd@db:5432/stockd" {
		t.Fatalf("journal = %+v", cfg.Journal)
	}
	if !slices.Equal(cfg.Kafka.Brokers, []string{"k1:9092", "k2:9092"}) {
		t.Fatalf("brokers = %q, want k1:9092 and k2:9092", cfg.Kafka.Brokers)
	}
	// an empty list is no brokers (not one empty address), which the
	// example's orders.publish needs
	_, err = loadConfig(exampleWith(t, "journal:\n  kind: file\n  dir: /tmp/j\n"), env(map[string]string{"STOCKD_KAFKA_BROKERS": ""}))
	if err == nil || !strings.Contains(err.Error(), "orders.publish needs kafka.brokers") {
		t.Fatalf("an empty STOCKD_KAFKA_BROKERS: %v, want orders.publish to need brokers", err)
	}
}

// TestServeRefusesArguments: "stockd serve stockd.yaml" does not quietly
// read ./stockd.yaml instead of the file named.
func TestServeRefusesArguments(t *testing.T) {
	err := runServe(context.Background(), []string{"/etc/stockd/stockd.yaml"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "-config") {
		t.Fatalf("serve with a positional argument: %v, want an error naming -config", err)
	}
}
