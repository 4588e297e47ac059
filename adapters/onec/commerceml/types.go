package commerceml

import "context"

// PackageKind says which CommerceML container a Package header describes.
type PackageKind int

const (
	// KindClassifier is a Классификатор: groups, properties, and in 2.09/3.1 the
	// price types and warehouses.
	KindClassifier PackageKind = iota + 1
	// KindCatalog is a Каталог: products (Товары/Товар).
	KindCatalog
	// KindOffers is a ПакетПредложений: offers with prices and/or stock.
	KindOffers
	// KindOfferChanges is an ИзмененияПакетаПредложений: offer changes only.
	KindOfferChanges
)

// String returns the CommerceML element name of the kind.
func (k PackageKind) String() string {
	switch k {
	case KindClassifier:
		return "Классификатор"
	case KindCatalog:
		return "Каталог"
	case KindOffers:
		return "ПакетПредложений"
	case KindOfferChanges:
		return "ИзмененияПакетаПредложений"
	}
	return "unknown"
}

// Mode is the package's СодержитТолькоИзменения flag.
type Mode int

const (
	// ModeUnspecified: the flag is absent (or unreadable). The caller decides, per source,
	// whether such a package is a snapshot.
	ModeUnspecified Mode = iota
	// ModeFull: СодержитТолькоИзменения="false", the package is a full snapshot of its catalog.
	ModeFull
	// ModeChangesOnly: СодержитТолькоИзменения="true", or an ИзмененияПакетаПредложений.
	ModeChangesOnly
)

// String returns "unspecified", "full" or "changes".
func (m Mode) String() string {
	switch m {
	case ModeFull:
		return "full"
	case ModeChangesOnly:
		return "changes"
	}
	return "unspecified"
}

// Package is the header of a Классификатор, Каталог, ПакетПредложений or
// ИзмененияПакетаПредложений. It is visited once, before the first item it contains.
// In the split files of the 1С-Битрикс module (offers/prices/rests) every file repeats
// the same package ID, so items of one exchange can be joined on it.
type Package struct {
	File          string      // name given to Read
	Line          int         // line of the package's start tag
	Kind          PackageKind // which container
	ID            string      // Ид; for offers usually "<catalogGUID>#" (not an offer)
	Name          string      // Наименование
	CatalogID     string      // ИдКаталога (offers) or Ид (catalog)
	ClassifierID  string      // ИдКлассификатора
	Mode          Mode        // СодержитТолькоИзменения, as an attribute or a child element
	SchemaVersion string      // root ВерсияСхемы, e.g. "2.07", "3.1"
	GeneratedAt   string      // root ДатаФормирования as written (metadata only, never parsed)
}

// Warehouse is a declared warehouse (Склады/Склад in a Классификатор or ПакетПредложений).
type Warehouse struct {
	Line    int
	ID      string // Ид
	Name    string // Наименование
	Deleted bool   // ПометкаУдаления=true
}

// Tax is the tax note of a price type or price (Налог).
type Tax struct {
	Name          string // Наименование, e.g. "НДС"
	IncludedInSum bool   // УчтеноВСумме: false means the price excludes the tax
}

// PriceType is a declared price type (ТипыЦен/ТипЦены).
type PriceType struct {
	Line        int
	ID          string // Ид
	Name        string // Наименование
	Currency    string // ISO code when recognised ("RUB" for "руб"), else the text as written
	CurrencyRaw string // Валюта as written
	Tax         *Tax   // nil when the type has no Налог
	Deleted     bool   // ПометкаУдаления=true
}

// Product is a catalog item (Каталог/Товары/Товар).
type Product struct {
	Line             int
	ID               string   // Ид, the SKU key: "productGUID" or "productGUID#characteristicGUID"
	ProductID        string   // part of ID before '#'
	CharacteristicID string   // part of ID after '#', empty for a simple product
	Article          string   // Артикул (an attribute, never a key)
	Name             string   // Наименование
	Barcodes         []string // Штрихкод values, non-empty ones only
	BaseUnit         string   // БазоваяЕдиница Код (trimmed) or, failing that, its text
	ItemType         string   // ЗначенияРеквизитов ТипНоменклатуры, e.g. "Товар", "Услуга"
	IsService        bool     // ItemType is "Услуга": not a stocked item
	Status           string   // Статус as written: "Новый", "Изменен", "Удален" or empty
	Deleted          bool     // Статус="Удален" or ПометкаУдаления=true
}

