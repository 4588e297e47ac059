package commerceml

import (
	"strings"
)

// orderBuilder collects one Документ; numbers are parsed at the end.
type orderBuilder struct {
	o         Order
	rate, sum string
	buyers    []Counterparty
}

// order reads one Документ and visits it when it is a "Заказ товара".
func (p *parser) order(start *element) error {
	b := &orderBuilder{o: Order{Line: p.s.currentLine()}}
	// The old attribute style: <Документ Ид="20678" … Сумма="23 000">.
	for i := 0; i < start.numAttrs(); i++ {
		local, value := start.attrAt(i)
		p.orderField(b, local, strings.TrimSpace(value))
	}
	err := p.s.children(func(c *element) error {
		switch name := c.Local(); name {
		case "Контрагенты":
			return p.each("Контрагент", func(*element) error { return p.counterparty(b) })
		case "Склады":
			return p.each("Склад", func(*element) error { return p.orderWarehouse(b) })
		case "Товары":
			return p.each("Товар", func(*element) error { return p.orderLine(b) })
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
func (p *parser) orderField(b *orderBuilder, name, value string) {
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
		o.Deleted = p.flag(p.s.currentLine(), "ПометкаУдаления", value)
	}
}

func (p *parser) finishOrder(b *orderBuilder) error {
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

// maxCounterparties is how many Контрагент one order keeps while choosing the buyer.
const maxCounterparties = 16

func (p *parser) counterparty(b *orderBuilder) error {
	var c Counterparty
	err := p.s.children(func(e *element) error {
		var err error
		switch string(e.name()) {
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

func (p *parser) orderWarehouse(b *orderBuilder) error {
	return p.s.children(func(e *element) error {
		if string(e.name()) != "Ид" {
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
func (p *parser) orderLine(b *orderBuilder) error {
	line := p.s.currentLine()
	var l OrderLine
	var qty, price, sum string
	err := p.s.children(func(e *element) error {
		var err error
		switch string(e.name()) {
		case "Ид":
			l.ProductID, err = p.s.text()
		case "ИдКаталога":
			l.CatalogID, err = p.s.text()
		case "Наименование":
			l.Name, err = p.s.text()
		case "БазоваяЕдиница":
			code, _ := e.attr("Код")
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
func (p *parser) orderUnit(l *OrderLine) error {
	var id, code string
	err := p.s.children(func(e *element) error {
		var err error
		switch string(e.name()) {
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
