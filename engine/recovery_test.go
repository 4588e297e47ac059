package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"stockd/engine/journal"
	"stockd/engine/journal/filejournal"
	"stockd/reservation"
)

// failingReplay is a journal whose Replay fails with a read error.
type failingReplay struct {
	*journal.MemBackend
	err error
}

func (f failingReplay) Replay(context.Context, uint64, func(uint64, []byte) error) error {
	return f.err
}

// TestRecoveryAdviceFitsTheError: a record that does not decode is the
// data's fault (keep the directory, restore from a backup); a journal that
// cannot be read is not (retry; restoring an older backup would lose
// acknowledged changes).
func TestRecoveryAdviceFitsTheError(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	lcfg := reservation.Config{Limits: reservation.DefaultLimits()}

	bad := journal.NewMemBackend(journal.DefaultMemOptions())
	if err := bad.WriteBatch(ctx, 1, [][]byte{[]byte("not a record")}); err != nil {
		t.Fatal(err)
	}
	_, err := recoverLedger(ctx, bad, lcfg, log)
	if err == nil || !strings.Contains(err.Error(), "restore it from a backup") || !strings.Contains(err.Error(), "record 1") {
		t.Fatalf("undecodable record: %v", err)
	}

	for _, damaged := range []error{
		fmt.Errorf("%w: replay from 1, first retained LSN 4097", journal.ErrTruncated),
		&filejournal.CorruptError{Path: "00000000000000000001.log", Offset: 512, Reason: "bad CRC", Action: "restore it"},
	} {
		_, err := recoverLedger(ctx, failingReplay{journal.NewMemBackend(journal.DefaultMemOptions()), damaged}, lcfg, log)
		if !errors.Is(err, damaged) || !strings.Contains(err.Error(), "restore it from a backup") {
			t.Fatalf("damaged journal (%v): %v, want the restore advice", damaged, err)
		}
	}

	readErr := errors.New("read 00000000000000000001.log: input/output error")
	_, err = recoverLedger(ctx, failingReplay{journal.NewMemBackend(journal.DefaultMemOptions()), readErr}, lcfg, log)
	if !errors.Is(err, readErr) || strings.Contains(err.Error(), "restore it from a backup") ||
		!strings.Contains(err.Error(), "do not restore a backup") {
		t.Fatalf("read error: %v", err)
	}
}
