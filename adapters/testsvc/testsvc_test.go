package testsvc

import (
	"context"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

var validName = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

func TestUniqueNameIsValidAndUnique(t *testing.T) {
	long := strings.Repeat("Very Long Prefix/", 10)
	for _, prefix := range []string{"events", "", "9lives", long, "Ü-topic"} {
		first := UniqueName(t, prefix)
		second := UniqueName(t, prefix)
		if first == second {
			t.Errorf("UniqueName(%q) twice = %q both times, want different names", prefix, first)
		}
		for _, got := range []string{first, second} {
			if len(got) > MaxNameBytes {
				t.Errorf("UniqueName(%q) = %q, %d bytes, want at most %d", prefix, got, len(got), MaxNameBytes)
			}
			if !validName.MatchString(got) {
				t.Errorf("UniqueName(%q) = %q, want it to match %s", prefix, got, validName)
			}
		}
	}
}

func TestWithSearchPath(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"postgres://u@127.0.0.1:5432/db?sslmode=disable", "postgres://u@127.0.0.1:5432/db?search_path=s1&sslmode=disable"},
		{"postgresql://u@h/db", "postgresql://u@h/db?search_path=s1"},
		{"host=127.0.0.1 dbname=db", "host=127.0.0.1 dbname=db search_path=s1"},
	}
	for _, tt := range tests {
		got, err := withSearchPath(tt.in, "s1")
		if err != nil {
			t.Fatalf("withSearchPath(%q): %v", tt.in, err)
		}
		if got != tt.want {
			t.Errorf("withSearchPath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestKafkaBrokersSkipsOrFailsWhenUnset(t *testing.T) {
	t.Setenv(EnvKafkaBrokers, "")
	t.Setenv(EnvCI, "")
	got := runHelper(func(tb testing.TB) { KafkaBrokers(tb) })
	if got != "skipped" {
		t.Errorf("KafkaBrokers without %s outside CI: %s, want skipped", EnvKafkaBrokers, got)
	}
	t.Setenv(EnvCI, "true")
	got = runHelper(func(tb testing.TB) { KafkaBrokers(tb) })
	if got != "failed" {
		t.Errorf("KafkaBrokers without %s under CI: %s, want failed", EnvKafkaBrokers, got)
	}
	t.Setenv(EnvKafkaBrokers, " 127.0.0.1:1, 127.0.0.1:2 ,")
	var brokers []string
	got = runHelper(func(tb testing.TB) { brokers = KafkaBrokers(tb) })
	if got != "passed" || strings.Join(brokers, ";") != "127.0.0.1:1;127.0.0.1:2" {
		t.Errorf("KafkaBrokers with a list: %s, %q, want passed, [127.0.0.1:1 127.0.0.1:2]", got, brokers)
	}
}

func TestDatabaseURLSkipsOrFailsWhenUnset(t *testing.T) {
	t.Setenv(EnvDatabaseURL, "")
	t.Setenv(EnvCI, "false")
	if got := runHelper(func(tb testing.TB) { DatabaseURL(tb) }); got != "skipped" {
		t.Errorf("DatabaseURL without %s outside CI: %s, want skipped", EnvDatabaseURL, got)
	}
	t.Setenv(EnvCI, "true")
	if got := runHelper(func(tb testing.TB) { DatabaseURL(tb) }); got != "failed" {
		t.Errorf("DatabaseURL without %s under CI: %s, want failed", EnvDatabaseURL, got)
	}
}

// runHelper runs fn against a recording testing.TB in its own goroutine (Skip and Fatal end it
// with runtime.Goexit) and reports how it ended.
func runHelper(fn func(tb testing.TB)) string {
	rec := &recordingTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(rec)
	}()
	<-done
	switch {
	case rec.failed:
		return "failed"
	case rec.skipped:
		return "skipped"
	default:
		return "passed"
	}
}

// recordingTB records Skip and Fatal instead of acting on a real test.
type recordingTB struct {
	testing.TB
	failed, skipped bool
}

func (r *recordingTB) Helper()                           {}
func (r *recordingTB) Name() string                      { return "recording" }
func (r *recordingTB) Fatalf(format string, args ...any) { r.failed = true; runtime.Goexit() }
func (r *recordingTB) Skipf(format string, args ...any)  { r.skipped = true; runtime.Goexit() }

func TestKfakeServesSeededTopic(t *testing.T) {
	addrs := Kfake(t, 3, "seeded")
	if len(addrs) != 1 {
		t.Fatalf("Kfake addresses = %v, want one", addrs)
	}
	if !strings.HasPrefix(addrs[0], "127.0.0.1:") {
		t.Errorf("Kfake address = %q, want 127.0.0.1:port", addrs[0])
	}
}

func TestSchemaURLIsolatesTables(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	first, second := SchemaURL(t), SchemaURL(t)
	for i, u := range []string{first, second} {
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "CREATE TABLE probe (n int)"); err != nil {
			t.Fatalf("create table in schema %d: %v", i, err)
		}
		if _, err := conn.Exec(ctx, "INSERT INTO probe VALUES ($1)", i); err != nil {
			t.Fatalf("insert in schema %d: %v", i, err)
		}
		var got int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM probe").Scan(&got); err != nil {
			t.Fatalf("count in schema %d: %v", i, err)
		}
		if got != 1 {
			t.Errorf("rows in schema %d = %d, want 1", i, got)
		}
	}
}