// Price is one price of an offer (Цены/Цена).
type Price struct {
	PriceTypeID string  // ИдТипаЦены: pick prices by this, never by order or name
	Value       Decimal // ЦенаЗаЕдиницу, exact
	Currency    string  // ISO code when recognised; inherited from the price type when absent
	CurrencyRaw string  // Валюта as written (empty when inherited)
	Unit        string  // Единица as written
	Factor      Decimal // Коэффициент; 1 when absent. Not 1: the price is per Factor units
	MinQty      Decimal // МинКоличество; zero when absent
	Tax         *Tax    // Налог of the price, else of its declared price type, else nil
}

// StockLayout is a set of the stock layouts (A–F) seen in one offer.
type StockLayout uint8

// The stock layouts; see the package documentation.
const (
	LayoutA StockLayout = 1 << iota // <Количество> total
	LayoutB                         // <Склад ИдСклада КоличествоНаСкладе/>
	LayoutC                         // Остатки/Остаток/Склад{Ид,Количество}
	LayoutD                         // Остатки/Остаток/Количество total
	LayoutE                         // <Склады ИдСклада КоличествоНаСкладе/>
	LayoutF                         // КоличествоНаСкладах/КоличествоНаСкладе
)

// String lists the layouts, e.g. "A+B".
func (l StockLayout) String() string {
	if l == 0 {
		return "none"
	}
	out := make([]byte, 0, 12)
	for i, name := range []byte("ABCDEF") {
		if l&(1<<i) != 0 {
			if len(out) > 0 {
				out = append(out, '+')
			}
			out = append(out, name)
		}
	}
	return string(out)
}

// StockCell is the stock of one offer in one warehouse.
type StockCell struct {
	WarehouseID string
	Qty         Decimal // as written; may be negative or fractional; "" in the file reads as 0
}

// Stock is what an offer says about its stock. The zero value means the offer carried
// no stock element at all: no information, not zero.
type Stock struct {
	Total    Decimal     // total over warehouses (layouts A, D); valid when HasTotal
	HasTotal bool        // a total was given
	Cells    []StockCell // per-warehouse figures (layouts B, B', C, E, F), one per warehouse
	Layouts  StockLayout // which layouts the offer used
}

// Known reports whether the offer carried any stock figure.
func (s Stock) Known() bool { return s.HasTotal || len(s.Cells) > 0 }

// Offer is one offer (Предложения/Предложение) of a ПакетПредложений or
// ИзмененияПакетаПредложений. In split files an offer arrives several times (name in
// offers, prices in prices, stock in rests); each visit carries only what that file gave.
type Offer struct {
	Line             int
	ID               string // SKU key: "productGUID" or "productGUID#characteristicGUID"
	ProductID        string // part of ID before '#'
	CharacteristicID string // part of ID after '#' (or ИдХарактеристики), empty for a simple product
	Article          string // Артикул (an attribute, never a key)
	Name             string // Наименование
	Barcodes         []string
	BaseUnit         string  // БазоваяЕдиница Код (trimmed) or its text
	Status           string  // Статус as written
	Deleted          bool    // Статус="Удален" or ПометкаУдаления=true
	Prices           []Price // one per price type; empty when the file gave none
	Stock            Stock   // zero value when the file gave no stock
}

// Counterparty is the buyer of an order (Контрагенты/Контрагент).
type Counterparty struct {
	ID       string // Ид, e.g. "1#admin#Петров Петр"
	Name     string // Наименование
	FullName string // ПолноеНаименование
	Role     string // Роль, usually "Покупатель"
}

// Attribute is a named value (ЗначенияРеквизитов/ЗначениеРеквизита).
type Attribute struct {
	Name  string
	Value string
}

