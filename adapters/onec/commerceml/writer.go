package commerceml

import (
	"encoding/xml"
	"fmt"
	"io"
	"time"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/transform"
)

// Encoding is the character encoding of a written document.
type Encoding int

const (
	// EncodingUTF8 writes UTF-8 (what current 1C versions expect by default).
	EncodingUTF8 Encoding = iota + 1
	// EncodingWindows1251 writes windows-1251 (old 1C versions; 1С-Битрикс's own output).
	// Characters windows-1251 lacks are written as numeric character references.
	EncodingWindows1251
)

// WriteOptions control WriteOrders. Encoding, SchemaVersion and GeneratedAt are required.
type WriteOptions struct {
	Encoding      Encoding  // EncodingUTF8 or EncodingWindows1251
	SchemaVersion string    // root ВерсияСхемы, e.g. "2.05" or "3.1"
	GeneratedAt   time.Time // root ДатаФормирования, written as local wall time "2006-01-02T15:04:05"
	// Container wraps every Документ in a <Контейнер>, as the 1С-Битрикс module ≥ 6.5
	// and CommerceML 3.x expect.
	Container bool
	// Namespace is the root's default xmlns (e.g. "urn:1C.ru:commerceml_3"); empty for none.
	Namespace string
	// ByteOrderMark starts a UTF-8 document with EF BB BF, as 1C itself writes.
	ByteOrderMark bool
}

// dateTimeLayout is the ДатаФормирования layout (ДФ=yyyy-MM-ddTHH:mm:ss, no zone).
const dateTimeLayout = "2006-01-02T15:04:05"

// Defaults of fields that an order may leave empty.
const (
	sellerRole = "Продавец"
	buyerRole  = "Покупатель"
)

// WriteOrders writes a CommerceML document with one "Заказ товара" Документ per order,
// the answer to 1C's type=sale&mode=query. Per order it requires ID, Number, Date,
// Currency and at least one line with ProductID; Role defaults to "Продавец", the
// counterparty's Role to "Покупатель" and a zero Rate to 1. Lines carry
// ЦенаЗаЕдиницу, Количество and Сумма as exact decimals with a '.' separator.
func WriteOrders(w io.Writer, orders []Order, opts WriteOptions) error {
	encodingLabel, err := checkWriteOptions(opts)
	if err != nil {
		return err
	}
	for i := range orders {
		if err := checkOrder(&orders[i]); err != nil {
			return fmt.Errorf("order %d: %w", i, err)
		}
	}
	out := w
	var closer io.Closer
	if opts.Encoding == EncodingWindows1251 {
		tw := transform.NewWriter(w, encoding.HTMLEscapeUnsupported(charmap.Windows1251.NewEncoder()))
		out, closer = tw, tw
	} else if opts.ByteOrderMark {
		if _, err := io.WriteString(w, "\ufeff"); err != nil {
			return err
		}
	}
	dw := &docWriter{enc: xml.NewEncoder(out)}
	dw.enc.Indent("", "\t")
	dw.token(xml.ProcInst{Target: "xml", Inst: []byte(`version="1.0" encoding="` + encodingLabel + `"`)})
	root := []xml.Attr{}
	if opts.Namespace != "" {
		root = append(root, xml.Attr{Name: xml.Name{Local: "xmlns"}, Value: opts.Namespace})
	}
	root = append(root,
		xml.Attr{Name: xml.Name{Local: "ВерсияСхемы"}, Value: opts.SchemaVersion},
		xml.Attr{Name: xml.Name{Local: "ДатаФормирования"}, Value: opts.GeneratedAt.Format(dateTimeLayout)})
	dw.start(rootName, root...)
	for i := range orders {
		if opts.Container {
			dw.start("Контейнер")
		}
		dw.order(&orders[i])
		if opts.Container {
			dw.end("Контейнер")
		}
	}
	dw.end(rootName)
	if dw.err == nil {
		dw.err = dw.enc.Flush()
	}
	if closer != nil {
		if err := closer.Close(); dw.err == nil {
			dw.err = err
		}
	}
	return dw.err
}

func checkWriteOptions(opts WriteOptions) (label string, err error) {
	switch opts.Encoding {
	case EncodingUTF8:
		label = "UTF-8"
	case EncodingWindows1251:
		label = "windows-1251"
		if opts.ByteOrderMark {
			return "", fmt.Errorf("%w: a byte order mark needs UTF-8", ErrInvalidOptions)
		}
	default:
		return "", fmt.Errorf("%w: Encoding %d", ErrInvalidOptions, opts.Encoding)
	}
	if opts.SchemaVersion == "" {
		return "", fmt.Errorf("%w: SchemaVersion is empty", ErrInvalidOptions)
	}
	if opts.GeneratedAt.IsZero() {
		return "", fmt.Errorf("%w: GeneratedAt is zero", ErrInvalidOptions)
	}
	return label, nil
}

