package httpapi

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Scope is a permission an API key carries.
type Scope string

// The scopes of the API.
const (
	ScopeReserve Scope = "reserve" // create, confirm and release holds
	ScopeRead    Scope = "read"    // availability, holds, feeds
	ScopeEvents  Scope = "events"  // POST /v1/events and the 1C exchange
	ScopeAdmin   Scope = "admin"   // operator actions
)

// MaxAPIKeys bounds the key table (each request compares against all of it).
const MaxAPIKeys = 256

// APIKey is one key as configured: never the token itself, only its
// SHA-256, so a leaked config file does not leak credentials.
type APIKey struct {
	Name   string  `yaml:"name"`
	SHA256 string  `yaml:"sha256"` // hex of sha256(token)
	Scopes []Scope `yaml:"scopes"`
}

// HashToken returns the hex SHA-256 of a token, the form APIKey.SHA256 stores.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// keyring checks Bearer tokens against the configured keys.
type keyring struct {
	keys []parsedKey
}

type parsedKey struct {
	name   string
	hash   [sha256.Size]byte
	scopes map[Scope]bool
}

var errUnauthenticated = errors.New("httpapi: missing or unknown API key")

func newKeyring(keys []APIKey) (*keyring, error) {
	if len(keys) > MaxAPIKeys {
		return nil, fmt.Errorf("httpapi: %d API keys configured, at most %d (MaxAPIKeys)", len(keys), MaxAPIKeys)
	}
	kr := &keyring{}
	for i, k := range keys {
		pk, err := parseKey(k)
		if err != nil {
			return nil, fmt.Errorf("httpapi: api key %d (%q): %w", i, k.Name, err)
		}
		kr.keys = append(kr.keys, pk)
	}
	return kr, nil
}

func parseKey(k APIKey) (parsedKey, error) {
	raw, err := hex.DecodeString(strings.TrimPrefix(k.SHA256, "sha256:"))
	if err != nil || len(raw) != sha256.Size {
		return parsedKey{}, errors.New("sha256 must be 64 hex digits (see HashToken / stockctl hash-key)")
	}
	if len(k.Scopes) == 0 {
		return parsedKey{}, errors.New("no scopes")
	}
	pk := parsedKey{name: k.Name, scopes: make(map[Scope]bool, len(k.Scopes))}
	copy(pk.hash[:], raw)
	for _, s := range k.Scopes {
		switch s {
		case ScopeReserve, ScopeRead, ScopeEvents, ScopeAdmin:
			pk.scopes[s] = true
		default:
			return parsedKey{}, fmt.Errorf("unknown scope %q (reserve, read, events, admin)", s)
		}
	}
	return pk, nil
}

// authenticate finds the key for an Authorization header value. It
// compares against every key in constant time, so the time taken does
// not say which key (or how much of one) matched.
// The scheme is matched case-insensitively, as HTTP's auth-schemes are
// (RFC 9110 11.1): "bearer <key>" is accepted too.
func (kr *keyring) authenticate(header []byte) (*parsedKey, error) {
	scheme, token, ok := bytes.Cut(header, []byte(" "))
	token = bytes.TrimLeft(token, " ")
	if !ok || !bytes.EqualFold(scheme, []byte("Bearer")) || len(token) == 0 {
		return nil, errUnauthenticated
	}
	sum := sha256.Sum256(token)
	var found *parsedKey
	for i := range kr.keys {
		if subtle.ConstantTimeCompare(sum[:], kr.keys[i].hash[:]) == 1 {
			found = &kr.keys[i]
		}
	}
	if found == nil {
		return nil, errUnauthenticated
	}
	return found, nil
}

// allows reports whether the key carries the scope; admin carries all.
func (k *parsedKey) allows(s Scope) bool {
	return k.scopes[s] || k.scopes[ScopeAdmin]
}
