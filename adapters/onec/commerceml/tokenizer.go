package commerceml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// The tokenizer is a strict, streaming XML 1.0 scanner over the scanner's own input
// buffer. It accepts exactly what encoding/xml's Decoder.RawToken accepts in strict mode,
// quirks included (a directive anywhere, an XML declaration anywhere, "&#xD800;" read as
// U+FFFD), and the differential tests hold it to that. It refuses only what would make
// its memory grow: names over maxNameBytes, an XML declaration over MaxTextBytes and a
// second encoding switch. It does not
// build tokens: names, attribute values and text are byte slices into the buffer, and
// text is only decoded (references, CR LF) when an element handler asks for it.
//
// Tokens that cannot be longer than one stretch between two '<' (tags and text) are kept
// whole in the buffer; runGuard under the input bounds that stretch by MaxTextBytes.
// Comments, processing instructions, CDATA sections and directives may contain '<', so
// they are read byte by byte and never buffered whole (a CDATA section keeps at most
// MaxTextBytes of its text).

// maxNameBytes is the longest element, attribute or processing-instruction name accepted,
// in bytes. It bounds the names the scanner keeps for its open elements.
const maxNameBytes = 4 << 10

// maxEncodingDeclarations is how many XML declarations may switch the input's encoding.
// Each switch stacks a decoder over the input, so a second one is refused.
const maxEncodingDeclarations = 1

// errSecondEncoding is returned for an XML declaration that would switch the encoding
// again.
var errSecondEncoding = errors.New("second XML declaration switching the encoding")

type tokenKind uint8

const (
	tokText tokenKind = iota + 1
	tokStart
	tokEnd
)

// attribute is one attribute of the current start tag; its slices point into the buffer.
type attribute struct {
	local []byte
	value []byte // as written between the quotes
	plain bool   // value has no '&' and no '\r', so it reads as written
}

// Byte classes of the text scanners; 0 is a byte that needs no attention.
const (
	clsPlain   uint8 = iota
	clsLess          // '<'
	clsAmp           // '&'
	clsBracket       // ']' (text only: "]]>" is not allowed)
	clsCR            // '\r', read as '\n'
	clsControl       // a control character outside the XML character range
	clsHigh          // first byte of a multi-byte UTF-8 sequence
	clsQuote         // '"' or '\'' (attribute values only)
)

var textClass, attrClass [256]uint8

// nameByte marks the ASCII bytes encoding/xml reads as part of a name; every byte ≥ 0x80
// is read too and checked by validName.
var nameByte, nameStartASCII [256]bool

func init() {
	for c := 0; c < 256; c++ {
		switch {
		case c >= utf8.RuneSelf:
			textClass[c], attrClass[c] = clsHigh, clsHigh
		case c == '<':
			textClass[c], attrClass[c] = clsLess, clsLess
		case c == '&':
			textClass[c], attrClass[c] = clsAmp, clsAmp
		case c == '\r':
			textClass[c], attrClass[c] = clsCR, clsCR
		case c == ']':
			textClass[c] = clsBracket
		case c == '"' || c == '\'':
			attrClass[c] = clsQuote
		case c < 0x20 && c != '\t' && c != '\n':
			textClass[c], attrClass[c] = clsControl, clsControl
		}
		b := byte(c)
		nameByte[c] = 'A' <= b && b <= 'Z' || 'a' <= b && b <= 'z' || '0' <= b && b <= '9' ||
			b == '_' || b == ':' || b == '.' || b == '-'
		nameStartASCII[c] = 'A' <= b && b <= 'Z' || 'a' <= b && b <= 'z' || b == '_' || b == ':'
	}
}

func isNameChar(c byte) bool { return c >= utf8.RuneSelf || nameByte[c] }

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

