package commerceml

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/transform"
)

// runGuard caps the number of input bytes between two '<' characters. The tokenizer
// holds a whole tag or text node in its buffer; every such token lies between two '<',
// so this cap bounds the memory of one token.
type runGuard struct {
	src io.Reader
	run int // bytes since the last '<'
	max int
}

func (g *runGuard) Read(p []byte) (int, error) {
	n, err := g.src.Read(p)
	chunk := p[:n]
	for {
		i := bytes.IndexByte(chunk, '<')
		if i < 0 {
			g.run += len(chunk)
			break
		}
		if g.run+i > g.max {
			return 0, limitError("MaxTextBytes", int64(g.max))
		}
		g.run = 0
		chunk = chunk[i+1:]
	}
	if g.run > g.max {
		return 0, limitError("MaxTextBytes", int64(g.max))
	}
	return n, err
}

// sniffWindow is how far ahead the windows-1251 reader looks for its first non-ASCII
// byte when deciding whether a file that declares windows-1251 is really UTF-8.
const sniffWindow = 64 << 10

// sniffSample is how many bytes from the first non-ASCII byte are checked for UTF-8.
const sniffSample = 1024

// errLabel is the prefix of the error for an unknown encoding label.
var errLabel = errors.New("unknown encoding label")

// charsetReader returns the Decoder.CharsetReader for one read. onMislabelled is called
// when a file declares windows-1251 but its bytes are UTF-8 (it is then read as UTF-8).
func charsetReader(onMislabelled func(label string)) func(label string, input io.Reader) (io.Reader, error) {
	return func(label string, input io.Reader) (io.Reader, error) {
		switch strings.ToLower(strings.TrimSpace(label)) {
		case "utf-8", "utf8":
			return input, nil
		case "windows-1251", "cp1251", "cp-1251", "x-cp1251", "win-1251", "1251":
			br := bufio.NewReaderSize(input, sniffWindow)
			if looksLikeUTF8(br) {
				onMislabelled(label)
				return br, nil
			}
			return bufio.NewReaderSize(transform.NewReader(br, charmap.Windows1251.NewDecoder()), readBufferBytes), nil
		}
		return nil, fmt.Errorf("%w: %w %q", ErrUnsupportedEncoding, errLabel, label)
	}
}

// looksLikeUTF8 peeks at the input and reports whether its first non-ASCII bytes form
// valid multi-byte UTF-8. Real windows-1251 Cyrillic text (letters 0xC0–0xFF followed by
// more letters) practically never does. With no non-ASCII byte in the window the
// declaration is trusted.
func looksLikeUTF8(br *bufio.Reader) bool {
	peek, _ := br.Peek(sniffWindow)
	first := -1
	for i, b := range peek {
		if b >= utf8.RuneSelf {
			first = i
			break
		}
	}
	if first < 0 {
		return false
	}
	sample := peek[first:]
	truncated := len(sample) > sniffSample
	if truncated {
		sample = sample[:sniffSample]
	}
	if truncated || len(peek) == sniffWindow {
		// Drop a rune cut in half by the sample's end.
		for k := 0; k < utf8.UTFMax && len(sample) > 0; k++ {
			if utf8.RuneStart(sample[len(sample)-1]) {
				sample = sample[:len(sample)-1]
				break
			}
			sample = sample[:len(sample)-1]
		}
	}
	return len(sample) > 0 && utf8.Valid(sample)
}
