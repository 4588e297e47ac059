# stockd — build and test.
#
#   make test           start PostgreSQL and Kafka (scripts/services.sh up), then go vet and go test -race
#   make build          go build ./...
#   make services-up    start the test services and print their export lines
#   make services-down  stop them (caches in .cache/ stay)
#
# GOFLAGS from the environment reaches every go command, e.g. GOFLAGS=-count=1 make test.

SHELL := /bin/bash
GO ?= go
# Flags for go test that do not depend on where it runs.
TEST_FLAGS ?= -race -timeout 12m
PACKAGES ?= ./...

.PHONY: test vet build services-up services-down services-status

test:
	@set -euo pipefail; \
	exports="$$(bash scripts/services.sh up)"; \
	eval "$$exports"; \
	echo "make test: STOCKD_TEST_DATABASE_URL=$$STOCKD_TEST_DATABASE_URL"; \
	echo "make test: STOCKD_TEST_KAFKA_BROKERS=$$STOCKD_TEST_KAFKA_BROKERS"; \
	echo "make test: $(GO) vet $(PACKAGES)"; \
	$(GO) vet $(PACKAGES); \
	echo "make test: $(GO) test $(TEST_FLAGS) -v $(PACKAGES) (full log: .cache/test.log; shown: results and which broker or database each test used)"; \
	mkdir -p .cache; \
	$(GO) test $(TEST_FLAGS) -v $(PACKAGES) 2>&1 | tee .cache/test.log | \
		grep -E '^(ok|FAIL|panic)|^\s*--- (FAIL|SKIP)|broker: |postgres: ' || true; \
	echo "make test: alone, as it crashes the shared PostgreSQL: $(GO) test $(TEST_FLAGS) -v -run TestCrashPostgresJournalAndDatabase ./cmd/stockd/"; \
	STOCKD_TEST_CRASH_DATABASE=1 $(GO) test $(TEST_FLAGS) -v -run TestCrashPostgresJournalAndDatabase ./cmd/stockd/ 2>&1 | \
		tee -a .cache/test.log | grep -E '^(ok|FAIL|panic)|^\s*--- (FAIL|SKIP|PASS)' || true; \
	if grep -Eq '^(FAIL|panic)|^\s*--- FAIL' .cache/test.log; then \
		echo "make test: failures:"; grep -E -A25 -- '^\s*--- FAIL|^panic' .cache/test.log | head -400; exit 1; \
	fi; \
	echo "make test: $$(grep -c -- '--- PASS' .cache/test.log) passed, $$(grep -c -- '--- FAIL' .cache/test.log) failed, $$(grep -c -- '--- SKIP' .cache/test.log) skipped"

vet:
	$(GO) vet $(PACKAGES)

build:
	$(GO) build ./...

services-up:
	@bash scripts/services.sh up

services-down:
	@bash scripts/services.sh down

services-status:
	@bash scripts/services.sh status
