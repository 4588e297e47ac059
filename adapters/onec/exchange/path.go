package exchange

import (
	"fmt"
	"strings"
)

// Bounds of an uploaded file's name.
const (
	MaxPathBytes    = 1024 // the whole filename parameter
	MaxPathSegment  = 255  // one folder or file name
	MaxPathSegments = 16   // nesting depth (import_files/ab/abc.jpg is 3)
)

// SanitisePath turns a filename parameter into a relative slash-separated path inside
// a session's directory, or fails with ErrUnsafePath. Backslashes are separators. A
// Windows absolute path ("C:\v8_8789_c.xml", which 1C sends for order files) keeps only
// its file name. Refused: empty names, a leading '/', empty, "." or ".." segments,
// segments starting with '.', and any byte outside A–Z a–z 0–9 '.' '_' '-'.
func SanitisePath(name string) (string, error) {
	if name == "" || len(name) > MaxPathBytes {
		return "", fmt.Errorf("%w: length %d", ErrUnsafePath, len(name))
	}
	n := strings.ReplaceAll(name, `\`, "/")
	if len(n) >= 2 && n[1] == ':' && isLetter(n[0]) {
		if strings.Contains(n, "/../") || strings.HasSuffix(n, "/..") {
			return "", fmt.Errorf("%w: %q climbs with ..", ErrUnsafePath, name)
		}
		n = n[strings.LastIndexByte(n, '/')+1:]
		if len(n) >= 2 && n[1] == ':' {
			n = n[2:] // "C:file.xml"
		}
	}
	if strings.HasPrefix(n, "/") {
		return "", fmt.Errorf("%w: %q is absolute", ErrUnsafePath, name)
	}
	segments := strings.Split(n, "/")
	if len(segments) > MaxPathSegments {
		return "", fmt.Errorf("%w: %q nests deeper than %d", ErrUnsafePath, name, MaxPathSegments)
	}
	for _, s := range segments {
		switch {
		case s == "":
			return "", fmt.Errorf("%w: %q has an empty segment", ErrUnsafePath, name)
		case s[0] == '.':
			return "", fmt.Errorf("%w: %q has a segment starting with '.'", ErrUnsafePath, name)
		case len(s) > MaxPathSegment:
			return "", fmt.Errorf("%w: a segment of %q is longer than %d", ErrUnsafePath, name, MaxPathSegment)
		}
		for i := 0; i < len(s); i++ {
			if c := s[i]; !isLetter(c) && !(c >= '0' && c <= '9') && c != '.' && c != '_' && c != '-' {
				return "", fmt.Errorf("%w: %q has the byte %q", ErrUnsafePath, name, c)
			}
		}
	}
	return n, nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