// OrderLine is one line of an order (Товары/Товар).
type OrderLine struct {
	ProductID string  // Ид: an offer ID ("prod#char"), or ORDER_DELIVERY for delivery
	CatalogID string  // ИдКаталога
	Name      string  // Наименование
	UnitCode  string  // БазоваяЕдиница Код or Единица/Код (else its Ид), trimmed
	UnitName  string  // БазоваяЕдиница text ("шт") or Единица/НаименованиеКраткое
	Qty       Decimal // Количество, e.g. "1.0000"
	Price     Decimal // ЦенаЗаЕдиницу (2.x) or Цена (3.x)
	Sum       Decimal // Сумма
	ItemType  string  // ТипНоменклатуры, e.g. "Товар", "Услуга"
	IsService bool    // a service or the ORDER_DELIVERY line: holds no stock
}

// OrderOperation is the ХозОперация of an order document.
const OrderOperation = "Заказ товара"

// DeliveryLineID is the line Ид that 1С-Битрикс uses for the delivery charge.
const DeliveryLineID = "ORDER_DELIVERY"

// Order is a Документ with ХозОперация "Заказ товара", at the root or inside a Контейнер.
type Order struct {
	Line         int
	ID           string  // Ид (the site's order id)
	Number       string  // Номер
	Number1C     string  // Номер1С, trimmed (1C pads it with spaces)
	Date         string  // Дата as written, e.g. "2017-08-03"
	Time         string  // Время as written, e.g. "18:46:55"
	Operation    string  // ХозОперация
	Role         string  // Роль, usually "Продавец"
	Currency     string  // Валюта as written
	Rate         Decimal // Курс
	Sum          Decimal // Сумма
	Comment      string  // Комментарий
	Deleted      bool    // ПометкаУдаления=true
	WarehouseID  string  // first Склады/Склад/Ид, if any
	Counterparty Counterparty
	Lines        []OrderLine
	Attributes   []Attribute // ЗначенияРеквизитов of the document: status, payment, "Отменен", …
}

// Visitor receives the items of a file in document order. A Visitor error stops the read
// and is returned. Values passed are owned by the visitor.
type Visitor interface {
	Package(ctx context.Context, p Package) error
	Warehouse(ctx context.Context, w Warehouse) error
	PriceType(ctx context.Context, t PriceType) error
	Product(ctx context.Context, p Product) error
	Offer(ctx context.Context, o Offer) error
	Order(ctx context.Context, o Order) error
	Warning(ctx context.Context, w Warning) error
}

// VisitorFuncs is a Visitor made of optional functions; a nil function ignores its items.
type VisitorFuncs struct {
	OnPackage   func(ctx context.Context, p Package) error
	OnWarehouse func(ctx context.Context, w Warehouse) error
	OnPriceType func(ctx context.Context, t PriceType) error
	OnProduct   func(ctx context.Context, p Product) error
	OnOffer     func(ctx context.Context, o Offer) error
	OnOrder     func(ctx context.Context, o Order) error
	OnWarning   func(ctx context.Context, w Warning) error
}

var _ Visitor = VisitorFuncs{}

// Package calls OnPackage if set.
func (f VisitorFuncs) Package(ctx context.Context, p Package) error {
	if f.OnPackage == nil {
		return nil
	}
	return f.OnPackage(ctx, p)
}

// Warehouse calls OnWarehouse if set.
func (f VisitorFuncs) Warehouse(ctx context.Context, w Warehouse) error {
	if f.OnWarehouse == nil {
		return nil
	}
	return f.OnWarehouse(ctx, w)
}

// PriceType calls OnPriceType if set.
func (f VisitorFuncs) PriceType(ctx context.Context, t PriceType) error {
	if f.OnPriceType == nil {
		return nil
	}
	return f.OnPriceType(ctx, t)
}

// Product calls OnProduct if set.
func (f VisitorFuncs) Product(ctx context.Context, p Product) error {
	if f.OnProduct == nil {
		return nil
	}
	return f.OnProduct(ctx, p)
}

// Offer calls OnOffer if set.
func (f VisitorFuncs) Offer(ctx context.Context, o Offer) error {
	if f.OnOffer == nil {
		return nil
	}
	return f.OnOffer(ctx, o)
}

// Order calls OnOrder if set.
func (f VisitorFuncs) Order(ctx context.Context, o Order) error {
	if f.OnOrder == nil {
		return nil
	}
	return f.OnOrder(ctx, o)
}

// Warning calls OnWarning if set.
func (f VisitorFuncs) Warning(ctx context.Context, w Warning) error {
	if f.OnWarning == nil {
		return nil
	}
	return f.OnWarning(ctx, w)
}
