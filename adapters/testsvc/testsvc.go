package testsvc

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"stockd/adapters/kafka"
)

// Environment variables that name the services for integration tests.
const (
	// EnvKafkaBrokers holds a comma-separated list of host:port of a real Kafka broker.
	EnvKafkaBrokers = "STOCKD_TEST_KAFKA_BROKERS"
	// EnvDatabaseURL holds a PostgreSQL URL of a database that tests may create schemas in.
	EnvDatabaseURL = "STOCKD_TEST_DATABASE_URL"
	// EnvCI is "true" on CI, where a missing service fails a test instead of skipping it.
	EnvCI = "CI"
)

// startHint tells a person how to get the services.
const startHint = `run eval "$(scripts/services.sh up)" (or make test) to start them`

// KafkaBrokers returns the addresses of the real Kafka broker named by STOCKD_TEST_KAFKA_BROKERS.
// When the variable is unset the test is skipped, or fails under CI.
func KafkaBrokers(tb testing.TB) []string {
	tb.Helper()
	value := strings.TrimSpace(os.Getenv(EnvKafkaBrokers))
	if value == "" {
		missing(tb, EnvKafkaBrokers, "a real Kafka broker")
	}
	var brokers []string
	for _, broker := range strings.Split(value, ",") {
		if broker = strings.TrimSpace(broker); broker != "" {
			brokers = append(brokers, broker)
		}
	}
	if len(brokers) == 0 {
		tb.Fatalf("testsvc: %s=%q names no broker", EnvKafkaBrokers, value)
	}
	return brokers
}

// DatabaseURL returns the PostgreSQL URL named by STOCKD_TEST_DATABASE_URL. When the variable is
// unset the test is skipped, or fails under CI. Tests that change the database should use
// SchemaURL instead, so that they do not collide.
func DatabaseURL(tb testing.TB) string {
	tb.Helper()
	value := strings.TrimSpace(os.Getenv(EnvDatabaseURL))
	if value == "" {
		missing(tb, EnvDatabaseURL, "PostgreSQL")
	}
	return value
}

// missing skips the test, or fails it under CI, because a service is not configured.
func missing(tb testing.TB, env, what string) {
	tb.Helper()
	if os.Getenv(EnvCI) == "true" {
		tb.Fatalf("testsvc: %s is not set but this test needs %s and CI=true: %s", env, what, startHint)
	}
	tb.Skipf("testsvc: %s is not set; skipping a test that needs %s: %s", env, what, startHint)
}

// KafkaTopics returns the real broker's addresses (KafkaBrokers: skipped, or failed under CI,
// when unset) with the given topics created with the given number of partitions: the real
// broker's counterpart of Kfake.
func KafkaTopics(tb testing.TB, partitions int, topics ...string) []string {
	tb.Helper()
	brokers := KafkaBrokers(tb)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, topic := range topics {
		if err := kafka.CreateTopic(ctx, brokers, topic, partitions); err != nil {
			tb.Fatalf("testsvc: create topic %s: %v", topic, err)
		}
	}
	return brokers
}