// isInCharacterRange reports whether r is an XML 1.0 Char.
func isInCharacterRange(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// errNeedMore is the internal signal that a token runs past the buffered input.
var errNeedMore = errors.New("need more input")

// more reads more input into the buffer, keeping buf[pos:]. It returns io.EOF at the end
// of the input and the input's error (runGuard's limit error included) otherwise.
func (s *scanner) more() error {
	if s.srcErr != nil {
		return s.srcErr
	}
	if len(s.buf)-s.end < minReadBytes && s.pos > 0 {
		s.syncLine(s.pos)
		n := copy(s.buf, s.buf[s.pos:s.end])
		s.base += int64(s.pos)
		s.lineMark -= s.pos
		s.end, s.pos = n, 0
	}
	if s.end == len(s.buf) {
		if len(s.buf) >= s.maxBuffered {
			return limitError("MaxTextBytes", int64(s.maxText))
		}
		grown := make([]byte, min(2*len(s.buf), s.maxBuffered))
		copy(grown, s.buf[:s.end])
		s.buf = grown
	}
	for empty := 0; empty < maxEmptyReads; empty++ {
		n, err := s.src.Read(s.buf[s.end:])
		s.end += n
		if err != nil {
			s.srcErr = err
			if n == 0 {
				return err
			}
		}
		if n > 0 {
			return nil
		}
	}
	s.srcErr = io.ErrNoProgress
	return s.srcErr
}

// minReadBytes is the least free space the buffer keeps for a read before it moves the
// unread bytes to its front. Moving only then keeps the copying linear in the input
// however small the reads are.
const minReadBytes = 4 << 10

// maxEmptyReads is how many (0, nil) reads in a row the scanner tolerates from its input.
const maxEmptyReads = 100

// syncLine counts the lines of buf[lineMark:i].
func (s *scanner) syncLine(i int) {
	if i > s.lineMark {
		s.line += bytes.Count(s.buf[s.lineMark:i], []byte{'\n'})
		s.lineMark = i
	}
}

// getc returns the next byte for the byte-by-byte readers (comments, CDATA, processing
// instructions, directives), which consume as they go.
func (s *scanner) getc() (byte, error) {
	if s.pos >= s.end {
		if err := s.more(); err != nil {
			return 0, s.eofError(err, "unexpected EOF")
		}
	}
	c := s.buf[s.pos]
	s.pos++
	return c, nil
}

// eofError turns io.EOF inside a token into a syntax error.
func (s *scanner) eofError(err error, msg string) error {
	if errors.Is(err, io.EOF) {
		return s.syntaxErrorAt(s.end, msg)
	}
	return err
}

// syntaxErrorAt returns ErrMalformed with the line of buf[i] and records the position.
func (s *scanner) syntaxErrorAt(i int, msg string) error {
	s.syncLine(min(i, s.end))
	s.errSet, s.errLine, s.errOffset = true, s.line, s.base+int64(i)
	return fmt.Errorf("%w: %w", ErrMalformed, &xml.SyntaxError{Msg: msg, Line: s.line})
}

// lex reads the next start tag, end tag or text (a CDATA section is text), skipping
// comments, processing instructions and directives. It returns io.EOF at the end of the
// input between two tokens.
func (s *scanner) lex() (tokenKind, error) {
	for {
		for s.end-s.pos < 2 {
			if err := s.more(); err != nil {
				if s.pos == s.end || !errors.Is(err, io.EOF) {
					return 0, err
				}
				break
			}
		}
		if s.buf[s.pos] != '<' {
			return tokText, s.lexText()
		}
		if s.pos+1 == s.end {
			return 0, s.syntaxErrorAt(s.end, "unexpected EOF")
		}
		switch s.buf[s.pos+1] {
		case '/':
			return tokEnd, s.lexTag(s.parseEnd)
		case '?':
			if err := s.skipProcInst(); err != nil {
				return 0, err
			}
		case '!':
			cdata, err := s.lexBang()
			if err != nil || cdata {
				return tokText, err
			}
		default:
			return tokStart, s.lexTag(s.parseStart)
		}
	}
}

// lexTag parses a tag at pos with parse. When the tag runs past the buffer, it reads on
// until the tag's end is buffered and parses it again, once.
func (s *scanner) lexTag(parse func(final bool) error) error {
	err := parse(false)
	if err != errNeedMore {
		return err
	}
	if err := s.bufferTag(); err != nil {
		return err
	}
	return parse(true)
}

// bufferTag reads input until the buffer holds, after the '<' at pos, a '>' outside quotes
// or another '<' (which the tag parser rejects), or the input ends.
func (s *scanner) bufferTag() error {
	var quote byte
	for i := 1; ; i++ {
		if s.pos+i >= s.end {
			if err := s.more(); err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return err
			}
		}
		switch c := s.buf[s.pos+i]; {
		case c == '<':
			return nil
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '>':
			return nil
		case c == '"' || c == '\'':
			quote = c
		}
	}
}

