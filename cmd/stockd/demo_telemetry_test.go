package main

import (
	"testing"

	"stockd/adapters/telemetry"
)

func TestDemoOTLPFlag(t *testing.T) {
	for endpoint, want := range map[string]telemetry.Protocol{
		"http://127.0.0.1:4318": telemetry.ProtocolHTTP,
		"http://127.0.0.1:4317": telemetry.ProtocolGRPC,
	} {
		tc := telemetry.DefaultConfig()
		if err := demoOTLP(&tc, endpoint); err != nil {
			t.Fatal(err)
		}
		if tc.Tracing.OTLP.Endpoint != endpoint || tc.Tracing.OTLP.Protocol != want || tc.Metrics.OTLP.Protocol != want {
			t.Fatalf("%s: tracing %+v metrics %+v, want %s for both", endpoint, tc.Tracing.OTLP, tc.Metrics.OTLP, want)
		}
	}
	tc := telemetry.DefaultConfig()
	if err := demoOTLP(&tc, ""); err != nil || tc.Tracing.OTLP.Endpoint != "" {
		t.Fatalf("no flag: %v, endpoint %q; want nothing exported", err, tc.Tracing.OTLP.Endpoint)
	}
	if err := demoOTLP(&tc, "127.0.0.1"); err == nil {
		t.Fatal("an endpoint without a port was accepted")
	}
}
