// Package deploy holds what runs stockd outside the repository: the
// container image (Dockerfile), a compose stack with Kafka, PostgreSQL, the
// OpenTelemetry Collector, Jaeger, Prometheus and Grafana (compose/), the
// collector's config (otel-collector/), alert rules (prometheus/), Grafana
// datasources and dashboards (grafana/) and Kubernetes manifests (k8s/).
//
// It has no code. Its tests keep the files true to the code: every stockd
// config in them passes engine.ParseConfig, the ports, probes and scrape
// paths match what stockd serves, and every metric an alert or dashboard
// queries is one that adapters/telemetry exports:
//
//	go test ./deploy/
package deploy