// needOrEOF is what a parser returns when the buffered input ends inside its token.
func (s *scanner) needOrEOF(final bool) error {
	if final {
		return s.syntaxErrorAt(s.end, "unexpected EOF")
	}
	return errNeedMore
}

// parseStart parses the start tag at pos: name, attributes, "/>" or ">".
func (s *scanner) parseStart(final bool) error {
	b := s.buf[s.pos:s.end]
	i := 1
	for i < len(b) && isNameChar(b[i]) {
		i++
	}
	if i == len(b) {
		return s.needOrEOF(final)
	}
	name := b[1:i]
	local, ok := splitName(name)
	if err := s.checkName(name, ok, "expected element name after <"); err != nil {
		return err
	}
	s.name, s.local, s.selfClosing = name, local, false
	s.attrs = s.attrs[:0]
	for {
		for i < len(b) && isSpace(b[i]) {
			i++
		}
		if i == len(b) {
			return s.needOrEOF(final)
		}
		switch b[i] {
		case '>':
			s.pos += i + 1
			return nil
		case '/':
			if i+1 == len(b) {
				return s.needOrEOF(final)
			}
			if b[i+1] != '>' {
				return s.syntaxErrorAt(s.pos+i+1, "expected /> in element")
			}
			s.selfClosing = true
			s.pos += i + 2
			return nil
		}
		j := i
		for i < len(b) && isNameChar(b[i]) {
			i++
		}
		if i == len(b) {
			return s.needOrEOF(final)
		}
		attrName := b[j:i]
		attrLocal, ok := splitName(attrName)
		if err := s.checkName(attrName, ok, "expected attribute name in element"); err != nil {
			return err
		}
		for i < len(b) && isSpace(b[i]) {
			i++
		}
		if i == len(b) {
			return s.needOrEOF(final)
		}
		if b[i] != '=' {
			return s.syntaxErrorAt(s.pos+i, "attribute name without = in element")
		}
		i++
		for i < len(b) && isSpace(b[i]) {
			i++
		}
		if i == len(b) {
			return s.needOrEOF(final)
		}
		quote := b[i]
		if quote != '"' && quote != '\'' {
			return s.syntaxErrorAt(s.pos+i, "unquoted or missing attribute value in element")
		}
		i++
		valueEnd, plain, err := s.scanChars(b, i, quote, final)
		if err != nil {
			return err
		}
		s.attrs = append(s.attrs, attribute{local: attrLocal, value: b[i:valueEnd], plain: plain})
		i = valueEnd + 1
	}
}

// parseEnd parses the end tag at pos. The name is checked against the open element by
// the caller (an equal name was validated by its start tag).
func (s *scanner) parseEnd(final bool) error {
	b := s.buf[s.pos:s.end]
	i := 2
	for i < len(b) && isNameChar(b[i]) {
		i++
	}
	if i == len(b) {
		return s.needOrEOF(final)
	}
	if i == 2 {
		return s.syntaxErrorAt(s.pos+i, "expected element name after </")
	}
	name := b[2:i]
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	if i == len(b) {
		return s.needOrEOF(final)
	}
	if b[i] != '>' {
		return s.syntaxErrorAt(s.pos+i, "invalid characters between </"+string(name)+" and >")
	}
	s.name = name
	s.pos += i + 1
	return nil
}

