// Package engine wires stockd together: it owns the reservation ledger, the
// journal and its recovery, the 1C ingest loop and the HTTP server, and
// starts and stops them in order.
//
//	eng, err := engine.New(cfg, engine.Deps{Logger: log})
//	if err != nil { ... }
//	err = eng.Run(ctx) // until ctx is cancelled; then a bounded shutdown
package engine
