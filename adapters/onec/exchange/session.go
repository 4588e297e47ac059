package exchange

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"stockd/adapters/onec/cmlevents"
	"stockd/adapters/onec/commerceml"
)

// sessionDirPrefix starts the name of every session directory under WorkDir; New
// removes such directories left by an earlier process.
const sessionDirPrefix = "sess-"

// session is one exchange of one 1C base, from checkauth until complete or expiry.
// Fields above mu are set at creation and then only read, or are atomic.
type session struct {
	key      [sha256.Size]byte // SHA-256 of the token: the sessions map key
	token    string
	acct     *account
	dir      string // absolute; created on the first upload
	created  time.Time
	lastSeen atomic.Int64 // unix nanoseconds of the last request
	busy     atomic.Bool  // an import or finish is running: not evicted for room
	ctx      context.Context
	cancel   context.CancelFunc
	// work counts running imports and finishes; the directory is removed after it drains.
	work sync.WaitGroup

	mu        sync.Mutex
	closed    bool
	bytes     int64              // bytes on disk in dir
	files     map[string]*upload // by sanitised name
	zips      []string           // uploaded zips not yet imported
	results   map[string]*job    // import state by the file names a job answers for
	running   *job               // the import in progress, if any
	finishing bool               // deactivate/complete in progress
	reader    *commerceml.Reader
	imp       *cmlevents.Import
	queried   []string // order ids of the last type=sale&mode=query
	// salePending holds, per order document uploaded (type=sale&mode=file) and not yet
	// read whole, why the last read failed: usually that more chunks follow.
	salePending map[string]string
}

// upload is what is known of one uploaded file.
type upload struct {
	size     int64
	lastLen  int
	lastHash [sha256.Size]byte
}

// job is one background import.
type job struct {
	file   string          // the name 1C asked for
	inputs map[string]bool // names of the files it reads (no upload to them meanwhile)
	imp    *cmlevents.Import
	done   bool
	err    error
}

func tokenKey(token string) [sha256.Size]byte { return sha256.Sum256([]byte(token)) }

func (s *session) expired(now time.Time, idle, maxAge time.Duration) bool {
	return now.Sub(time.Unix(0, s.lastSeen.Load())) > idle || now.Sub(s.created) > maxAge
}

// path returns the absolute path of a sanitised name inside the session directory.
func (s *session) path(name string) string { return filepath.Join(s.dir, filepath.FromSlash(name)) }

// relative strips the session directory from error texts sent to 1C.
func (s *session) relative(text string) string {
	return strings.ReplaceAll(text, s.dir+string(filepath.Separator), "")
}

// reset forgets uploads and imports (a new init). Called with mu held and nothing running.
func (s *session) reset(h *Handler) error {
	bytes := s.bytes
	s.files, s.results, s.zips, s.bytes = map[string]*upload{}, map[string]*job{}, nil, 0
	s.salePending = nil
	s.reader, s.imp = nil, nil
	err := os.RemoveAll(s.dir)
	h.uploaded.Add(-bytes) // even if some file stayed: the session no longer counts it
	return err
}

// importer returns the session's reader and import, creating them on first use (and
// after a finish). Called with mu held.
func (s *session) importer(h *Handler, now time.Time) (*cmlevents.Import, error) {
	if s.imp == nil {
		r, err := commerceml.NewReader(h.cfg.ReaderLimits)
		if err != nil {
			return nil, err
		}
		imp, err := cmlevents.NewImport(s.acct.Events, h.store, h.sink, now)
		if err != nil {
			return nil, err
		}
		s.reader, s.imp = r, imp
	}
	return s.imp, nil
}

var errTooManySessions = errors.New("exchange: too many sessions")

