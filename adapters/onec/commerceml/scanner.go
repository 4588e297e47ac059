package commerceml

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
)

// scanner walks the elements of one document over its own tokenizer (tokenizer.go). It
// checks that end tags match their start tags, that the document does not end inside an
// element, and the depth limit; names are matched by their local part, so prefixes and
// namespaces play no part.
//
// Every element handler is called with the element's start tag consumed and must
// consume everything up to and including its end tag (text, skip or children do).
type scanner struct {
	ctx      context.Context
	maxDepth int
	maxText  int
	tokens   uint64

	// Input. buf[pos:end] is unread; base is the stream offset of buf[0]; line is the
	// line of buf[lineMark] (lines are counted lazily, when asked for and when the
	// buffer moves).
	src         io.Reader
	srcErr      error // sticky: io.EOF or the input's error
	buf         []byte
	pos, end    int
	base        int64
	line        int
	lineMark    int
	maxBuffered int // the buffer never grows past this

	// Encoding: charset opens a decoder for a declared encoding.
	charset          func(label string, input io.Reader) (io.Reader, error)
	encodingSwitches int

	// The current token. name, local, attrs and text point into buf (text into cdata
	// for a CDATA section) and are valid until the scanner advances.
	name, local []byte
	attrs       []attribute
	selfClosing bool
	pendingEnd  bool // the end half of a self-closing tag is next
	chars       []byte
	textPlain   bool // text reads as written (no references, no CR)
	textTooLong bool // CDATA text over MaxTextBytes (only its start is kept)
	cdata       []byte
	decl        []byte // an XML declaration's content

	// Open elements: their qualified names, end to end, and where each ends.
	openNames []byte
	openEnds  []int

	elem    element // the start tag handed to element handlers
	textBuf []byte

	// Position of the first error, when the tokenizer found one inside a token.
	errSet    bool
	errLine   int
	errOffset int64
}

// ctxCheckEvery is how many tokens pass between two checks of the context.
const ctxCheckEvery = 4096

func newScanner(ctx context.Context, src io.Reader, limits Limits, charset func(string, io.Reader) (io.Reader, error)) *scanner {
	s := &scanner{
		ctx:         ctx,
		maxDepth:    limits.MaxElementDepth,
		maxText:     limits.MaxTextBytes,
		src:         src,
		buf:         make([]byte, readBufferBytes),
		line:        1,
		maxBuffered: maxBufferedBytes(limits.MaxTextBytes),
		charset:     charset,
		openNames:   make([]byte, 0, 512),
		openEnds:    make([]int, 0, 16),
		attrs:       make([]attribute, 0, 8),
	}
	s.elem.s = s
	return s
}

// maxBufferedBytes is how large the input buffer may grow: a token spans at most
// maxText input bytes (runGuard), which a declared single-byte encoding may turn into
// three times as many bytes of UTF-8.
func maxBufferedBytes(maxText int) int {
	if maxText > (math.MaxInt-2*readBufferBytes)/3 {
		return math.MaxInt
	}
	return 3*maxText + 2*readBufferBytes
}

// currentLine returns the line of the current position: the end of the last token read.
func (s *scanner) currentLine() int {
	s.syncLine(s.pos)
	return s.line
}

// position returns the line and stream offset to report for an error.
func (s *scanner) position() (int, int64) {
	if s.errSet {
		return s.errLine, s.errOffset
	}
	return s.currentLine(), s.base + int64(s.pos)
}

// syntaxError returns ErrMalformed at the current position.
func (s *scanner) syntaxError(msg string) error {
	return s.syntaxErrorAt(s.pos, msg)
}

func (s *scanner) depth() int { return len(s.openEnds) }

// top returns the qualified name of the innermost open element.
func (s *scanner) top() []byte {
	n := len(s.openEnds)
	start := 0
	if n > 1 {
		start = s.openEnds[n-2]
	}
	return s.openNames[start:s.openEnds[n-1]]
}

func (s *scanner) pop() {
	s.openEnds = s.openEnds[:len(s.openEnds)-1]
	end := 0
	if n := len(s.openEnds); n > 0 {
		end = s.openEnds[n-1]
	}
	s.openNames = s.openNames[:end]
}