// splitName returns the local part of a name: the part after its colon when the name has
// one colon with text on both sides, else the whole name. ok is false with two colons or
// more, which encoding/xml does not accept in element and attribute names.
func splitName(name []byte) (local []byte, ok bool) {
	i := bytes.IndexByte(name, ':')
	if i < 0 {
		return name, true
	}
	if bytes.IndexByte(name[i+1:], ':') >= 0 {
		return nil, false
	}
	if i == 0 || i == len(name)-1 {
		return name, true
	}
	return name[i+1:], true
}

// checkName rejects an empty, over-long or invalid name, or one with two colons.
func (s *scanner) checkName(name []byte, colonsOK bool, missing string) error {
	switch {
	case len(name) == 0:
		return s.syntaxErrorAt(s.pos+1, missing)
	case len(name) > maxNameBytes:
		return limitError("maxNameBytes", maxNameBytes)
	case !validName(name):
		return s.syntaxErrorAt(s.pos+1, "invalid XML name: "+strings.ToValidUTF8(string(name), "\uFFFD"))
	case !colonsOK:
		return s.syntaxErrorAt(s.pos+1, missing)
	}
	return nil
}

// lexText scans the text at pos up to the next '<' or the end of the input.
func (s *scanner) lexText() error {
	i := 0
	plain := true
	for {
		b := s.buf[s.pos:s.end]
		end, textPlain, err := s.scanChars(b, i, 0, s.srcErr != nil)
		plain = plain && textPlain
		if err == nil {
			s.setText(b[:end], plain)
			s.pos += end
			return nil
		}
		if err != errNeedMore {
			return err
		}
		i = end
		if err := s.more(); err != nil {
			if !errors.Is(err, io.EOF) {
				return err
			}
			// The input ends inside the text: scan the rest as final.
			b = s.buf[s.pos:s.end]
			end, textPlain, err = s.scanChars(b, i, 0, true)
			if err != nil {
				return err
			}
			s.setText(b[:end], plain && textPlain)
			s.pos += end
			return nil
		}
	}
}

func (s *scanner) setText(raw []byte, plain bool) {
	s.chars, s.textPlain, s.textTooLong = raw, plain, false
}

// scanChars checks character data in b from i: text up to '<' (quote 0) or an attribute
// value up to the closing quote. It returns the index of the terminator and whether the
// data reads as written. When the data runs past b it returns errNeedMore with the index
// where scanning can resume, unless final, when the end of b is the end of the input (the
// end of text; an error in an attribute value).
func (s *scanner) scanChars(b []byte, i int, quote byte, final bool) (int, bool, error) {
	class := &textClass
	if quote != 0 {
		class = &attrClass
	}
	plain := true
	for i < len(b) {
		c := b[i]
		switch class[c] {
		case clsPlain:
			i++
			continue
		case clsLess:
			if quote != 0 {
				return i, plain, s.syntaxErrorAt(s.pos+i, "unescaped < inside quoted string")
			}
			return i, plain, nil
		case clsQuote:
			if c == quote {
				return i, plain, nil
			}
			i++
		case clsHigh:
			if c >= 0xC2 && c <= 0xDF && i+1 < len(b) && b[i+1]&0xC0 == 0x80 {
				i += 2 // U+0080–U+07FF: always an XML character
				continue
			}
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				if !final && !utf8.FullRune(b[i:]) {
					return i, plain, errNeedMore
				}
				return i, plain, s.syntaxErrorAt(s.pos+i, "invalid UTF-8")
			}
			if r == 0xFFFE || r == 0xFFFF {
				return i, plain, s.syntaxErrorAt(s.pos+i, fmt.Sprintf("illegal character code %U", r))
			}
			i += size
		case clsCR:
			plain = false
			i++
		case clsControl:
			return i, plain, s.syntaxErrorAt(s.pos+i, fmt.Sprintf("illegal character code %U", rune(c)))
		case clsBracket:
			if i+2 >= len(b) {
				if !final {
					return i, plain, errNeedMore
				}
				i++
				continue
			}
			if b[i+1] == ']' && b[i+2] == '>' {
				return i, plain, s.syntaxErrorAt(s.pos+i, "unescaped ]]> not in CDATA section")
			}
			i++
		case clsAmp:
			n, _, msg := entityAt(b[i:])
			if n == 0 {
				if !final {
					return i, plain, errNeedMore
				}
				return i, plain, s.syntaxErrorAt(s.end, "unexpected EOF")
			}
			if msg != "" {
				return i, plain, s.syntaxErrorAt(s.pos+i, msg)
			}
			plain = false
			i += n
		}
	}
	if final && quote != 0 {
		return i, plain, s.syntaxErrorAt(s.end, "unexpected EOF")
	}
	if final {
		return i, plain, nil
	}
	return i, plain, errNeedMore
}

