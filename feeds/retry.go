package feeds

import (
	"context"
	"fmt"
	"time"

	"stockd/adapters/marketsim"
)

// DefaultMaxItemAttempts bounds how many times in a row one key may be
// refused as retriable (Ozon TOO_MANY_REQUESTS, an item left unanswered)
// before it is quarantined with the last reason. A whole request that
// fails (5xx, 429, timeouts) is not counted: it is retried with backoff
// for as long as it fails.
const DefaultMaxItemAttempts = 8

// giveUpLocked counts a retriable refusal of it and reports whether the
// key has now been refused more than MaxItemAttempts times in a row; it
// is then quarantined with the marketplace's last reason, until its
// value changes or Release.
func (st *chanState) giveUpLocked(m Method, it item, r marketsim.ItemResult, now time.Time) bool {
	if st.attempts[m] == nil {
		st.attempts[m] = make(map[string]int)
	}
	n := st.attempts[m][it.pd.Key] + 1
	if n <= st.h.cfg.MaxItemAttempts {
		st.attempts[m][it.pd.Key] = n
		return false
	}
	c := &st.counters[m]
	c.rejected++
	c.gaveUp++
	msg := r.Message
	if msg == "" {
		msg = "refused as retriable"
	}
	st.quarantineItemLocked(m, it, r.Code,
		fmt.Sprintf("%s (refused %d times in a row, more than MaxItemAttempts)", msg, n), now)
	return true
}

// forgetAttemptsLocked resets a key's count of retriable refusals: it
// was acknowledged, quarantined or dropped.
func (st *chanState) forgetAttemptsLocked(m Method, key string) {
	if m >= 0 && m < numMethods && st.attempts[m] != nil {
		delete(st.attempts[m], key)
	}
}

// pause holds the worker of m back for d after a failed request (or
// until ctx ends); Stats shows until when.
func (st *chanState) pause(ctx context.Context, m Method, d time.Duration) {
	if d <= 0 {
		return
	}
	st.mu.Lock()
	st.pausedUntil[m] = st.h.cfg.Now().Add(d)
	st.mu.Unlock()
	sleep(ctx, d)
	st.mu.Lock()
	st.pausedUntil[m] = time.Time{}
	st.mu.Unlock()
}
