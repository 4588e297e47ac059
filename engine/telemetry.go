package engine

import (
	"context"
	"fmt"

	"stockd/adapters/telemetry"
	"stockd/engine/journal"
	"stockd/reservation"
)

// openTelemetry builds the instruments and registers the gauges read at
// scrape time (ledger size, ingest counters, channel state), so the hot
// paths pay nothing for them.
func (e *Engine) openTelemetry(tel *telemetry.Telemetry) error {
	if tel == nil {
		tel = telemetry.Nop()
	}
	inst, err := telemetry.NewInstruments(tel.Meter("stockd"))
	if err != nil {
		return fmt.Errorf("engine: telemetry instruments: %w", err)
	}
	reg, err := inst.Observe(telemetry.Sources{Ledger: e.ledgerState, Ingest: e.ingestCounts, Channels: e.channelStates})
	if err != nil {
		return fmt.Errorf("engine: telemetry gauges: %w", err)
	}
	e.tel, e.inst, e.telReg = tel, inst, reg
	return nil
}

// recordGroup is the committer's OnGroup: journal flush size and latency.
func (e *Engine) recordGroup(s journal.GroupStats) {
	backend := string(e.cfg.Journal.Kind)
	if s.Err != nil {
		e.inst.JournalError(context.Background(), backend, telemetry.JournalOpAppend)
		return
	}
	e.inst.JournalFlush(context.Background(), backend, s.Records, s.Bytes, s.Duration)
}

func (e *Engine) ledgerState() telemetry.LedgerState {
	var st telemetry.LedgerState
	e.core.Read(func(l *reservation.Ledger) {
		st.Holds = []telemetry.StateCount{{State: "active", Holds: int64(l.ActiveHolds())}}
		st.SKUs = int64(l.SKUCount())
		st.ShortSKUs = int64(len(l.Short(nil)))
	})
	return st
}

func (e *Engine) ingestCounts() telemetry.IngestCounts {
	st := e.ingest.stats()
	return telemetry.IngestCounts{
		Events: []telemetry.ResultCount{{Result: "applied", Events: st.Applied}, {Result: "stale", Events: st.Stale},
			{Result: "duplicate", Events: st.Duplicate}, {Result: "noop", Events: st.Noop},
			{Result: "rejected", Events: st.Rejected}, {Result: "already_applied", Events: st.AlreadyApplied}},
		DLQ: st.DLQ, SeqGaps: st.SeqGaps, Fractional: st.Fractional,
	}
}

func (e *Engine) channelStates() []telemetry.ChannelState {
	if e.feeds == nil {
		return nil
	}
	var out []telemetry.ChannelState
	for _, name := range e.feeds.hub.Channels() {
		st, err := e.feeds.hub.Stats(name)
		if err != nil {
			continue
		}
		out = append(out, telemetry.ChannelState{Channel: name, Kind: string(st.Kind), Freshness: st.Freshness})
	}
	return out
}

// closeTelemetry unregisters the gauges (the provider is the caller's).
func (e *Engine) closeTelemetry() {
	if e.telReg != nil {
		e.telReg.Unregister()
	}
}
