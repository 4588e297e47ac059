package engine

import (
	"os"
	"strings"
	"testing"
	"time"
)

const minimalYAML = "channels:\n  - {name: site, kind: site, warehouses: [wh-1]}\n"

func TestParseConfigDefaultsAndOverrides(t *testing.T) {
	cfg, err := ParseConfig([]byte(minimalYAML))
	if err != nil {
		t.Fatalf("empty config: %v", err)
	}
	if got, want := cfg.Journal.Kind, JournalFile; got != want {
		t.Fatalf("default journal kind = %q, want %q", got, want)
	}
	cfg, err = ParseConfig([]byte(minimalYAML + "http:\n  listen: 127.0.0.1:9999\nshutdown_timeout: 3s\n"))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if got, want := cfg.HTTP.Listen, "127.0.0.1:9999"; got != want {
		t.Fatalf("listen = %q, want %q", got, want)
	}
	if got, want := cfg.ShutdownTimeout, 3*time.Second; got != want {
		t.Fatalf("shutdown_timeout = %v, want %v", got, want)
	}
	if got, want := cfg.HTTP.Limits.MaxBodyBytes, DefaultConfig().HTTP.Limits.MaxBodyBytes; got != want {
		t.Fatalf("unset limit = %d, want default %d", got, want)
	}
}

func TestParseConfigRejects(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, wantErr string }{
		"unknown key":      {"htpp:\n  listen: x\n", "field htpp not found"},
		"bad journal kind": {"journal:\n  kind: tape\n", `journal.kind "tape"`},
		"postgres no url":  {"journal:\n  kind: postgres\n", "database_url is empty"},
		"zero timeout":     {"startup_timeout: 0s\n", "must be positive"},
		"no event ahead":   {"kafka:\n  max_event_ahead: 0s\n", "kafka.max_event_ahead must be positive"},
		"no group":         {"kafka:\n  brokers: [k:9092]\n  group_id: ''\n", "group_id must not be empty"},
		"empty broker":     {"kafka:\n  brokers: ['']\n", "an empty address"},
		"many pg conns":    {"journal:\n  kind: postgres\n  database_url: postgres://x/y\n  max_conns: 1000\n", "journal.max_conns 1000"},
		"no channels":      {"channels: []\n", "no channels"},
		"bad channel kind": {"channels:\n  - {name: tv, kind: tv, warehouses: [w]}\n", `kind "tv"`},
		"bad strategy":     {"channels:\n  - {name: s, kind: site, warehouses: [w], strategy: random}\n", "strategy"},
		"bad body limit":   {"http:\n  limits:\n    max_body_bytes: 10\n", "MaxBodyBytes"},
	} {
		t.Run(name, func(t *testing.T) {
			doc := tc.yaml
			if !strings.HasPrefix(doc, "channels:") {
				doc = minimalYAML + doc
			}
			_, err := ParseConfig([]byte(doc))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

// TestExampleConfigParses keeps deploy/stockd.example.yaml true to the code.
func TestExampleConfigParses(t *testing.T) {
	data, err := os.ReadFile("../deploy/stockd.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		t.Fatalf("deploy/stockd.example.yaml: %v", err)
	}
	if len(cfg.Feeds) != 1 || len(cfg.OneC.Exchange.Accounts) != 1 || len(cfg.HTTP.APIKeys) != 2 {
		t.Fatalf("example parsed to %d feeds, %d 1C accounts, %d keys", len(cfg.Feeds), len(cfg.OneC.Exchange.Accounts), len(cfg.HTTP.APIKeys))
	}
}