// newSession opens a session for acct, making room by expiring old sessions and, if
// still full, evicting the least recently used idle one.
func (h *Handler) newSession(acct *account, now time.Time) (*session, error) {
	var tokenBytes, dirBytes [16]byte
	if _, err := io.ReadFull(h.rand, tokenBytes[:]); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(h.rand, dirBytes[:8]); err != nil {
		return nil, err
	}
	token := hex.EncodeToString(tokenBytes[:])
	ctx, cancel := context.WithCancel(h.ctx)
	s := &session{
		key: tokenKey(token), token: token, acct: acct, created: now, ctx: ctx, cancel: cancel,
		dir:   filepath.Join(h.cfg.WorkDir, sessionDirPrefix+hex.EncodeToString(dirBytes[:8])),
		files: map[string]*upload{}, results: map[string]*job{},
	}
	s.lastSeen.Store(now.UnixNano())

	var evicted []*session
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		cancel()
		return nil, errors.New("exchange: shutting down")
	}
	if len(h.sessions) >= h.cfg.MaxSessions {
		evicted = h.takeExpired(now)
	}
	if len(h.sessions) >= h.cfg.MaxSessions {
		var lru *session
		for _, o := range h.sessions {
			if !o.busy.Load() && (lru == nil || o.lastSeen.Load() < lru.lastSeen.Load()) {
				lru = o
			}
		}
		if lru != nil {
			delete(h.sessions, lru.key)
			evicted = append(evicted, lru)
		}
	}
	full := len(h.sessions) >= h.cfg.MaxSessions
	if !full {
		h.sessions[s.key] = s
	}
	h.mu.Unlock()
	for _, o := range evicted {
		h.closeSession(o)
	}
	if full {
		cancel()
		return nil, fmt.Errorf("%w: %d busy (MaxSessions)", errTooManySessions, h.cfg.MaxSessions)
	}
	return s, nil
}

// takeExpired removes expired sessions from the map and returns them. Called with h.mu held.
func (h *Handler) takeExpired(now time.Time) []*session {
	var out []*session
	for key, s := range h.sessions {
		if s.expired(now, h.cfg.SessionIdleTimeout, h.cfg.MaxSessionAge) {
			delete(h.sessions, key)
			out = append(out, s)
		}
	}
	h.lastSweep = now
	return out
}

// closeSession stops a session already removed from the map: no request may use it
// any more, its imports are cancelled, and its directory is removed once they stop.
func (h *Handler) closeSession(s *session) {
	s.mu.Lock()
	s.closed = true
	s.cancel()
	busy := s.running != nil || s.finishing
	pending := s.salePending
	s.salePending = nil
	bytes := s.bytes // closed: no chunk is appended any more
	s.mu.Unlock()
	for name, why := range pending {
		h.log.Warn("1C exchange: order document never read whole", "login", s.acct.Login, "file", name, "err", why)
	}
	remove := func() {
		if err := os.RemoveAll(s.dir); err != nil {
			h.log.Warn("1C exchange: remove session directory", "dir", s.dir, "err", err)
		}
		h.uploaded.Add(-bytes)
	}
	if !busy {
		remove()
		return
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		s.work.Wait()
		remove()
	}()
}

// endSession closes a session that finished (mode=complete).
func (h *Handler) endSession(s *session) {
	h.mu.Lock()
	delete(h.sessions, s.key)
	h.mu.Unlock()
	h.closeSession(s)
}

// Sweep closes every session that has been idle longer than SessionIdleTimeout or is
// older than MaxSessionAge, removing its directory (at once when nothing runs in it,
// else when its import stops). It returns how many it closed.
func (h *Handler) Sweep(now time.Time) int {
	h.mu.Lock()
	expired := h.takeExpired(now)
	h.mu.Unlock()
	for _, s := range expired {
		h.closeSession(s)
	}
	return len(expired)
}

// maybeSweep sweeps when SweepInterval has passed since the last sweep.
func (h *Handler) maybeSweep(now time.Time) {
	h.mu.Lock()
	due := now.Sub(h.lastSweep) >= h.cfg.SweepInterval
	h.mu.Unlock()
	if due {
		h.Sweep(now)
	}
}

// Sessions returns the number of open sessions.
func (h *Handler) Sessions() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.sessions)
}
