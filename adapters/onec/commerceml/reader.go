package commerceml

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Reader reads CommerceML files one after another. It remembers the warehouses and
// price types declared by the files it has read (up to MaxDeclarations), so that a
// rests or prices file read after its import.xml can inherit currencies and flag
// undeclared warehouses. A Reader is not safe for concurrent use.
type Reader struct {
	limits           Limits
	warehouses       map[string]struct{}
	priceTypes       map[string]PriceType
	warnedWarehouses map[string]struct{}
	declarationsFull bool
}

// NewReader returns a Reader with the given limits (see DefaultLimits).
func NewReader(limits Limits) (*Reader, error) {
	if err := limits.validate(); err != nil {
		return nil, err
	}
	return &Reader{
		limits:           limits,
		warehouses:       make(map[string]struct{}),
		priceTypes:       make(map[string]PriceType),
		warnedWarehouses: make(map[string]struct{}),
	}, nil
}

// Limits returns the reader's limits.
func (r *Reader) Limits() Limits { return r.limits }

// parser is the state of one Read.
type parser struct {
	r       *Reader
	ctx     context.Context
	file    string
	v       Visitor
	s       *scanner
	sum     Summary
	version string // root ВерсияСхемы
	created string // root ДатаФормирования
	// visitErr is the first error a Visitor returned from Warning; it stops the read
	// at the next item.
	visitErr       error
	mislabelled    string
	seenOffers     map[uint64]struct{}
	seenProducts   map[uint64]struct{}
	trackingWarned bool
}

// Read parses one CommerceML document from src and visits its items in document order.
// name is used in warnings and errors. The Summary counts what was visited, including
// when an error stops the read.
func (r *Reader) Read(ctx context.Context, name string, src io.Reader, v Visitor) (Summary, error) {
	p := &parser{r: r, ctx: ctx, file: name, v: v}
	guarded := &runGuard{src: src, max: r.limits.MaxTextBytes}
	p.s = newScanner(ctx, guarded, r.limits, charsetReader(func(label string) { p.mislabelled = label }))
	p.sum.Files = 1
	err := p.document()
	if err == nil {
		err = p.visitErr
	}
	if err != nil {
		line, offset := p.s.position()
		return p.sum, &ParseError{File: name, Line: line, Offset: offset, Err: err}
	}
	return p.sum, nil
}

// readBufferBytes is the size of the input buffer of one read.
const readBufferBytes = 64 << 10

// rootName is the local name of every CommerceML document's root element.
const rootName = "КоммерческаяИнформация"

// document reads the prolog, the root element and the epilog.
func (p *parser) document() error {
	for {
		kind, err := p.s.next()
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%w: no root element", ErrMalformed)
		}
		if err != nil {
			return err
		}
		switch kind {
		case tokText:
			if len(bytes.Trim(p.s.appendText(nil), " \t\r\n\ufeff")) > 0 {
				return p.s.syntaxError("text before the root element")
			}
		case tokStart:
			if local := p.s.elem.name(); string(local) != rootName {
				return fmt.Errorf("%w: <%s>", ErrNotCommerceML, local)
			}
			if err := p.root(&p.s.elem); err != nil {
				return err
			}
			return p.epilog()
		}
	}
}

func (p *parser) epilog() error {
	for {
		kind, err := p.s.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch kind {
		case tokStart:
			return p.s.syntaxError("second root element <" + p.s.elem.Local() + ">")
		case tokText:
			if len(bytes.TrimSpace(p.s.appendText(nil))) > 0 {
				return p.s.syntaxError("text after the root element")
			}
		}
	}
}

func (p *parser) root(start *element) error {
	p.version, _ = start.attr("ВерсияСхемы")
	p.created, _ = start.attr("ДатаФормирования")
	if p.mislabelled != "" {
		p.warn(1, WarnEncodingMismatch, "encoding %q declared but the content is UTF-8; read as UTF-8", p.mislabelled)
	}
	return p.s.children(func(c *element) error {
		switch string(c.name()) {
		case "Классификатор":
			return p.pkg(c, KindClassifier)
		case "Каталог":
			return p.pkg(c, KindCatalog)
		case "ПакетПредложений":
			return p.pkg(c, KindOffers)
		case "ИзмененияПакетаПредложений":
			return p.pkg(c, KindOfferChanges)
		case "Документ":
			return p.order(c)
		case "Контейнер":
			return p.s.children(func(d *element) error {
				if string(d.name()) == "Документ" {
					return p.order(d)
				}
				return p.s.skip()
			})
		}
		return p.s.skip()
	})
}

// each reads the children named local with fn and skips the others.
func (p *parser) each(local string, fn func(*element) error) error {
	return p.s.children(func(c *element) error {
		if string(c.name()) == local {
			return fn(c)
		}
		return p.s.skip()
	})
}

// mode reads a СодержитТолькоИзменения value.
func (p *parser) mode(line int, raw string) Mode {
	switch strings.ToLower(strings.TrimSpace(raw)) {
	case "true", "1":
		return ModeChangesOnly
	case "false", "0":
		return ModeFull
	}
	p.warn(line, WarnBadFlag, "СодержитТолькоИзменения %q is neither true nor false; treated as absent", raw)
	return ModeUnspecified
}

