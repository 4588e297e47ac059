package commerceml

import (
	"strings"
)

// itemTypeService is the ТипНоменклатуры of services: they hold no stock.
const itemTypeService = "Услуга"

// product reads one Каталог/Товары/Товар and visits it.
func (p *parser) product(start *element) error {
	pr := Product{Line: p.s.currentLine()}
	var seen uint32
	if v, ok := start.attr("Статус"); ok {
		pr.Status = strings.TrimSpace(v)
		seen |= bitStatus
	}
	err := p.s.children(func(c *element) error {
		switch string(c.name()) {
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
			pr.Deleted = p.flag(p.s.currentLine(), "ПометкаУдаления", raw)
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
func (p *parser) attributes(fn func(Attribute) error) error {
	return p.each("ЗначениеРеквизита", func(*element) error {
		var a Attribute
		err := p.s.children(func(c *element) error {
			var err error
			switch string(c.name()) {
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
func (p *parser) warehouse(*element) error {
	w := Warehouse{Line: p.s.currentLine()}
	var seen uint32
	err := p.s.children(func(c *element) error {
		switch string(c.name()) {
		case "Ид":
			return p.textField(&seen, bitID, "Ид", &w.ID)
		case "Наименование":
			return p.textField(&seen, bitName, "Наименование", &w.Name)
		case "ПометкаУдаления":
			var raw string
			if err := p.textField(&seen, bitDeleted, "ПометкаУдаления", &raw); err != nil {
				return err
			}
			w.Deleted = p.flag(p.s.currentLine(), "ПометкаУдаления", raw)
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
	declare(p, p.r.warehouses, w.Line, w.ID, struct{}{})
	p.sum.Warehouses++
	if p.visitErr != nil {
		return p.visitErr
	}
	return p.v.Warehouse(p.ctx, w)
}

// priceType reads one declared ТипыЦен/ТипЦены and visits it.
func (p *parser) priceType(*element) error {
	t := PriceType{Line: p.s.currentLine()}
	var seen uint32
	err := p.s.children(func(c *element) error {
		switch string(c.name()) {
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
			t.Deleted = p.flag(p.s.currentLine(), "ПометкаУдаления", raw)
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
	declare(p, p.r.priceTypes, t.Line, t.ID, t)
	p.sum.PriceTypes++
	if p.visitErr != nil {
		return p.visitErr
	}
	return p.v.PriceType(p.ctx, t)
}
