package testsvc

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
)

// MaxNameBytes is the longest name UniqueName returns: PostgreSQL's identifier limit
// (NAMEDATALEN-1). Kafka allows topic names of up to 249 bytes.
const MaxNameBytes = 63

// suffixBytes is the number of random bytes at the end of a unique name (hex-encoded).
const suffixBytes = 6

// UniqueName returns a name that no other test and no other run uses, made of the prefix, the
// test's name and a random suffix. It contains only [a-z0-9_], is at most MaxNameBytes long, and
// so is valid both as a Kafka topic or consumer group and as an unquoted PostgreSQL identifier.
func UniqueName(tb testing.TB, prefix string) string {
	tb.Helper()
	random := make([]byte, suffixBytes)
	if _, err := rand.Read(random); err != nil {
		tb.Fatalf("testsvc: random name suffix: %v", err)
	}
	suffix := "_" + hex.EncodeToString(random)
	stem := sanitize(prefix + "_" + tb.Name())
	if stem == "" || (stem[0] >= '0' && stem[0] <= '9') {
		stem = "t_" + stem
	}
	stem = stem[:min(len(stem), MaxNameBytes-len(suffix))]
	return stem + suffix
}

// sanitize lowercases s and replaces every byte outside [a-z0-9] by one underscore per run.
func sanitize(s string) string {
	var b strings.Builder
	underscore := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			underscore = false
			continue
		}
		if !underscore {
			b.WriteByte('_')
			underscore = true
		}
	}
	return strings.Trim(b.String(), "_")
}
