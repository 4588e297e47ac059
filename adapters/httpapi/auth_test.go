package httpapi

import (
	"errors"
	"testing"
)

// TestAuthenticateScheme: the Bearer scheme is matched case-insensitively;
// a missing, empty or other scheme, or a wrong key, is refused.
func TestAuthenticateScheme(t *testing.T) {
	kr, err := newKeyring([]APIKey{{Name: "checkout", SHA256: HashToken("k-1"), Scopes: []Scope{ScopeReserve}}})
	if err != nil {
		t.Fatal(err)
	}
	for header, want := range map[string]bool{
		"Bearer k-1":  true,
		"bearer k-1":  true,
		"BEARER k-1":  true,
		"Bearer  k-1": true,
		"Bearer k-2":  false,
		"Bearer ":     false,
		"Bearer":      false,
		"Basic k-1":   false,
		"k-1":         false,
		"":            false,
		"Bearerk-1":   false,
	} {
		key, err := kr.authenticate([]byte(header))
		switch {
		case want && (err != nil || key == nil || key.name != "checkout"):
			t.Errorf("%q: %v, %v; want the checkout key", header, key, err)
		case !want && !errors.Is(err, errUnauthenticated):
			t.Errorf("%q: %v, %v; want refused", header, key, err)
		}
	}
}