// entityAt reads the reference at b[0] == '&'. It returns its length and the rune it
// stands for; n is 0 when b ends before the reference does, and msg is set when the
// reference is not one encoding/xml accepts: &lt; &gt; &amp; &apos; &quot; or a decimal
// (&#NN;) or hexadecimal (&#xHH;) character reference to an XML character. A reference
// to a surrogate reads as U+FFFD, as in encoding/xml.
func entityAt(b []byte) (n int, r rune, msg string) {
	if len(b) < 2 {
		return 0, 0, ""
	}
	if b[1] != '#' {
		i := 1
		for i < len(b) && isNameChar(b[i]) {
			i++
		}
		if i == len(b) {
			return 0, 0, ""
		}
		name := b[1:i]
		if b[i] != ';' {
			return i, 0, "invalid character entity &" + strings.ToValidUTF8(string(name), "\uFFFD") + " (no semicolon)"
		}
		switch string(name) {
		case "lt":
			return i + 1, '<', ""
		case "gt":
			return i + 1, '>', ""
		case "amp":
			return i + 1, '&', ""
		case "apos":
			return i + 1, '\'', ""
		case "quot":
			return i + 1, '"', ""
		}
		return i + 1, 0, "invalid character entity &" + strings.ToValidUTF8(string(name), "\uFFFD") + ";"
	}
	i, base := 2, rune(10)
	if i < len(b) && b[i] == 'x' {
		i, base = 3, 16
	}
	start := i
	var value rune
	for ; i < len(b); i++ {
		d := hexDigit(b[i])
		if d < 0 || d >= base {
			break
		}
		if value <= utf8.MaxRune {
			value = value*base + d
		}
	}
	if i == len(b) {
		return 0, 0, ""
	}
	ref := string(b[:i])
	if b[i] != ';' {
		return i, 0, "invalid character entity " + ref + " (no semicolon)"
	}
	if i == start || value > utf8.MaxRune {
		return i + 1, 0, "invalid character entity " + ref + ";"
	}
	if value >= 0xD800 && value <= 0xDFFF {
		return i + 1, utf8.RuneError, ""
	}
	if !isInCharacterRange(value) {
		return i + 1, 0, fmt.Sprintf("illegal character code %U", value)
	}
	return i + 1, value, ""
}

func hexDigit(c byte) rune {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0')
	case 'a' <= c && c <= 'f':
		return rune(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return rune(c-'A') + 10
	}
	return -1
}

// appendDecoded appends checked character data with its references replaced and CR LF
// and lone CR read as LF.
func appendDecoded(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		j := i
		for j < len(raw) && raw[j] != '&' && raw[j] != '\r' {
			j++
		}
		dst = append(dst, raw[i:j]...)
		if j == len(raw) {
			break
		}
		if raw[j] == '\r' {
			dst = append(dst, '\n')
			j++
			if j < len(raw) && raw[j] == '\n' {
				j++
			}
			i = j
			continue
		}
		n, r, _ := entityAt(raw[j:])
		dst = utf8.AppendRune(dst, r)
		i = j + n
	}
	return dst
}

// appendText appends the current text token, decoded.
func (s *scanner) appendText(dst []byte) []byte {
	if s.textPlain {
		return append(dst, s.chars...)
	}
	return appendDecoded(dst, s.chars)
}

