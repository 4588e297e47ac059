package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"stockd/engine/journal"
	"stockd/reservation"
)

// errReplayDone stops a replay at the snapshot's LSN.
var errReplayDone = errors.New("engine: replay reached the snapshot point")

// snapshotter checkpoints the journal off the hot path: it brings its own
// ledger — never the one serving requests — to a durable LSN by replaying
// the records since its last snapshot (loading the newest snapshot first
// when it has no ledger yet), saves that as the new snapshot and drops
// records that two snapshots cover. The serving ledger is not locked or
// paused for it.
type snapshotter struct {
	e       *Engine
	lastLSN uint64 // LSN of the newest snapshot saved
	prevLSN uint64 // LSN of the one before: records after it are kept
	// ledger is the state at LSN at, kept from one snapshot to the next so
	// that each replays only the records since the last instead of loading
	// the newest snapshot again; nil before the first, after a replay
	// failed, and when the journal backend changed (it is loaded again).
	ledger    *reservation.Ledger
	at        uint64
	backend   journal.Backend // the backend ledger was built from
	lastBytes int             // size of the last snapshot encoded
}

// SnapshotStats describes one snapshot.
type SnapshotStats struct {
	LSN      uint64
	Bytes    int
	Replayed int
	Took     time.Duration
	// Where Took went: loading the newest snapshot (only when the
	// snapshotter has no ledger of its own yet), the replay of the records
	// since, encoding the new snapshot, and saving it with the truncation
	// of the records two snapshots cover.
	Load, Replay, Encode, Save time.Duration
}

// snapshotLoop takes a snapshot when SnapshotEveryRecords records have
// been made durable since the last one, checking every SnapshotInterval.
func (e *Engine) snapshotLoop(ctx context.Context) {
	s := &snapshotter{e: e}
	t := time.NewTicker(e.cfg.Journal.SnapshotInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		b, durable := e.journalState()
		if durable < s.lastLSN+e.cfg.Journal.SnapshotEveryRecords {
			continue
		}
		st, err := s.take(ctx, b, durable)
		if err != nil {
			if ctx.Err() == nil {
				e.log.Warn("snapshot failed; the journal keeps every record until one succeeds", "err", err)
			}
			continue
		}
		e.log.Info("snapshot saved", "lsn", st.LSN, "bytes", st.Bytes, "replayed", st.Replayed, "took", st.Took.String(),
			"load", st.Load.String(), "replay", st.Replay.String(),
			"encode", st.Encode.String(), "save", st.Save.String())
	}
}

// journalState returns the current backend and its durable LSN.
func (e *Engine) journalState() (journal.Backend, uint64) {
	e.core.mu.Lock()
	defer e.core.mu.Unlock()
	return e.backend, e.core.commit.DurableLSN()
}

// take builds and saves the snapshot at through (a durable LSN).
func (s *snapshotter) take(ctx context.Context, b journal.Backend, through uint64) (SnapshotStats, error) {
	start := time.Now()
	if s.ledger == nil || s.backend != b {
		lcfg, err := s.e.cfg.ledgerConfig()
		if err != nil {
			return SnapshotStats{}, err
		}
		ledger, from, err := loadSnapshot(ctx, b, lcfg)
		if err != nil {
			return SnapshotStats{}, err
		}
		s.ledger, s.at, s.backend = ledger, from-1, b
		if from > 1 && s.lastLSN == 0 {
			s.lastLSN = from - 1 // first run after a restart
		}
	}
	st := SnapshotStats{LSN: through, Load: time.Since(start)}
	mark := time.Now()
	replayed, err := replayThrough(ctx, b, s.ledger, s.at+1, through)
	if err != nil {
		s.ledger = nil // part-way through a record: load it again next time
		return SnapshotStats{}, err
	}
	s.at = through
	st.Replayed, st.Replay = replayed, time.Since(mark)
	mark = time.Now()
	// Sized by the last snapshot, the buffer rarely grows (a copy of
	// megabytes each time it does).
	data := s.ledger.AppendSnapshot(make([]byte, 0, s.lastBytes+s.lastBytes/8+4096))
	st.Bytes, st.Encode = len(data), time.Since(mark)
	mark = time.Now()
	if err := b.SaveSnapshot(ctx, through, data); err != nil {
		return SnapshotStats{}, fmt.Errorf("save snapshot at %d: %w", through, err)
	}
	s.prevLSN, s.lastLSN = s.lastLSN, through
	if s.prevLSN > 0 {
		// Keep the records after the previous snapshot, so a damaged newest
		// snapshot can be skipped and the previous one replayed instead.
		if err := b.Truncate(ctx, s.prevLSN); err != nil {
			return SnapshotStats{}, fmt.Errorf("truncate through %d: %w", s.prevLSN, err)
		}
	}
	s.lastBytes = len(data)
	st.Save, st.Took = time.Since(mark), time.Since(start)
	return st, nil
}

// replayThrough applies records from..through onto ledger.
func replayThrough(ctx context.Context, b journal.Backend, ledger *reservation.Ledger, from, through uint64) (int, error) {
	var n int
	if from > through {
		return 0, nil
	}
	err := b.Replay(ctx, from, func(lsn uint64, data []byte) error {
		if lsn > through {
			return errReplayDone
		}
		rec, err := reservation.DecodeRecord(data)
		if err != nil {
			return fmt.Errorf("record %d: %w", lsn, err)
		}
		if err := ledger.ApplyRecord(&rec, nil); err != nil {
			return fmt.Errorf("record %d: %w", lsn, err)
		}
		n++
		return nil
	})
	if err != nil && !errors.Is(err, errReplayDone) {
		return n, err
	}
	if ledger.Seq() != through {
		return n, fmt.Errorf("replay reached record %d, want %d", ledger.Seq(), through)
	}
	return n, nil
}
