package main

import (
	"fmt"
	"net/url"
	"sort"

	"stockd/adapters/telemetry"
)

// demoTraceRatio is the share of root spans the demo samples when it
// exports to a collector: enough to find traces at the demo's rate.
const demoTraceRatio = 0.1

// demoOTLP points the demo's traces and metrics at a local collector
// (-otlp): port 4317 speaks OTLP/gRPC, any other OTLP/HTTP. "" leaves
// the configuration alone (nothing is exported).
func demoOTLP(tc *telemetry.Config, endpoint string) error {
	if endpoint == "" {
		return nil
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Port() == "" {
		return fmt.Errorf("-otlp %q: want scheme://host:port, e.g. http://127.0.0.1:4318", endpoint)
	}
	protocol := telemetry.ProtocolHTTP
	if u.Port() == "4317" {
		protocol = telemetry.ProtocolGRPC
	}
	tc.Tracing.OTLP.Endpoint, tc.Tracing.OTLP.Protocol = endpoint, protocol
	tc.Metrics.OTLP.Endpoint, tc.Metrics.OTLP.Protocol = endpoint, protocol
	tc.Tracing.Sampler, tc.Tracing.Ratio = telemetry.SamplerRatio, demoTraceRatio
	tc.ResourceAttributes = map[string]string{"deployment.environment.name": "demo"}
	return tc.Validate()
}

// observeDemoViolations exports the simulators' limit violations
// (stockd.marketsim.violations, on the channels dashboard); the returned
// function unregisters them.
func observeDemoViolations(tel *telemetry.Telemetry, m *demoMarkets) (func(), error) {
	inst, err := telemetry.NewInstruments(tel.Meter("stockd"))
	if err != nil {
		return nil, err
	}
	reg, err := inst.Observe(telemetry.Sources{Violations: func() []telemetry.Violation {
		var out []telemetry.Violation
		for _, sim := range []struct {
			name  string
			rules map[string]int64
		}{{"ozon", m.ozonSim.Violations()}, {"wildberries", m.wbSim.Violations()}, {"yandexmarket", m.ymSim.Violations()}} {
			rules := make([]string, 0, len(sim.rules))
			for r := range sim.rules {
				rules = append(rules, r)
			}
			sort.Strings(rules)
			for _, r := range rules {
				out = append(out, telemetry.Violation{Marketplace: sim.name, Rule: r, Count: sim.rules[r]})
			}
		}
		return out
	}})
	if err != nil {
		return nil, fmt.Errorf("demo: violations gauge: %w", err)
	}
	return func() { reg.Unregister() }, nil
}