// lexBang reads a comment, a CDATA section or a directive at pos. cdata reports a CDATA
// section, which becomes the current text.
func (s *scanner) lexBang() (cdata bool, err error) {
	s.pos += 2 // "<!"
	c, err := s.getc()
	if err != nil {
		return false, err
	}
	switch c {
	case '-':
		return false, s.skipComment()
	case '[':
		for i := 0; i < len("CDATA["); i++ {
			c, err := s.getc()
			if err != nil {
				return false, err
			}
			if c != "CDATA["[i] {
				return false, s.syntaxErrorAt(s.pos-1, "invalid <![ sequence")
			}
		}
		return true, s.readCDATA()
	}
	return false, s.skipDirective()
}

// skipComment reads the rest of a comment after "<!-".
func (s *scanner) skipComment() error {
	c, err := s.getc()
	if err != nil {
		return err
	}
	if c != '-' {
		return s.syntaxErrorAt(s.pos-1, "invalid sequence <!- not part of <!--")
	}
	var b0, b1 byte
	for {
		c, err := s.getc()
		if err != nil {
			return err
		}
		if b0 == '-' && b1 == '-' {
			if c != '>' {
				return s.syntaxErrorAt(s.pos-1, `invalid sequence "--" not allowed in comments`)
			}
			return nil
		}
		b0, b1 = b1, c
	}
}

// readCDATA reads a CDATA section after "<![CDATA[" into s.cdata: its text with CR LF
// read as LF, kept up to MaxTextBytes (textTooLong reports more).
func (s *scanner) readCDATA() error {
	s.cdata = s.cdata[:0]
	total := 0
	var b0, b1 byte
	var check runeCheck
	for {
		c, err := s.getc()
		if err != nil {
			return err
		}
		if b0 == ']' && b1 == ']' && c == '>' {
			break
		}
		b0, b1 = b1, c
		if c == '\r' {
			c = '\n'
		} else if b0 == '\r' && c == '\n' {
			continue
		}
		if msg := check.add(c); msg != "" {
			return s.syntaxErrorAt(s.pos-1, msg)
		}
		total++
		if len(s.cdata) <= s.maxText+2 {
			s.cdata = append(s.cdata, c)
		}
	}
	if check.pending() {
		return s.syntaxErrorAt(s.pos-1, "invalid UTF-8")
	}
	total -= 2 // the "]]" of "]]>"
	s.cdata = s.cdata[:min(len(s.cdata), total)]
	s.chars, s.textPlain, s.textTooLong = s.cdata, true, total > s.maxText
	return nil
}

// runeCheck checks character data fed one byte at a time.
type runeCheck struct {
	buf [utf8.UTFMax]byte
	n   int
}

func (c *runeCheck) add(b byte) string {
	if c.n == 0 && b < utf8.RuneSelf {
		if textClass[b] == clsControl {
			return fmt.Sprintf("illegal character code %U", rune(b))
		}
		return ""
	}
	c.buf[c.n] = b
	c.n++
	if !utf8.FullRune(c.buf[:c.n]) {
		return ""
	}
	r, size := utf8.DecodeRune(c.buf[:c.n])
	if r == utf8.RuneError && size == 1 {
		return "invalid UTF-8"
	}
	c.n = 0
	if !isInCharacterRange(r) {
		return fmt.Sprintf("illegal character code %U", r)
	}
	return ""
}

func (c *runeCheck) pending() bool { return c.n > 0 }

// skipDirective reads a directive (<!DOCTYPE …>) after "<!" and its first byte, the way
// encoding/xml does: quoted '<' and '>' do not nest, comments inside are skipped.
func (s *scanner) skipDirective() error {
	var quote byte
	depth := 0
	for {
		c, err := s.getc()
		if err != nil {
			return err
		}
		if quote == 0 && c == '>' && depth == 0 {
			return nil
		}
	handle:
		switch {
		case c == quote:
			quote = 0
		case quote != 0:
		case c == '\'' || c == '"':
			quote = c
		case c == '>':
			depth--
		case c == '<':
			for i := 0; i < len("!--"); i++ {
				if c, err = s.getc(); err != nil {
					return err
				}
				if c != "!--"[i] {
					depth++
					goto handle
				}
			}
			var b0, b1 byte
			for {
				if c, err = s.getc(); err != nil {
					return err
				}
				if b0 == '-' && b1 == '-' && c == '>' {
					break
				}
				b0, b1 = b1, c
			}
		}
	}
}

