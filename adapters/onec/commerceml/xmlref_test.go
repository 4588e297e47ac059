package commerceml

// The reader as it was built on encoding/xml, kept as the reference the tokenizer-based
// reader is compared with (differential_test.go). Only its entry point, refRead, is new;
// the rest is the former parser with its types renamed. It shares with the product code
// the helpers that did not change (charsetReader, runGuard, decimals, currencies, IDs).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// refRead is Reader.Read over encoding/xml's Decoder.RawToken.
func refRead(ctx context.Context, r *Reader, name string, src io.Reader, v Visitor) (Summary, error) {
	p := &refParser{r: r, ctx: ctx, file: name, v: v}
	dec := xml.NewDecoder(bufio.NewReaderSize(&runGuard{src: src, max: r.limits.MaxTextBytes}, readBufferBytes))
	dec.Strict = true
	dec.AutoClose = nil
	dec.Entity = nil
	dec.DefaultSpace = ""
	dec.CharsetReader = charsetReader(func(label string) { p.mislabelled = label })
	p.s = newRefScanner(ctx, dec, r.limits)
	p.sum.Files = 1
	err := p.document()
	if err == nil {
		err = p.visitErr
	}
	if err != nil {
		line, _ := dec.InputPos()
		return p.sum, &ParseError{File: name, Line: line, Offset: dec.InputOffset(), Err: err}
	}
	return p.sum, nil
}

// refParser is the state of one Read.
type refParser struct {
	r       *Reader
	ctx     context.Context
	file    string
	v       Visitor
	s       *refScanner
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

// document reads the prolog, the root element and the epilog.
func (p *refParser) document() error {
	for {
		tok, err := p.s.next()
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%w: no root element", ErrMalformed)
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.Trim(t, " \t\r\n\ufeff")) > 0 {
				return p.s.syntaxError("text before the root element")
			}
		case xml.StartElement:
			if t.Name.Local != rootName {
				return fmt.Errorf("%w: <%s>", ErrNotCommerceML, t.Name.Local)
			}
			if err := p.root(t); err != nil {
				return err
			}
			return p.epilog()
		}
	}
}

func (p *refParser) epilog() error {
	for {
		tok, err := p.s.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return p.s.syntaxError("second root element <" + t.Name.Local + ">")
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return p.s.syntaxError("text after the root element")
			}
		}
	}
}

func (p *refParser) root(start xml.StartElement) error {
	p.version, _ = refAttr(start, "ВерсияСхемы")
	p.created, _ = refAttr(start, "ДатаФормирования")
	if p.mislabelled != "" {
		p.warn(1, WarnEncodingMismatch, "encoding %q declared but the content is UTF-8; read as UTF-8", p.mislabelled)
	}
	return p.s.children(func(c xml.StartElement) error {
		switch c.Name.Local {
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
			return p.s.children(func(d xml.StartElement) error {
				if d.Name.Local == "Документ" {
					return p.order(d)
				}
				return p.s.skip()
			})
		}
		return p.s.skip()
	})
}

// each reads the children named local with fn and skips the others.
func (p *refParser) each(local string, fn func(xml.StartElement) error) error {
	return p.s.children(func(c xml.StartElement) error {
		if c.Name.Local == local {
			return fn(c)
		}
		return p.s.skip()
	})
}

