// Package telemetry sets up stockd's OpenTelemetry traces and metrics and
// defines the instruments stockd records, so a 1C event can be followed to
// the marketplace's acknowledgement and every limit is visible on a
// dashboard.
//
// Nothing is global: Setup returns a Telemetry that owns its tracer and
// meter providers and a private Prometheus registry, and components are
// handed a Tracer, the Instruments or a logger built on NewLogHandler.
//
//	tel, err := telemetry.Setup(ctx, cfg.Telemetry)
//	...
//	defer tel.Shutdown(context.Background())
//	inst, err := telemetry.NewInstruments(tel.Meter("stockd"))
//	reg, err := inst.Observe(telemetry.Sources{Ledger: ledgerState, Channels: channelStates})
//	defer reg.Unregister()
//	log := slog.New(telemetry.NewLogHandler(slog.NewJSONHandler(os.Stderr, nil)))
//	router: case "/metrics": tel.ServeMetrics(ctx)
//
// Tracing is parent-based ratio sampling (1% of root spans by default) and
// costs a context lookup when no OTLP endpoint is set: the tracer is then a
// no-op that still passes a caller's trace context through. Trace context
// crosses Kafka in the W3C traceparent header:
//
//	ctx, span := tracer.Start(ctx, "onec.events publish", trace.WithSpanKind(trace.SpanKindProducer))
//	msg.Headers = telemetry.InjectKafka(ctx, msg.Headers)
//	...
//	// consumer: one message is the parent; a batch links to each message
//	link, ok := telemetry.KafkaLink(msg.Headers)
//
// Metrics go through the OTel metrics SDK to the Prometheus exporter (GET
// /metrics, with exemplars for OpenMetrics scrapers) and, when an endpoint
// is set, over OTLP. Specs and PrometheusNames are the single list of what
// is exported, which the alert rules and dashboards in deploy/ are tested
// against.
package telemetry