// flag reads a boolean such as ПометкаУдаления or УчтеноВСумме.
func (p *parser) flag(line int, name, raw string) bool {
	switch strings.ToLower(strings.TrimSpace(raw)) {
	case "true", "1":
		return true
	case "false", "0", "":
		return false
	}
	p.warn(line, WarnBadFlag, "%s %q is neither true nor false; read as false", name, raw)
	return false
}

// warn records a warning and passes it to the visitor.
func (p *parser) warn(line int, code WarningCode, format string, args ...any) {
	w := Warning{File: p.file, Line: line, Code: code, Message: fmt.Sprintf(format, args...)}
	p.sum.WarningCount++
	if len(p.sum.Warnings) < p.r.limits.MaxWarnings {
		p.sum.Warnings = append(p.sum.Warnings, w)
	}
	if p.visitErr == nil {
		p.visitErr = p.v.Warning(p.ctx, w)
	}
}

// checkItemID warns about a product or offer Ид over MaxItemIDChars.
func (p *parser) checkItemID(line int, what, id string) {
	if n := utf8.RuneCountInString(id); n > p.r.limits.MaxItemIDChars {
		p.warn(line, WarnIDTooLong, "%s %q has %d characters, over %d; kept whole", what, id, n, p.r.limits.MaxItemIDChars)
	}
}

// checkRefID warns about another Ид over MaxRefIDChars.
func (p *parser) checkRefID(line int, what, id string) {
	if n := utf8.RuneCountInString(id); n > p.r.limits.MaxRefIDChars {
		p.warn(line, WarnIDTooLong, "%s %q has %d characters, over %d; kept whole", what, id, n, p.r.limits.MaxRefIDChars)
	}
}

// seen reports whether id was already recorded in set, recording it if not.
func (p *parser) seen(set *map[uint64]struct{}, line int, id string) bool {
	if *set == nil {
		*set = make(map[uint64]struct{})
	}
	key := fnv64a(id)
	if _, ok := (*set)[key]; ok {
		return true
	}
	if len(*set) >= p.r.limits.MaxTrackedIDs {
		if !p.trackingWarned {
			p.trackingWarned = true
			p.warn(line, WarnTrackingLimit, "MaxTrackedIDs (%d) reached; duplicate IDs are no longer detected in this file", p.r.limits.MaxTrackedIDs)
		}
		return false
	}
	(*set)[key] = struct{}{}
	return false
}

// declare remembers a declared ID in one of the reader's maps, within MaxDeclarations.
func declare[V any](p *parser, m map[string]V, line int, id string, value V) {
	if _, ok := m[id]; !ok && len(p.r.warehouses)+len(p.r.priceTypes) >= p.r.limits.MaxDeclarations {
		if !p.r.declarationsFull {
			p.r.declarationsFull = true
			p.warn(line, WarnTrackingLimit, "MaxDeclarations (%d) reached; further warehouses and price types are not remembered", p.r.limits.MaxDeclarations)
		}
		return
	}
	m[id] = value
}

// checkWarehouse warns once per warehouse ID that was not declared before its stock.
func (p *parser) checkWarehouse(line int, id string) {
	if _, ok := p.r.warehouses[id]; ok {
		return
	}
	if _, ok := p.r.warnedWarehouses[id]; ok {
		return
	}
	if len(p.r.warnedWarehouses) < p.r.limits.MaxDeclarations {
		p.r.warnedWarehouses[id] = struct{}{}
		p.warn(line, WarnUnknownWarehouse, "stock for warehouse %q, which no Склады declared so far; kept for mapping", id)
	}
}

// textField reads a text element into dst, warning when the item already had it.
func (p *parser) textField(seen *uint32, bit uint32, name string, dst *string) error {
	line := p.s.currentLine()
	t, err := p.s.text()
	if err != nil {
		return err
	}
	if *seen&bit != 0 && *dst != t {
		p.warn(line, WarnDuplicateField, "%s given twice in one item (%q, then %q); the later value wins", name, *dst, t)
	}
	*seen |= bit
	*dst = t
	return nil
}

// number parses a price or order figure; ok is false (with a warning) when it is not a number.
func (p *parser) number(line int, name, raw string) (Decimal, bool) {
	d, normalised, err := parseDecimal(raw)
	if err != nil {
		p.warn(line, WarnBadNumber, "%s %q is not a number; dropped", name, raw)
		return Decimal{}, false
	}
	if normalised {
		p.warn(line, WarnNonCanonicalNumber, "%s %q is not in XSD form; read as %s", name, raw, d)
	}
	return d, true
}

// quantity parses a stock figure. 1C formats zero as an empty string, so "" is 0.
func (p *parser) quantity(line int, name, raw string) (Decimal, bool) {
	if raw == "" {
		return Decimal{}, true
	}
	return p.number(line, name, raw)
}

// splitID splits "product#characteristic"; odd reports an ID that does not have that shape.
func splitID(id string) (product, characteristic string, odd bool) {
	product, characteristic, found := strings.Cut(id, "#")
	odd = found && (product == "" || characteristic == "" || strings.Contains(characteristic, "#"))
	return product, characteristic, odd
}

// fnv64a is the 64-bit FNV-1a hash; duplicate detection keeps 8 bytes per ID.
func fnv64a(s string) uint64 {
	const offset64, prime64 = 14695981039346656037, 1099511628211
	h := uint64(offset64)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= prime64
	}
	return h
}
