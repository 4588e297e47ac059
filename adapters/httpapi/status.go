package httpapi

import (
	"time"

	"github.com/valyala/fasthttp"
)

// IngestStatus is the reply of GET /v1/ingest: what the 1C stream did.
type IngestStatus struct {
	Applied        uint64      `json:"applied"`
	Stale          uint64      `json:"stale"`     // stock.set older than the applied figure, ignored
	Duplicate      uint64      `json:"duplicate"` // stock.adjust ids seen before
	Noop           uint64      `json:"noop"`
	Rejected       uint64      `json:"rejected"`
	AlreadyApplied uint64      `json:"already_applied"` // redelivered after a restart
	DLQ            uint64      `json:"dlq"`
	SeqGaps        uint64      `json:"seq_gaps"`
	Fractional     uint64      `json:"fractional"` // quantities floored
	RecentGaps     []GapStatus `json:"recent_gaps"`
}

// GapStatus is one gap in a 1C source's seq.
type GapStatus struct {
	Source     string    `json:"source"`
	After      uint64    `json:"after"`
	Missing    uint64    `json:"missing"`
	DetectedAt time.Time `json:"detected_at"`
}

// IngestReporter is the part of the backend behind GET /v1/ingest.
type IngestReporter interface {
	IngestStatus() IngestStatus
}

func (s *Server) ingestStatus(ctx *fasthttp.RequestCtx) {
	r, ok := s.backend.(IngestReporter)
	if !ok {
		writeError(ctx, fasthttp.StatusNotFound, "not_found", "this server has no 1C ingest", nil)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, r.IngestStatus())
}