// skipProcInst reads a processing instruction at pos. The XML declaration's version must
// be 1.0, and its encoding, when not UTF-8, switches the input to a decoder.
func (s *scanner) skipProcInst() error {
	s.pos += 2 // "<?"
	target := s.decl[:0]
	for {
		c, err := s.getc()
		if err != nil {
			return err
		}
		if !isNameChar(c) {
			s.pos--
			break
		}
		if len(target) == maxNameBytes {
			return limitError("maxNameBytes", maxNameBytes)
		}
		target = append(target, c)
	}
	if len(target) == 0 {
		return s.syntaxErrorAt(s.pos, "expected target name after <?")
	}
	if !validName(target) {
		return s.syntaxErrorAt(s.pos, "invalid XML name: "+strings.ToValidUTF8(string(target), "\uFFFD"))
	}
	isDecl := string(target) == "xml"
	for {
		c, err := s.getc()
		if err != nil {
			return err
		}
		if !isSpace(c) {
			s.pos--
			break
		}
	}
	content := s.decl[:0]
	var b0 byte
	for {
		c, err := s.getc()
		if err != nil {
			return err
		}
		if isDecl {
			if len(content) > s.maxText {
				return limitError("MaxTextBytes", int64(s.maxText))
			}
			content = append(content, c)
		}
		if b0 == '?' && c == '>' {
			break
		}
		b0 = c
	}
	s.decl = content[:0]
	if !isDecl {
		return nil
	}
	return s.declaration(string(content[:len(content)-2]))
}

// declaration applies an XML declaration's version and encoding.
func (s *scanner) declaration(content string) error {
	if ver := procInst("version", content); ver != "" && ver != "1.0" {
		return s.syntaxErrorAt(s.pos, fmt.Sprintf("unsupported XML version %q; only version 1.0 is supported", ver))
	}
	enc := procInst("encoding", content)
	if enc == "" || strings.EqualFold(enc, "utf-8") {
		return nil
	}
	if s.encodingSwitches >= maxEncodingDeclarations {
		return fmt.Errorf("%w: %w (%q)", ErrMalformed, errSecondEncoding, enc)
	}
	s.encodingSwitches++
	rest := bytes.Clone(s.buf[s.pos:s.end])
	input := io.MultiReader(bytes.NewReader(rest), &stickyErr{r: s.src, err: s.srcErr})
	decoded, err := s.charset(enc, input)
	if err != nil {
		return fmt.Errorf("xml: opening charset %q: %w", enc, err)
	}
	s.syncLine(s.pos)
	s.base += int64(s.pos)
	s.lineMark, s.pos, s.end = 0, 0, 0
	s.src, s.srcErr = decoded, nil
	return nil
}

// stickyErr reads r until it has failed once, then repeats the failure.
type stickyErr struct {
	r   io.Reader
	err error
}

func (e *stickyErr) Read(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.r.Read(p)
	e.err = err
	return n, err
}

// procInst returns the value of param="…" or param='…' in a processing instruction's
// content, "" if absent; it reads the declaration exactly as encoding/xml does.
func procInst(param, s string) string {
	param += "="
	lenp := len(param)
	i := 0
	var sep byte
	for i < len(s) {
		sub := s[i:]
		k := strings.Index(sub, param)
		if k < 0 || lenp+k >= len(sub) {
			return ""
		}
		i += lenp + k + 1
		if c := sub[lenp+k]; c == '\'' || c == '"' {
			sep = c
			break
		}
	}
	if sep == 0 {
		return ""
	}
	j := strings.IndexByte(s[i:], sep)
	if j < 0 {
		return ""
	}
	return s[i : i+j]
}
