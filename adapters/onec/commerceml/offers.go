package commerceml

import (
	"strings"
)

// Field bits for "given twice in one item" warnings.
const (
	bitID uint32 = 1 << iota
	bitCharacteristic
	bitArticle
	bitName
	bitStatus
	bitDeleted
	bitBaseUnit
)

// cellIndexAbove is the number of stock cells above which an offer indexes its cells
// by warehouse instead of scanning them.
const cellIndexAbove = 16

// initialCells is the capacity of an offer's first stock cells (real offers carry 1–12).
const initialCells = 4

// offerBuilder collects one Предложение.
type offerBuilder struct {
	o         Offer
	seen      uint32
	charID    string         // ИдХарактеристики
	cellIndex map[string]int // warehouse → index in o.Stock.Cells, past cellIndexAbove cells
}

// offer reads one Предложение and visits it.
func (p *parser) offer(start *element) error {
	b := &offerBuilder{o: Offer{Line: p.s.currentLine()}}
	if v, ok := start.attr("Статус"); ok {
		b.o.Status = strings.TrimSpace(v)
		b.seen |= bitStatus
	}
	err := p.s.children(func(c *element) error {
		switch string(c.name()) {
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
			b.o.Deleted = p.flag(p.s.currentLine(), "ПометкаУдаления", raw)
			return nil
		case "БазоваяЕдиница":
			return p.baseUnit(c, &b.seen, &b.o.BaseUnit)
		case "Цены":
			return p.each("Цена", func(pc *element) error { return p.price(pc, b) })
		case "Количество":
			return p.total(b, LayoutA)
		case "Склад":
			return p.attrCell(c, b, LayoutB)
		case "Склады":
			if _, ok := c.attr("ИдСклада"); ok {
				return p.attrCell(c, b, LayoutE)
			}
			return p.each("Склад", func(sc *element) error { return p.attrCell(sc, b, LayoutE) })
		case "Остатки":
			return p.each("Остаток", func(*element) error { return p.rest(b) })
		case "КоличествоНаСкладах":
			return p.each("КоличествоНаСкладе", func(fc *element) error { return p.elementCell(fc, b, LayoutF) })
		}
		return p.s.skip()
	})
	if err != nil {
		return err
	}
	return p.finishOffer(b)
}

// finishOffer checks the collected offer and visits it.
func (p *parser) finishOffer(b *offerBuilder) error {
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
func (p *parser) barcode(dst *[]string) error {
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
func (p *parser) baseUnit(start *element, seen *uint32, dst *string) error {
	line := p.s.currentLine()
	code, hasCode := start.attr("Код")
	t, err := p.s.text()
	if err != nil {
		return err
	}
	unit := t
	if hasCode && strings.TrimSpace(code) != "" {
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
func (p *parser) total(b *offerBuilder, layout StockLayout) error {
	line := p.s.currentLine()
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
func (p *parser) attrCell(start *element, b *offerBuilder, layout StockLayout) error {
	line := p.s.currentLine()
	id, _ := start.attr("ИдСклада")
	raw, hasQty := start.attr("КоличествоНаСкладе")
	var tagName string
	if !hasQty {
		tagName = start.Local()
	}
	if err := p.s.skip(); err != nil {
		return err
	}
	if !hasQty {
		p.warn(line, WarnBadNumber, "offer %q: <%s ИдСклада=%q> without КоличествоНаСкладе; dropped", b.o.ID, tagName, id)
		return nil
	}
	return p.cell(line, b, strings.TrimSpace(id), strings.TrimSpace(raw), layout)
}

// rest reads one Остаток: Склад{Ид, Количество} (layout C) or a bare Количество (layout D).
func (p *parser) rest(b *offerBuilder) error {
	return p.s.children(func(c *element) error {
		switch string(c.name()) {
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
func (p *parser) elementCell(start *element, b *offerBuilder, layout StockLayout) error {
	line := p.s.currentLine()
	id, _ := start.attr("ИдСклада")
	raw, hasQty := start.attr("КоличествоНаСкладе")
	err := p.s.children(func(c *element) error {
		var err error
		switch string(c.name()) {
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
func (p *parser) cell(line int, b *offerBuilder, warehouseID, raw string, layout StockLayout) error {
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
func (b *offerBuilder) findCell(warehouseID string) (int, bool) {
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
func (p *parser) price(start *element, b *offerBuilder) error {
	line := p.s.currentLine()
	var typeID, value, currency, factor, minQty string
	var pr Price
	hasValue := false
	err := p.s.children(func(c *element) error {
		var err error
		switch string(c.name()) {
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
func (p *parser) priceCurrency(line int, offerID, raw string, pr *Price) {
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
func (p *parser) addPrice(line int, b *offerBuilder, pr Price) error {
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
func (p *parser) tax() (*Tax, error) {
	t := &Tax{}
	err := p.s.children(func(c *element) error {
		switch string(c.name()) {
		case "Наименование":
			name, err := p.s.text()
			t.Name = name
			return err
		case "УчтеноВСумме":
			line := p.s.currentLine()
			raw, err := p.s.text()
			t.IncludedInSum = p.flag(line, "УчтеноВСумме", raw)
			return err
		}
		return p.s.skip()
	})
	return t, err
}

// normalizeCurrency maps the currency spellings 1C uses to ISO 4217 codes; known is
// false when the text is not recognised (it is then returned trimmed).
func normalizeCurrency(raw string) (iso string, known bool) {
	s := strings.TrimSpace(raw)
	switch strings.ToLower(strings.TrimSuffix(s, ".")) {
	case "руб", "рубль", "рублей", "р", "rub", "rur", "643":
		return "RUB", true
	case "грн", "гривна", "uah", "980":
		return "UAH", true
	case "usd", "$", "840":
		return "USD", true
	case "eur", "€", "978":
		return "EUR", true
	case "byn", "933", "бел. руб", "бел.руб", "бел руб":
		return "BYN", true
	case "byr", "974":
		return "BYR", true
	case "kzt", "тенге", "тг", "398":
		return "KZT", true
	}
	if len(s) == 3 && isASCIILetters(s) {
		return strings.ToUpper(s), true
	}
	return s, false
}

func isASCIILetters(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}