func checkOrder(o *Order) error {
	switch {
	case o.ID == "":
		return fmt.Errorf("%w: empty ID", ErrInvalidOrder)
	case o.Number == "":
		return fmt.Errorf("%w: %q: empty Number", ErrInvalidOrder, o.ID)
	case o.Date == "":
		return fmt.Errorf("%w: %q: empty Date", ErrInvalidOrder, o.ID)
	case o.Currency == "":
		return fmt.Errorf("%w: %q: empty Currency", ErrInvalidOrder, o.ID)
	case o.Operation != "" && o.Operation != OrderOperation:
		return fmt.Errorf("%w: %q: operation %q is not %q", ErrInvalidOrder, o.ID, o.Operation, OrderOperation)
	case len(o.Lines) == 0:
		return fmt.Errorf("%w: %q: no lines", ErrInvalidOrder, o.ID)
	}
	for i, l := range o.Lines {
		if l.ProductID == "" {
			return fmt.Errorf("%w: %q: line %d has no ProductID", ErrInvalidOrder, o.ID, i)
		}
		if l.Qty.IsNegative() || l.Qty.IsZero() {
			return fmt.Errorf("%w: %q: line %d quantity %s is not positive", ErrInvalidOrder, o.ID, i, l.Qty)
		}
	}
	return nil
}

// docWriter writes tokens and keeps the first error.
type docWriter struct {
	enc *xml.Encoder
	err error
}

func (d *docWriter) token(t xml.Token) {
	if d.err == nil {
		d.err = d.enc.EncodeToken(t)
	}
}

func (d *docWriter) start(name string, attrs ...xml.Attr) {
	d.token(xml.StartElement{Name: xml.Name{Local: name}, Attr: attrs})
}

func (d *docWriter) end(name string) {
	d.token(xml.EndElement{Name: xml.Name{Local: name}})
}

func (d *docWriter) leaf(name, text string, attrs ...xml.Attr) {
	d.start(name, attrs...)
	if text != "" {
		d.token(xml.CharData(text))
	}
	d.end(name)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (d *docWriter) order(o *Order) {
	rate := o.Rate
	if rate.IsZero() {
		rate = DecimalFromInt(1)
	}
	d.start("Документ")
	d.leaf("Ид", o.ID)
	d.leaf("Номер", o.Number)
	d.leaf("Дата", o.Date)
	d.leaf("ХозОперация", OrderOperation)
	d.leaf("Роль", orDefault(o.Role, sellerRole))
	d.leaf("Валюта", o.Currency)
	d.leaf("Курс", rate.String())
	d.leaf("Сумма", o.Sum.String())
	if o.Counterparty != (Counterparty{}) {
		c := o.Counterparty
		d.start("Контрагенты")
		d.start("Контрагент")
		d.leaf("Ид", c.ID)
		d.leaf("Наименование", c.Name)
		d.leaf("Роль", orDefault(c.Role, buyerRole))
		d.leaf("ПолноеНаименование", orDefault(c.FullName, c.Name))
		d.end("Контрагент")
		d.end("Контрагенты")
	}
	if o.Time != "" {
		d.leaf("Время", o.Time)
	}
	d.leaf("Комментарий", o.Comment)
	d.start("Товары")
	for i := range o.Lines {
		d.orderLine(&o.Lines[i])
	}
	d.end("Товары")
	if len(o.Attributes) > 0 {
		d.attributes(o.Attributes)
	}
	d.end("Документ")
}

func (d *docWriter) orderLine(l *OrderLine) {
	d.start("Товар")
	d.leaf("Ид", l.ProductID)
	if l.CatalogID != "" {
		d.leaf("ИдКаталога", l.CatalogID)
	}
	d.leaf("Наименование", l.Name)
	if l.UnitCode != "" || l.UnitName != "" {
		var attrs []xml.Attr
		if l.UnitCode != "" {
			attrs = append(attrs, xml.Attr{Name: xml.Name{Local: "Код"}, Value: l.UnitCode})
		}
		d.leaf("БазоваяЕдиница", l.UnitName, attrs...)
	}
	d.leaf("ЦенаЗаЕдиницу", l.Price.String())
	d.leaf("Количество", l.Qty.String())
	d.leaf("Сумма", l.Sum.String())
	if l.ItemType != "" {
		d.attributes([]Attribute{{Name: "ВидНоменклатуры", Value: l.ItemType}, {Name: "ТипНоменклатуры", Value: l.ItemType}})
	}
	d.end("Товар")
}

func (d *docWriter) attributes(attrs []Attribute) {
	d.start("ЗначенияРеквизитов")
	for _, a := range attrs {
		d.start("ЗначениеРеквизита")
		d.leaf("Наименование", a.Name)
		d.leaf("Значение", a.Value)
		d.end("ЗначениеРеквизита")
	}
	d.end("ЗначенияРеквизитов")
}