// mode reads a СодержитТолькоИзменения value.
func (p *refParser) mode(line int, raw string) Mode {
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
func (p *refParser) flag(line int, name, raw string) bool {
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
func (p *refParser) warn(line int, code WarningCode, format string, args ...any) {
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
func (p *refParser) checkItemID(line int, what, id string) {
	if n := utf8.RuneCountInString(id); n > p.r.limits.MaxItemIDChars {
		p.warn(line, WarnIDTooLong, "%s %q has %d characters, over %d; kept whole", what, id, n, p.r.limits.MaxItemIDChars)
	}
}

// checkRefID warns about another Ид over MaxRefIDChars.
func (p *refParser) checkRefID(line int, what, id string) {
	if n := utf8.RuneCountInString(id); n > p.r.limits.MaxRefIDChars {
		p.warn(line, WarnIDTooLong, "%s %q has %d characters, over %d; kept whole", what, id, n, p.r.limits.MaxRefIDChars)
	}
}

// seen reports whether id was already recorded in set, recording it if not.
func (p *refParser) seen(set *map[uint64]struct{}, line int, id string) bool {
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

// refDeclare remembers a declared ID in one of the reader's maps, within MaxDeclarations.
func refDeclare[V any](p *refParser, m map[string]V, line int, id string, value V) {
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
func (p *refParser) checkWarehouse(line int, id string) {
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
func (p *refParser) textField(seen *uint32, bit uint32, name string, dst *string) error {
	line := p.s.line()
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
func (p *refParser) number(line int, name, raw string) (Decimal, bool) {
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
func (p *refParser) quantity(line int, name, raw string) (Decimal, bool) {
	if raw == "" {
		return Decimal{}, true
	}
	return p.number(line, name, raw)
}

// refScanner walks the token stream of one document. It uses Decoder.RawToken, which skips
// namespace translation (elements are matched by local name anyway) and is faster than
// Token; in exchange it checks itself that end tags match their start tags and that the
// document does not end early.
//
// Every element handler is called with the element's start tag consumed and must
// consume everything up to and including its end tag (text, skip or children do).
type refScanner struct {
	ctx      context.Context
	dec      *xml.Decoder
	maxDepth int
	maxText  int
	open     []xml.Name // elements open at this point, outermost first
	tokens   uint64
	textBuf  []byte
}

func newRefScanner(ctx context.Context, dec *xml.Decoder, limits Limits) *refScanner {
	return &refScanner{
		ctx:      ctx,
		dec:      dec,
		maxDepth: limits.MaxElementDepth,
		maxText:  limits.MaxTextBytes,
		open:     make([]xml.Name, 0, 16),
	}
}

func (s *refScanner) line() int {
	line, _ := s.dec.InputPos()
	return line
}

// syntaxError returns ErrMalformed with the decoder's current line.
func (s *refScanner) syntaxError(msg string) error {
	return fmt.Errorf("%w: %w", ErrMalformed, &xml.SyntaxError{Msg: msg, Line: s.line()})
}

// next returns the next StartElement, EndElement or CharData. It returns io.EOF only
// when no element is open.
func (s *refScanner) next() (xml.Token, error) {
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
func (s *refScanner) skip() error {
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
func (s *refScanner) text() (string, error) {
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
func (s *refScanner) children(fn func(start xml.StartElement) error) error {
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
func refAttr(start xml.StartElement, local string) (string, bool) {
	for _, a := range start.Attr {
		if a.Name.Local == local {
			return a.Value, true
		}
	}
	return "", false
}

// refOfferBuilder collects one Предложение.
type refOfferBuilder struct {
	o         Offer
	seen      uint32
	charID    string         // ИдХарактеристики
	cellIndex map[string]int // warehouse → index in o.Stock.Cells, past cellIndexAbove cells
}

// offer reads one Предложение and visits it.
func (p *refParser) offer(start xml.StartElement) error {
	b := &refOfferBuilder{o: Offer{Line: p.s.line()}}
	if v, ok := refAttr(start, "Статус"); ok {
		b.o.Status = strings.TrimSpace(v)
		b.seen |= bitStatus
	}
	err := p.s.children(func(c xml.StartElement) error {
		switch c.Name.Local {
		case "Ид":
			return p.textField(&b.seen, bitID, "Ид", &b.o.ID)
		case "ИдХарактеристики":
			return p.textField(&b.seen, bitCharacteristic, "ИдХарактеристики", &b.charID)
		case "Штрихкод":
			return p.barcode(&b.o.Barcodes)
		case "Артикул":
			return p.textField(&b.seen, bitArticle, "Артикул", &b.o.Article)
		case "Наименование":
			return p.textField(&b.seen, bitName, "Наименование", &b.o.Name)
		case "Статус":
			return p.textField(&b.seen, bitStatus, "Статус", &b.o.Status)
		case "ПометкаУдаления":
			var raw string
			if err := p.textField(&b.seen, bitDeleted, "ПометкаУдаления", &raw); err != nil {
				return err
			}
			b.o.Deleted = p.flag(p.s.line(), "ПометкаУдаления", raw)
			return nil
		case "БазоваяЕдиница":
			return p.baseUnit(c, &b.seen, &b.o.BaseUnit)
		case "Цены":
			return p.each("Цена", func(pc xml.StartElement) error { return p.price(pc, b) })
		case "Количество":
			return p.total(b, LayoutA)
		case "Склад":
			return p.attrCell(c, b, LayoutB)
		case "Склады":
			if _, ok := refAttr(c, "ИдСклада"); ok {
				return p.attrCell(c, b, LayoutE)
			}
			return p.each("Склад", func(sc xml.StartElement) error { return p.attrCell(sc, b, LayoutE) })
		case "Остатки":
			return p.each("Остаток", func(xml.StartElement) error { return p.rest(b) })
		case "КоличествоНаСкладах":
			return p.each("КоличествоНаСкладе", func(fc xml.StartElement) error { return p.elementCell(fc, b, LayoutF) })
		}
		return p.s.skip()
	})
	if err != nil {
		return err
	}
	return p.finishOffer(b)
}

// finishOffer checks the collected offer and visits it.
func (p *refParser) finishOffer(b *refOfferBuilder) error {
	o := &b.o
	if o.ID == "" {
		p.warn(o.Line, WarnMissingID, "offer without Ид (Артикул %q, Наименование %q); skipped", o.Article, o.Name)
		return p.visitErr
	}
	o.ProductID, o.CharacteristicID, _ = splitID(o.ID)
	if b.charID != "" {
		switch {
		case o.CharacteristicID == "":
			o.ID += "#" + b.charID
			o.CharacteristicID = b.charID
		case o.CharacteristicID != b.charID:
			p.warn(o.Line, WarnOddID, "offer %q has ИдХарактеристики %q that differs from its Ид; the Ид is kept", o.ID, b.charID)
		}
	}
	if _, _, odd := splitID(o.ID); odd {
		p.warn(o.Line, WarnOddID, "offer Ид %q is not \"product\" or \"product#characteristic\"; kept as written", o.ID)
	}
	p.checkItemID(o.Line, "offer Ид", o.ID)
	if p.seen(&p.seenOffers, o.Line, o.ID) {
		p.warn(o.Line, WarnDuplicateItem, "offer %q appears again in this file; the later values win", o.ID)
	}
	if strings.EqualFold(o.Status, "Удален") {
		o.Deleted = true
	}
	st := &o.Stock
	if st.HasTotal && len(st.Cells) > 0 {
		sum := make([]Decimal, len(st.Cells))
		for i, c := range st.Cells {
			sum[i] = c.Qty
		}
		if total := sumDecimals(sum); total.Cmp(st.Total) != 0 {
			p.warn(o.Line, WarnStockMismatch, "offer %q: total Количество %s but its warehouses sum to %s", o.ID, st.Total, total)
		}
	}
	p.sum.Offers++
	if o.Deleted {
		p.sum.Deleted++
	}
	if st.Known() {
		p.sum.StockOffers++
	}
	if st.HasTotal {
		p.sum.StockTotals++
		p.sum.countQty(st.Total)
	}
	p.sum.StockCells += len(st.Cells)
	for _, c := range st.Cells {
		p.sum.countQty(c.Qty)
	}
	p.sum.Prices += len(o.Prices)
	if p.visitErr != nil {
		return p.visitErr
	}
	return p.v.Offer(p.ctx, *o)
}

// barcode appends a non-empty Штрихкод.
func (p *refParser) barcode(dst *[]string) error {
	t, err := p.s.text()
	if err != nil || t == "" {
		return err
	}
	if len(*dst) >= p.r.limits.MaxBarcodesPerItem {
		return limitError("MaxBarcodesPerItem", int64(p.r.limits.MaxBarcodesPerItem))
	}
	*dst = append(*dst, t)
	return nil
}

// baseUnit reads БазоваяЕдиница: the Код attribute (trimmed, 1C pads it) or the text.
func (p *refParser) baseUnit(start xml.StartElement, seen *uint32, dst *string) error {
	line := p.s.line()
	t, err := p.s.text()
	if err != nil {
		return err
	}
	unit := t
	if code, ok := refAttr(start, "Код"); ok && strings.TrimSpace(code) != "" {
		unit = strings.TrimSpace(code)
	}
	if *seen&bitBaseUnit != 0 && *dst != unit {
		p.warn(line, WarnDuplicateField, "БазоваяЕдиница given twice in one item; the later value %q wins", unit)
	}
	*seen |= bitBaseUnit
	*dst = unit
	return nil
}

// total reads a total <Количество> (layout A, or D inside Остаток).
func (p *refParser) total(b *refOfferBuilder, layout StockLayout) error {
	line := p.s.line()
	raw, err := p.s.text()
	if err != nil {
		return err
	}
	q, ok := p.quantity(line, "Количество", raw)
	if !ok {
		return nil
	}
	st := &b.o.Stock
	if st.HasTotal && st.Total.Cmp(q) != 0 {
		p.warn(line, WarnDuplicateField, "offer %q: total quantity given twice (%s, then %s); the later value wins", b.o.ID, st.Total, q)
	}
	st.Total, st.HasTotal = q, true
	st.Layouts |= layout
	return nil
}

// attrCell reads <Склад ИдСклада="…" КоличествоНаСкладе="…"/> (layout B, B') or the same
// attributes on <Склады> (layout E).
func (p *refParser) attrCell(start xml.StartElement, b *refOfferBuilder, layout StockLayout) error {
	line := p.s.line()
	if err := p.s.skip(); err != nil {
		return err
	}
	id, _ := refAttr(start, "ИдСклада")
	raw, hasQty := refAttr(start, "КоличествоНаСкладе")
	if !hasQty {
		p.warn(line, WarnBadNumber, "offer %q: <%s ИдСклада=%q> without КоличествоНаСкладе; dropped", b.o.ID, start.Name.Local, id)
		return nil
	}
	return p.cell(line, b, strings.TrimSpace(id), strings.TrimSpace(raw), layout)
}

// rest reads one Остаток: Склад{Ид, Количество} (layout C) or a bare Количество (layout D).
func (p *refParser) rest(b *refOfferBuilder) error {
	return p.s.children(func(c xml.StartElement) error {
		switch c.Name.Local {
		case "Склад":
			return p.elementCell(c, b, LayoutC)
		case "Количество":
			return p.total(b, LayoutD)
		}
		return p.s.skip()
	})
}

// elementCell reads a stock cell given as child elements, Склад{Ид, Количество} (layout
// C) or КоличествоНаСкладе{ИдСклада|Ид, Количество} (layout F). Attributes ИдСклада and
// КоличествоНаСкладе on the element, if any, are read as well.
func (p *refParser) elementCell(start xml.StartElement, b *refOfferBuilder, layout StockLayout) error {
	line := p.s.line()
	id, _ := refAttr(start, "ИдСклада")
	raw, hasQty := refAttr(start, "КоличествоНаСкладе")
	err := p.s.children(func(c xml.StartElement) error {
		var err error
		switch c.Name.Local {
		case "Ид", "ИдСклада":
			id, err = p.s.text()
		case "Количество", "КоличествоНаСкладе":
			raw, err = p.s.text()
			hasQty = true
		default:
			err = p.s.skip()
		}
		return err
	})
	if err != nil {
		return err
	}
	if !hasQty {
		p.warn(line, WarnBadNumber, "offer %q: warehouse %q without Количество; dropped", b.o.ID, id)
		return nil
	}
	return p.cell(line, b, strings.TrimSpace(id), strings.TrimSpace(raw), layout)
}

// cell adds one warehouse figure to the offer; a second figure for the same warehouse
// replaces the first with a warning.
func (p *refParser) cell(line int, b *refOfferBuilder, warehouseID, raw string, layout StockLayout) error {
	if warehouseID == "" {
		p.warn(line, WarnMissingID, "offer %q: stock figure without a warehouse Ид; dropped", b.o.ID)
		return nil
	}
	q, ok := p.quantity(line, "КоличествоНаСкладе", raw)
	if !ok {
		return nil
	}
	st := &b.o.Stock
	st.Layouts |= layout
	if i, found := b.findCell(warehouseID); found {
		if st.Cells[i].Qty.Cmp(q) != 0 {
			p.warn(line, WarnDuplicateField, "offer %q: warehouse %q given twice (%s, then %s); the later value wins", b.o.ID, warehouseID, st.Cells[i].Qty, q)
		}
		st.Cells[i].Qty = q
		return nil
	}
	if len(st.Cells) >= p.r.limits.MaxStockCellsPerOffer {
		return limitError("MaxStockCellsPerOffer", int64(p.r.limits.MaxStockCellsPerOffer))
	}
	p.checkRefID(line, "warehouse Ид", warehouseID)
	p.checkWarehouse(line, warehouseID)
	if st.Cells == nil {
		st.Cells = make([]StockCell, 0, initialCells)
	}
	st.Cells = append(st.Cells, StockCell{WarehouseID: warehouseID, Qty: q})
	if b.cellIndex != nil {
		b.cellIndex[warehouseID] = len(st.Cells) - 1
	}
	return nil
}

// findCell returns the index of the warehouse's cell, indexing the cells once there are many.
func (b *refOfferBuilder) findCell(warehouseID string) (int, bool) {
	cells := b.o.Stock.Cells
	if b.cellIndex == nil && len(cells) > cellIndexAbove {
		b.cellIndex = make(map[string]int, 2*len(cells))
		for i, c := range cells {
			b.cellIndex[c.WarehouseID] = i
		}
	}
	if b.cellIndex != nil {
		i, ok := b.cellIndex[warehouseID]
		return i, ok
	}
	for i, c := range cells {
		if c.WarehouseID == warehouseID {
			return i, true
		}
	}
	return 0, false
}

// price reads one Цена and adds it to the offer.
func (p *refParser) price(start xml.StartElement, b *refOfferBuilder) error {
	line := p.s.line()
	var typeID, value, currency, factor, minQty string
	var pr Price
	hasValue := false
	err := p.s.children(func(c xml.StartElement) error {
		var err error
		switch c.Name.Local {
		case "ИдТипаЦены":
			typeID, err = p.s.text()
		case "ЦенаЗаЕдиницу":
			value, err = p.s.text()
			hasValue = true
		case "Валюта":
			currency, err = p.s.text()
		case "Единица":
			pr.Unit, err = p.s.text()
		case "Коэффициент":
			factor, err = p.s.text()
		case "МинКоличество":
			minQty, err = p.s.text()
		case "Налог":
			pr.Tax, err = p.tax()
		default:
			err = p.s.skip()
		}
		return err
	})
	if err != nil {
		return err
	}
	if typeID == "" {
		p.warn(line, WarnMissingID, "offer %q: Цена without ИдТипаЦены; dropped", b.o.ID)
		return nil
	}
	if !hasValue || value == "" {
		p.warn(line, WarnBadNumber, "offer %q: price type %q without ЦенаЗаЕдиницу; dropped", b.o.ID, typeID)
		return nil
	}
	var ok bool
	pr.PriceTypeID = typeID
	if pr.Value, ok = p.number(line, "ЦенаЗаЕдиницу", value); !ok {
		return nil
	}
	pr.Factor = DecimalFromInt(1)
	if factor != "" {
		if pr.Factor, ok = p.number(line, "Коэффициент", factor); !ok {
			return nil
		}
		if pr.Factor.Cmp(DecimalFromInt(1)) != 0 {
			p.warn(line, WarnPriceFactor, "offer %q: price type %q is per %s units (Коэффициент); not normalised", b.o.ID, typeID, pr.Factor)
		}
	}
	if minQty != "" {
		if pr.MinQty, ok = p.number(line, "МинКоличество", minQty); !ok {
			return nil
		}
	}
	p.priceCurrency(line, b.o.ID, currency, &pr)
	return p.addPrice(line, b, pr)
}

// priceCurrency sets the price's currency, from its Валюта or its declared price type,
// and its tax from the price type when the price has none.
func (p *refParser) priceCurrency(line int, offerID, raw string, pr *Price) {
	declared, isDeclared := p.r.priceTypes[pr.PriceTypeID]
	if pr.Tax == nil && isDeclared {
		pr.Tax = declared.Tax
	}
	if raw == "" {
		if isDeclared && declared.Currency != "" {
			pr.Currency = declared.Currency
			return
		}
		p.warn(line, WarnCurrency, "offer %q: price type %q has no Валюта and no declared currency", offerID, pr.PriceTypeID)
		return
	}
	pr.CurrencyRaw = raw
	iso, known := normalizeCurrency(raw)
	pr.Currency = iso
	if !known {
		p.warn(line, WarnCurrency, "offer %q: currency %q not recognised; kept as written", offerID, raw)
	}
}

// addPrice adds or replaces the price of its type.
func (p *refParser) addPrice(line int, b *refOfferBuilder, pr Price) error {
	prices := b.o.Prices
	for i := range prices {
		if prices[i].PriceTypeID == pr.PriceTypeID {
			p.warn(line, WarnDuplicateField, "offer %q: price type %q given twice; the later price %s wins", b.o.ID, pr.PriceTypeID, pr.Value)
			prices[i] = pr
			return nil
		}
	}
	if len(prices) >= p.r.limits.MaxPricesPerOffer {
		return limitError("MaxPricesPerOffer", int64(p.r.limits.MaxPricesPerOffer))
	}
	b.o.Prices = append(prices, pr)
	return nil
}

// tax reads a Налог{Наименование, УчтеноВСумме}.
func (p *refParser) tax() (*Tax, error) {
	t := &Tax{}
	err := p.s.children(func(c xml.StartElement) error {
		switch c.Name.Local {
		case "Наименование":
			name, err := p.s.text()
			t.Name = name
			return err
		case "УчтеноВСумме":
			line := p.s.line()
			raw, err := p.s.text()
			t.IncludedInSum = p.flag(line, "УчтеноВСумме", raw)
			return err
		}
		return p.s.skip()
	})
	return t, err
}

// product reads one Каталог/Товары/Товар and visits it.
func (p *refParser) product(start xml.StartElement) error {
	pr := Product{Line: p.s.line()}
	var seen uint32
	if v, ok := refAttr(start, "Статус"); ok {
		pr.Status = strings.TrimSpace(v)
		seen |= bitStatus
	}
	err := p.s.children(func(c xml.StartElement) error {
		switch c.Name.Local {
		case "Ид":
			return p.textField(&seen, bitID, "Ид", &pr.ID)
		case "Штрихкод":
			return p.barcode(&pr.Barcodes)
		case "Артикул":
			return p.textField(&seen, bitArticle, "Артикул", &pr.Article)
		case "Наименование":
			return p.textField(&seen, bitName, "Наименование", &pr.Name)
		case "Статус":
			return p.textField(&seen, bitStatus, "Статус", &pr.Status)
		case "ПометкаУдаления":
			var raw string
			if err := p.textField(&seen, bitDeleted, "ПометкаУдаления", &raw); err != nil {
				return err
			}
			pr.Deleted = p.flag(p.s.line(), "ПометкаУдаления", raw)
			return nil
		case "БазоваяЕдиница":
			return p.baseUnit(c, &seen, &pr.BaseUnit)
		case "ЗначенияРеквизитов":
			return p.attributes(func(a Attribute) error {
				if a.Name == "ТипНоменклатуры" {
					pr.ItemType = a.Value
				}
				return nil
			})
		}
		return p.s.skip()
	})
	if err != nil {
		return err
	}
	if pr.ID == "" {
		p.warn(pr.Line, WarnMissingID, "product without Ид (Артикул %q, Наименование %q); skipped", pr.Article, pr.Name)
		return p.visitErr
	}
	pr.ProductID, pr.CharacteristicID, _ = splitID(pr.ID)
	p.checkItemID(pr.Line, "product Ид", pr.ID)
	if p.seen(&p.seenProducts, pr.Line, pr.ID) {
		p.warn(pr.Line, WarnDuplicateItem, "product %q appears again in this file; the later values win", pr.ID)
	}
	pr.IsService = strings.EqualFold(pr.ItemType, itemTypeService)
	if strings.EqualFold(pr.Status, "Удален") {
		pr.Deleted = true
	}
	p.sum.Products++
	if pr.Deleted {
		p.sum.Deleted++
	}
	if p.visitErr != nil {
		return p.visitErr
	}
	return p.v.Product(p.ctx, pr)
}

// attributes reads ЗначенияРеквизитов/ЗначениеРеквизита{Наименование, Значение}.
func (p *refParser) attributes(fn func(Attribute) error) error {
	return p.each("ЗначениеРеквизита", func(xml.StartElement) error {
		var a Attribute
		err := p.s.children(func(c xml.StartElement) error {
			var err error
			switch c.Name.Local {
			case "Наименование":
				a.Name, err = p.s.text()
			case "Значение":
				a.Value, err = p.s.text()
			default:
				err = p.s.skip()
			}
			return err
		})
		if err != nil {
			return err
		}
		return fn(a)
	})
}

// warehouse reads one declared Склады/Склад and visits it.
func (p *refParser) warehouse(xml.StartElement) error {
	w := Warehouse{Line: p.s.line()}
	var seen uint32
	err := p.s.children(func(c xml.StartElement) error {
		switch c.Name.Local {
		case "Ид":
			return p.textField(&seen, bitID, "Ид", &w.ID)
		case "Наименование":
			return p.textField(&seen, bitName, "Наименование", &w.Name)
		case "ПометкаУдаления":
			var raw string
			if err := p.textField(&seen, bitDeleted, "ПометкаУдаления", &raw); err != nil {
				return err
			}
			w.Deleted = p.flag(p.s.line(), "ПометкаУдаления", raw)
			return nil
		}
		return p.s.skip()
	})
	if err != nil {
		return err
	}
	if w.ID == "" {
		p.warn(w.Line, WarnMissingID, "warehouse %q without Ид; skipped", w.Name)
		return p.visitErr
	}
	p.checkRefID(w.Line, "warehouse Ид", w.ID)
	refDeclare(p, p.r.warehouses, w.Line, w.ID, struct{}{})
	p.sum.Warehouses++
	if p.visitErr != nil {
		return p.visitErr
	}
	return p.v.Warehouse(p.ctx, w)
}

// priceType reads one declared ТипыЦен/ТипЦены and visits it.
func (p *refParser) priceType(xml.StartElement) error {
	t := PriceType{Line: p.s.line()}
	var seen uint32
	err := p.s.children(func(c xml.StartElement) error {
		switch c.Name.Local {
		case "Ид":
			return p.textField(&seen, bitID, "Ид", &t.ID)
		case "Наименование":
			return p.textField(&seen, bitName, "Наименование", &t.Name)
		case "Валюта":
			var err error
			t.CurrencyRaw, err = p.s.text()
			return err
		case "Налог":
			var err error
			t.Tax, err = p.tax()
			return err
		case "ПометкаУдаления":
			var raw string
			if err := p.textField(&seen, bitDeleted, "ПометкаУдаления", &raw); err != nil {
				return err
			}
			t.Deleted = p.flag(p.s.line(), "ПометкаУдаления", raw)
			return nil
		}
		return p.s.skip()
	})
	if err != nil {
		return err
	}
	if t.ID == "" {
		p.warn(t.Line, WarnMissingID, "price type %q without Ид; skipped", t.Name)
		return p.visitErr
	}
	if t.CurrencyRaw != "" {
		var known bool
		if t.Currency, known = normalizeCurrency(t.CurrencyRaw); !known {
			p.warn(t.Line, WarnCurrency, "price type %q: currency %q not recognised; kept as written", t.ID, t.CurrencyRaw)
		}
	}
	p.checkRefID(t.Line, "price type Ид", t.ID)
	refDeclare(p, p.r.priceTypes, t.Line, t.ID, t)
	p.sum.PriceTypes++
	if p.visitErr != nil {
		return p.visitErr
	}
	return p.v.PriceType(p.ctx, t)
}

// refPkgReader reads one Классификатор, Каталог, ПакетПредложений or
// ИзмененияПакетаПредложений. Its header is visited before the first collection
// (ТипыЦен, Склады, Товары, Предложения) or, failing that, at the end of the package;
// a header field after that point is ignored with a warning.
type refPkgReader struct {
	p       *refParser
	h       Package
	emitted bool
}

func (p *refParser) pkg(start xml.StartElement, kind PackageKind) error {
	r := &refPkgReader{p: p, h: Package{File: p.file, Line: p.s.line(), Kind: kind, SchemaVersion: p.version, GeneratedAt: p.created}}
	if v, ok := refAttr(start, "СодержитТолькоИзменения"); ok {
		r.h.Mode = p.mode(r.h.Line, v)
	}
	if err := p.s.children(r.child); err != nil {
		return err
	}
	return r.emit()
}

func (r *refPkgReader) child(c xml.StartElement) error {
	p, h := r.p, &r.h
	switch c.Name.Local {
	case "Ид":
		return r.header("Ид", &h.ID)
	case "Наименование":
		return r.header("Наименование", &h.Name)
	case "ИдКаталога":
		return r.header("ИдКаталога", &h.CatalogID)
	case "ИдКлассификатора":
		return r.header("ИдКлассификатора", &h.ClassifierID)
	case "СодержитТолькоИзменения":
		var raw string
		if err := r.header("СодержитТолькоИзменения", &raw); err != nil || r.emitted {
			return err
		}
		h.Mode = p.mode(p.s.line(), raw)
		return nil
	case "ТипыЦен":
		return r.collection("ТипЦены", p.priceType)
	case "Склады":
		return r.collection("Склад", p.warehouse)
	case "Предложения":
		if h.Kind == KindOffers || h.Kind == KindOfferChanges {
			return r.collection("Предложение", p.offer)
		}
	case "Товары":
		if h.Kind == KindCatalog {
			return r.collection("Товар", p.product)
		}
	}
	return p.s.skip()
}

// collection visits the header, then reads the children named local with fn.
func (r *refPkgReader) collection(local string, fn func(xml.StartElement) error) error {
	if err := r.emit(); err != nil {
		return err
	}
	return r.p.each(local, fn)
}

// header reads a header field into dst, or warns when the header was already visited.
func (r *refPkgReader) header(name string, dst *string) error {
	line := r.p.s.line()
	t, err := r.p.s.text()
	if err != nil {
		return err
	}
	if r.emitted {
		r.p.warn(line, WarnLateHeader, "%s %q after the package's first item; ignored", name, t)
		return nil
	}
	*dst = t
	return nil
}

// emit visits the header once.
func (r *refPkgReader) emit() error {
	if r.emitted {
		return nil
	}
	r.emitted = true
	p, h := r.p, &r.h
	if h.Kind == KindOfferChanges && h.Mode == ModeUnspecified {
		h.Mode = ModeChangesOnly
	}
	if h.Kind == KindCatalog && h.CatalogID == "" {
		h.CatalogID = h.ID
	}
	p.checkRefID(h.Line, "package Ид", h.ID)
	p.sum.Packages++
	if p.visitErr != nil {
		return p.visitErr
	}
	return p.v.Package(p.ctx, *h)
}

// refOrderBuilder collects one Документ; numbers are parsed at the end.
type refOrderBuilder struct {
	o         Order
	rate, sum string
	buyers    []Counterparty
}

// order reads one Документ and visits it when it is a "Заказ товара".
func (p *refParser) order(start xml.StartElement) error {
	b := &refOrderBuilder{o: Order{Line: p.s.line()}}
	// The old attribute style: <Документ Ид="20678" … Сумма="23 000">.
	for _, a := range start.Attr {
		p.orderField(b, a.Name.Local, strings.TrimSpace(a.Value))
	}
	err := p.s.children(func(c xml.StartElement) error {
		switch name := c.Name.Local; name {
		case "Контрагенты":
			return p.each("Контрагент", func(xml.StartElement) error { return p.counterparty(b) })
		case "Склады":
			return p.each("Склад", func(xml.StartElement) error { return p.orderWarehouse(b) })
		case "Товары":
			return p.each("Товар", func(xml.StartElement) error { return p.orderLine(b) })
		case "ЗначенияРеквизитов":
			return p.attributes(func(a Attribute) error {
				if len(b.o.Attributes) >= p.r.limits.MaxAttributesPerOrder {
					return limitError("MaxAttributesPerOrder", int64(p.r.limits.MaxAttributesPerOrder))
				}
				b.o.Attributes = append(b.o.Attributes, a)
				return nil
			})
		case "Ид", "Номер", "Номер1С", "Дата", "Время", "ХозОперация", "Роль", "Валюта", "Курс", "Сумма",
			"Комментарий", "ПометкаУдаления":
			t, err := p.s.text()
			if err != nil {
				return err
			}
			p.orderField(b, name, t)
			return nil
		}
		return p.s.skip()
	})
	if err != nil {
		return err
	}
	return p.finishOrder(b)
}

// orderField sets one scalar field of the order from an element or an attribute.
func (p *refParser) orderField(b *refOrderBuilder, name, value string) {
	o := &b.o
	switch name {
	case "Ид":
		o.ID = value
	case "Номер":
		o.Number = value
	case "Номер1С":
		o.Number1C = value
	case "Дата":
		o.Date = value
	case "Время":
		o.Time = value
	case "ХозОперация":
		o.Operation = value
	case "Роль":
		o.Role = value
	case "Валюта":
		o.Currency = value
	case "Курс":
		b.rate = value
	case "Сумма":
		b.sum = value
	case "Комментарий":
		o.Comment = value
	case "ПометкаУдаления":
		o.Deleted = p.flag(p.s.line(), "ПометкаУдаления", value)
	}
}

func (p *refParser) finishOrder(b *refOrderBuilder) error {
	o := &b.o
	if o.Operation != OrderOperation {
		p.warn(o.Line, WarnSkippedDocument, "Документ %q with ХозОперация %q is not an order; skipped", o.ID, o.Operation)
		return p.visitErr
	}
	if o.ID == "" {
		p.warn(o.Line, WarnMissingID, "order without Ид (Номер %q); skipped", o.Number)
		return p.visitErr
	}
	if b.rate != "" {
		o.Rate, _ = p.number(o.Line, "Курс", b.rate)
	}
	if b.sum != "" {
		o.Sum, _ = p.number(o.Line, "Сумма", b.sum)
	}
	for _, c := range b.buyers {
		if strings.EqualFold(c.Role, "Покупатель") {
			o.Counterparty = c
			break
		}
	}
	if o.Counterparty == (Counterparty{}) && len(b.buyers) > 0 {
		o.Counterparty = b.buyers[0]
	}
	p.sum.Orders++
	p.sum.OrderLines += len(o.Lines)
	if p.visitErr != nil {
		return p.visitErr
	}
	return p.v.Order(p.ctx, *o)
}

func (p *refParser) counterparty(b *refOrderBuilder) error {
	var c Counterparty
	err := p.s.children(func(e xml.StartElement) error {
		var err error
		switch e.Name.Local {
		case "Ид":
			c.ID, err = p.s.text()
		case "Наименование":
			c.Name, err = p.s.text()
		case "ПолноеНаименование":
			c.FullName, err = p.s.text()
		case "Роль":
			c.Role, err = p.s.text()
		default:
			err = p.s.skip()
		}
		return err
	})
	if err == nil && len(b.buyers) < maxCounterparties {
		b.buyers = append(b.buyers, c)
	}
	return err
}

func (p *refParser) orderWarehouse(b *refOrderBuilder) error {
	return p.s.children(func(e xml.StartElement) error {
		if e.Name.Local != "Ид" {
			return p.s.skip()
		}
		id, err := p.s.text()
		if b.o.WarehouseID == "" {
			b.o.WarehouseID = id
		}
		return err
	})
}

// orderLine reads one Товары/Товар of an order.
func (p *refParser) orderLine(b *refOrderBuilder) error {
	line := p.s.line()
	var l OrderLine
	var qty, price, sum string
	err := p.s.children(func(e xml.StartElement) error {
		var err error
		switch e.Name.Local {
		case "Ид":
			l.ProductID, err = p.s.text()
		case "ИдКаталога":
			l.CatalogID, err = p.s.text()
		case "Наименование":
			l.Name, err = p.s.text()
		case "БазоваяЕдиница":
			code, _ := refAttr(e, "Код")
			l.UnitCode = strings.TrimSpace(code)
			l.UnitName, err = p.s.text()
		case "Единица":
			err = p.orderUnit(&l)
		case "ЦенаЗаЕдиницу", "Цена":
			price, err = p.s.text()
		case "Количество":
			qty, err = p.s.text()
		case "Сумма":
			sum, err = p.s.text()
		case "ЗначенияРеквизитов":
			err = p.attributes(func(a Attribute) error {
				if a.Name == "ТипНоменклатуры" {
					l.ItemType = a.Value
				}
				return nil
			})
		default:
			err = p.s.skip()
		}
		return err
	})
	if err != nil {
		return err
	}
	if qty != "" {
		l.Qty, _ = p.number(line, "Количество", qty)
	}
	if price != "" {
		l.Price, _ = p.number(line, "Цена", price)
	}
	if sum != "" {
		l.Sum, _ = p.number(line, "Сумма", sum)
	}
	l.IsService = l.ProductID == DeliveryLineID || strings.EqualFold(l.ItemType, itemTypeService)
	if len(b.o.Lines) >= p.r.limits.MaxLinesPerOrder {
		return limitError("MaxLinesPerOrder", int64(p.r.limits.MaxLinesPerOrder))
	}
	b.o.Lines = append(b.o.Lines, l)
	return nil
}

// orderUnit reads the 3.x line unit Единица{Ид, НаименованиеКраткое, Код}.
func (p *refParser) orderUnit(l *OrderLine) error {
	var id, code string
	err := p.s.children(func(e xml.StartElement) error {
		var err error
		switch e.Name.Local {
		case "Ид":
			id, err = p.s.text()
		case "Код":
			code, err = p.s.text()
		case "НаименованиеКраткое":
			l.UnitName, err = p.s.text()
		default:
			err = p.s.skip()
		}
		return err
	})
	if code == "" {
		code = id
	}
	l.UnitCode = code
	return err
}
