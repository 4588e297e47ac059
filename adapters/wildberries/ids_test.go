package wildberries

import (
	"errors"
	"strings"
	"testing"
)

// TestIDsArePlainNumbers: an id is a positive integer written as
// Wildberries writes it back; a leading zero or sign is refused with the
// form to use.
func TestIDsArePlainNumbers(t *testing.T) {
	for id, ok := range map[string]bool{"123": true, "9007199254740993": true,
		"0123": false, "+123": false, "0": false, "-5": false, "": false, "12a": false, " 12": false} {
		n, err := ParseChrtID(id)
		switch {
		case ok && (err != nil || n <= 0):
			t.Errorf("%q: %d, %v; want accepted", id, n, err)
		case !ok && !errors.Is(err, ErrInvalidID):
			t.Errorf("%q: %d, %v; want ErrInvalidID", id, n, err)
		}
	}
	if _, err := ParseNmID("0123"); err == nil || !strings.Contains(err.Error(), "write it as 123") {
		t.Fatalf("nmID 0123: %v, want the plain form named", err)
	}
}
