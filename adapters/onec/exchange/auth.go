package exchange

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// Password hash forms:
//
//	sha256:<64 hex>                                  for long random passwords
//	pbkdf2-sha256:<iterations>:<salt hex>:<64 hex>   for passwords a person chose
const (
	sha256Prefix = "sha256:"
	pbkdf2Prefix = "pbkdf2-sha256:"
	// MinPBKDF2Iterations is the fewest iterations a pbkdf2-sha256 hash may use.
	MinPBKDF2Iterations = 1000
	// MaxPBKDF2Iterations bounds the cost of one password check.
	MaxPBKDF2Iterations = 10_000_000
	// DefaultPBKDF2Iterations is what HashPassword uses when given 0.
	DefaultPBKDF2Iterations = 600_000
)

// HashPasswordSHA256 returns the sha256 form of a password: fit for a long random
// password (as 1C's exchange node settings can hold), not for one a person chose.
func HashPasswordSHA256(password string) string {
	sum := sha256.Sum256([]byte(password))
	return sha256Prefix + hex.EncodeToString(sum[:])
}

// HashPassword returns the pbkdf2-sha256 form of a password with the given salt (at
// least 16 random bytes) and iterations (0: DefaultPBKDF2Iterations).
func HashPassword(password string, salt []byte, iterations int) (string, error) {
	if iterations == 0 {
		iterations = DefaultPBKDF2Iterations
	}
	if len(salt) < 16 || iterations < MinPBKDF2Iterations || iterations > MaxPBKDF2Iterations {
		return "", fmt.Errorf("%w: salt of at least 16 bytes and %d..%d iterations", ErrBadPasswordHash, MinPBKDF2Iterations, MaxPBKDF2Iterations)
	}
	key, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s%d:%s:%s", pbkdf2Prefix, iterations, hex.EncodeToString(salt), hex.EncodeToString(key)), nil
}

// passwordHash is a parsed PasswordHash.
type passwordHash struct {
	iterations int // 0 for the sha256 form
	salt       []byte
	sum        []byte
}

func parsePasswordHash(s string) (passwordHash, error) {
	switch {
	case strings.HasPrefix(s, sha256Prefix):
		sum, err := hex.DecodeString(s[len(sha256Prefix):])
		if err != nil || len(sum) != sha256.Size {
			return passwordHash{}, fmt.Errorf("%w: sha256 form needs 64 hex digits", ErrBadPasswordHash)
		}
		return passwordHash{sum: sum}, nil
	case strings.HasPrefix(s, pbkdf2Prefix):
		parts := strings.Split(s[len(pbkdf2Prefix):], ":")
		if len(parts) != 3 {
			return passwordHash{}, fmt.Errorf("%w: pbkdf2-sha256:<iterations>:<salt hex>:<hash hex>", ErrBadPasswordHash)
		}
		iter, err := strconv.Atoi(parts[0])
		if err != nil || iter < MinPBKDF2Iterations || iter > MaxPBKDF2Iterations {
			return passwordHash{}, fmt.Errorf("%w: iterations must be %d..%d", ErrBadPasswordHash, MinPBKDF2Iterations, MaxPBKDF2Iterations)
		}
		salt, err1 := hex.DecodeString(parts[1])
		sum, err2 := hex.DecodeString(parts[2])
		if err1 != nil || err2 != nil || len(salt) < 16 || len(sum) != sha256.Size {
			return passwordHash{}, fmt.Errorf("%w: salt of at least 16 bytes and a 32-byte hash, in hex", ErrBadPasswordHash)
		}
		return passwordHash{iterations: iter, salt: salt, sum: sum}, nil
	}
	return passwordHash{}, fmt.Errorf("%w: want sha256:… or pbkdf2-sha256:…", ErrBadPasswordHash)
}

// matches reports, in constant time for a given hash, whether password is the one hashed.
func (h passwordHash) matches(password string) bool {
	var got []byte
	if h.iterations == 0 {
		sum := sha256.Sum256([]byte(password))
		got = sum[:]
	} else {
		key, err := pbkdf2.Key(sha256.New, password, h.salt, h.iterations, sha256.Size)
		if err != nil {
			return false
		}
		got = key
	}
	return subtle.ConstantTimeCompare(got, h.sum) == 1
}

// parseBasic reads "Basic base64(login:password)".
func parseBasic(header string) (login, password string, ok bool) {
	const prefix = "basic "
	if len(header) < len(prefix) || !strings.EqualFold(header[:len(prefix)], prefix) {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(header[len(prefix):]))
	if err != nil {
		return "", "", false
	}
	login, password, ok = strings.Cut(string(raw), ":")
	return login, password, ok
}

// account is a configured Account with its parsed hash.
type account struct {
	Account
	loginSum [sha256.Size]byte
	hash     passwordHash
}

// authenticate finds the account whose login and password match. Every login is
// compared (as SHA-256 digests, in constant time) so the time taken does not tell
// which logins exist; with no matching login a password check still runs against
// the first account's hash.
func authenticate(accounts []*account, login, password string) (*account, bool) {
	loginSum := sha256.Sum256([]byte(login))
	var found *account
	for _, a := range accounts {
		if subtle.ConstantTimeCompare(loginSum[:], a.loginSum[:]) == 1 {
			found = a
		}
	}
	if found == nil {
		accounts[0].hash.matches(password)
		return nil, false
	}
	return found, found.hash.matches(password)
}
