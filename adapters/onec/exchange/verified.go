package exchange

import (
	"crypto/hmac"
	"crypto/sha256"
	"io"
	"sync"
	"time"
)

// Bounds of the verified-credentials cache.
const (
	// VerifiedAuthTTL is how long credentials that passed the password check
	// are taken again without it. 1C's exchanges run every few minutes, each
	// beginning with checkauth.
	VerifiedAuthTTL = 30 * time.Minute
	// maxVerified bounds the cache: a few accounts, each with the password
	// it has now (and, for a while after a change, the one it had).
	maxVerified = 64
)

// verifiedCache remembers credentials that passed the password check, as
// an HMAC under a key made at start, for VerifiedAuthTTL. A checkauth
// with remembered credentials needs neither the slow hash nor an auth
// slot, so wrong passwords sent in a loop, which keep the slots busy,
// cannot lock out the 1C that logged in before. Nothing in it can be
// turned back into a password, and it lives in memory only.
type verifiedCache struct {
	key [32]byte

	mu      sync.Mutex
	entries map[[sha256.Size]byte]verifiedEntry
}

type verifiedEntry struct {
	acct  *account
	until time.Time
}

func newVerifiedCache(random io.Reader) (*verifiedCache, error) {
	c := &verifiedCache{entries: map[[sha256.Size]byte]verifiedEntry{}}
	if _, err := io.ReadFull(random, c.key[:]); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *verifiedCache) sum(login, password string) [sha256.Size]byte {
	m := hmac.New(sha256.New, c.key[:])
	m.Write([]byte(login))
	m.Write([]byte{0})
	m.Write([]byte(password))
	var out [sha256.Size]byte
	m.Sum(out[:0])
	return out
}

// lookup returns the account of remembered credentials.
func (c *verifiedCache) lookup(login, password string, now time.Time) (*account, bool) {
	k := c.sum(login, password)
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok || !now.Before(e.until) {
		delete(c.entries, k)
		return nil, false
	}
	return e.acct, true
}

// add remembers credentials that passed the check; when the cache is full
// the expired entries go, then the one closest to expiry.
func (c *verifiedCache) add(login, password string, acct *account, now time.Time) {
	k := c.sum(login, password)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[k]; !ok && len(c.entries) >= maxVerified {
		var oldest [sha256.Size]byte
		var oldestUntil time.Time
		for key, e := range c.entries {
			if !now.Before(e.until) {
				delete(c.entries, key)
				continue
			}
			if oldestUntil.IsZero() || e.until.Before(oldestUntil) {
				oldest, oldestUntil = key, e.until
			}
		}
		if len(c.entries) >= maxVerified {
			delete(c.entries, oldest)
		}
	}
	c.entries[k] = verifiedEntry{acct: acct, until: now.Add(VerifiedAuthTTL)}
}
