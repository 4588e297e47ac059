package commerceml

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
)

// scanner walks the token stream of one document. It uses Decoder.RawToken, which skips
// namespace translation (elements are matched by local name anyway) and is faster than
// Token; in exchange it checks itself that end tags match their start tags and that the
// document does not end early.
//
// Every element handler is called with the element's start tag consumed and must
// consume everything up to and including its end tag (text, skip or children do).
type scanner struct {
	ctx      context.Context
	dec      *xml.Decoder
	maxDepth int
	maxText  int
	open     []xml.Name // elements open at this point, outermost first
	tokens   uint64
	textBuf  []byte
}

// ctxCheckEvery is how many tokens pass between two checks of the context.
const ctxCheckEvery = 4096

func newScanner(ctx context.Context, dec *xml.Decoder, limits Limits) *scanner {
	return &scanner{
		ctx:      ctx,
		dec:      dec,
		maxDepth: limits.MaxElementDepth,
		maxText:  limits.MaxTextBytes,
		open:     make([]xml.Name, 0, 16),
	}
}

func (s *scanner) line() int {
	line, _ := s.dec.InputPos()
	return line
}

// syntaxError returns ErrMalformed with the decoder's current line.
func (s *scanner) syntaxError(msg string) error {
	return fmt.Errorf("%w: %w", ErrMalformed, &xml.SyntaxError{Msg: msg, Line: s.line()})
}

// next returns the next StartElement, EndElement or CharData. It returns io.EOF only
// when no element is open.
func (s *scanner) next() (xml.Token, error) {
	for {
		tok, err := s.dec.RawToken()
		if err != nil {
			var syn *xml.SyntaxError
			switch {
			case errors.Is(err, io.EOF):
				if len(s.open) > 0 {
					return nil, s.syntaxError(fmt.Sprintf("unexpected EOF: <%s> not closed", s.open[len(s.open)-1].Local))
				}
				return nil, io.EOF
			case errors.As(err, &syn):
				return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
			}
			return nil, err
		}
		s.tokens++
		if s.tokens%ctxCheckEvery == 0 {
			if err := s.ctx.Err(); err != nil {
				return nil, err
			}
		}
		// Return tok itself: re-boxing t into an xml.Token would allocate.
		switch t := tok.(type) {
		case xml.StartElement:
			if len(s.open) >= s.maxDepth {
				return nil, limitError("MaxElementDepth", int64(s.maxDepth))
			}
			s.open = append(s.open, t.Name)
			return tok, nil
		case xml.EndElement:
			if len(s.open) == 0 {
				return nil, s.syntaxError(fmt.Sprintf("unexpected end element </%s>", t.Name.Local))
			}
			top := s.open[len(s.open)-1]
			if top != t.Name {
				return nil, s.syntaxError(fmt.Sprintf("element <%s> closed by </%s>", top.Local, t.Name.Local))
			}
			s.open = s.open[:len(s.open)-1]
			return tok, nil
		case xml.CharData:
			return tok, nil
		}
		// Comments, processing instructions and directives carry no data.
	}
}

// skip consumes the rest of the current element.
func (s *scanner) skip() error {
	target := len(s.open) - 1
	for len(s.open) > target {
		if _, err := s.next(); err != nil {
			return err
		}
	}
	return nil
}

// text returns the current element's character data with surrounding white space
// removed, and consumes the element. Text inside child elements is ignored.
func (s *scanner) text() (string, error) {
	own := len(s.open)
	buf := s.textBuf[:0]
	for {
		tok, err := s.next()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(s.open) == own {
				if len(buf)+len(t) > s.maxText {
					return "", limitError("MaxTextBytes", int64(s.maxText))
				}
				buf = append(buf, t...)
			}
		case xml.StartElement:
			if err := s.skip(); err != nil {
				return "", err
			}
		case xml.EndElement:
			if len(s.open) < own {
				s.textBuf = buf
				return string(bytes.TrimSpace(buf)), nil
			}
		}
	}
}

// children calls fn for every child element of the current element and consumes the
// element. fn must consume the child it is given.
func (s *scanner) children(fn func(start xml.StartElement) error) error {
	own := len(s.open)
	for {
		tok, err := s.next()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if err := fn(t); err != nil {
				return err
			}
			if len(s.open) != own {
				panic("commerceml: element handler did not consume <" + t.Name.Local + ">")
			}
		case xml.EndElement:
			return nil
		}
	}
}

// attr returns the value of the attribute with the given local name.
func attr(start xml.StartElement, local string) (string, bool) {
	for _, a := range start.Attr {
		if a.Name.Local == local {
			return a.Value, true
		}
	}
	return "", false
}