// next reads the next start tag, end tag or text. It returns io.EOF only when no element
// is open.
func (s *scanner) next() (tokenKind, error) {
	if s.pendingEnd {
		s.pendingEnd = false
		s.pop()
		return tokEnd, nil
	}
	kind, err := s.lex()
	if err != nil {
		if errors.Is(err, io.EOF) && s.depth() > 0 {
			return 0, s.syntaxError(fmt.Sprintf("unexpected EOF: <%s> not closed", s.top()))
		}
		return 0, err
	}
	s.tokens++
	if s.tokens%ctxCheckEvery == 0 {
		if err := s.ctx.Err(); err != nil {
			return 0, err
		}
	}
	switch kind {
	case tokStart:
		if s.depth() >= s.maxDepth {
			return 0, limitError("MaxElementDepth", int64(s.maxDepth))
		}
		s.openNames = append(s.openNames, s.name...)
		s.openEnds = append(s.openEnds, len(s.openNames))
		s.pendingEnd = s.selfClosing
		s.elem.local = s.local
		s.elem.seq = s.tokens
	case tokEnd:
		if s.depth() == 0 {
			return 0, s.syntaxError(fmt.Sprintf("unexpected end element </%s>", s.name))
		}
		if top := s.top(); !bytes.Equal(top, s.name) {
			return 0, s.syntaxError(fmt.Sprintf("element <%s> closed by </%s>", top, s.name))
		}
		s.pop()
	}
	return kind, nil
}

// skip consumes the rest of the current element.
func (s *scanner) skip() error {
	target := s.depth() - 1
	for s.depth() > target {
		if _, err := s.next(); err != nil {
			return err
		}
	}
	return nil
}

// text returns the current element's character data with surrounding white space
// removed, and consumes the element. Text inside child elements is ignored.
func (s *scanner) text() (string, error) {
	b, err := s.textBytes()
	return string(b), err
}

// textBytes is text without the copy: the bytes are valid until the scanner advances.
func (s *scanner) textBytes() ([]byte, error) {
	own := s.depth()
	buf := s.textBuf[:0]
	for {
		kind, err := s.next()
		if err != nil {
			return nil, err
		}
		switch kind {
		case tokText:
			if s.depth() != own {
				continue
			}
			if s.textTooLong {
				return nil, limitError("MaxTextBytes", int64(s.maxText))
			}
			buf = s.appendText(buf)
			if len(buf) > s.maxText {
				return nil, limitError("MaxTextBytes", int64(s.maxText))
			}
		case tokStart:
			if err := s.skip(); err != nil {
				return nil, err
			}
		case tokEnd:
			if s.depth() < own {
				s.textBuf = buf
				return bytes.TrimSpace(buf), nil
			}
		}
	}
}

// children calls fn for every child element of the current element and consumes the
// element. fn must consume the child it is given.
func (s *scanner) children(fn func(c *element) error) error {
	own := s.depth()
	for {
		kind, err := s.next()
		if err != nil {
			return err
		}
		switch kind {
		case tokStart:
			if err := fn(&s.elem); err != nil {
				return err
			}
			if s.depth() != own {
				panic("commerceml: element handler did not consume <" + string(s.elem.local) + ">")
			}
		case tokEnd:
			return nil
		}
	}
}

// element is a start tag as element handlers see it. Its name and attributes are only
// readable until the scanner advances past the start tag: reading them later is a bug
// and panics.
type element struct {
	s     *scanner
	seq   uint64 // the token count when the tag was read
	local []byte
}

// name returns the local name (valid until the scanner advances).
func (e *element) name() []byte {
	e.check()
	return e.local
}

// Local returns the local name as a string.
func (e *element) Local() string { return string(e.name()) }

func (e *element) check() {
	if e.seq != e.s.tokens {
		panic("commerceml: start tag read after the scanner advanced")
	}
}

// attr returns the value of the attribute with the given local name.
func (e *element) attr(local string) (string, bool) {
	e.check()
	for i := range e.s.attrs {
		if a := &e.s.attrs[i]; string(a.local) == local {
			return a.decoded(), true
		}
	}
	return "", false
}

// numAttrs and attrAt list the attributes in document order.
func (e *element) numAttrs() int {
	e.check()
	return len(e.s.attrs)
}

func (e *element) attrAt(i int) (local, value string) {
	e.check()
	a := &e.s.attrs[i]
	return string(a.local), a.decoded()
}

func (a *attribute) decoded() string {
	if a.plain {
		return string(a.value)
	}
	return string(appendDecoded(nil, a.value))
}
