// Package commerceml reads the CommerceML 2.03–3.1 files that 1C (УТ 11, УНФ, Розница,
// УТ 10.3 and the 1С-Битрикс exchange modules) sends to a website, and writes the
// "Заказ товара" documents that 1C takes back through the exchange protocol.
//
// The reader streams: it hands one typed item at a time to a Visitor (a package header,
// a warehouse, a price type, a catalog product, an offer with its prices and stock, an
// order), so memory stays flat whatever the file size. It runs on its own strict XML
// tokenizer (tokenizer.go), which reads names, attributes and text in place in its
// input buffer and copies only the text of the elements it keeps; it accepts exactly the
// documents encoding/xml accepts in strict mode, which the differential tests and fuzz
// target check against the former encoding/xml-based reader (xmlref_test.go); speed
// and memory are in BENCHMARKS.md. Elements are matched by local name only,
// because the default namespace varies between none, urn:1C.ru:commerceml_2,
// commerceml_210 and commerceml_3. Input may be UTF-8 with or without a byte order mark,
// or windows-1251 (declared in the XML declaration and decoded with
// golang.org/x/text; a file that declares windows-1251 but is really UTF-8 is detected
// and read as UTF-8 with a warning). Besides Limits, the tokenizer refuses names over
// 4 KiB and a second XML declaration that would switch the encoding again.
//
// Stock is read in every layout 1C and its modules produce, per offer:
//
//	A  <Количество>377</Количество>                                  total only
//	B  <Склад ИдСклада="g" КоличествоНаСкладе="1"/>                   per warehouse (B': "" means 0)
//	C  <Остатки><Остаток><Склад><Ид>g</Ид><Количество>0</Количество></Склад></Остаток></Остатки>
//	D  <Остатки><Остаток><Количество>765</Количество></Остаток></Остатки>   total only
//	E  <Склады ИдСклада="g" КоличествоНаСкладе="5"/>                  (ИзмененияПакетаПредложений)
//	F  <КоличествоНаСкладах><КоличествоНаСкладе><ИдСклада>g</ИдСклада><Количество>5</Количество>…
//
// An offer without any stock element carries no stock information (Offer.Stock.Known
// reports false), which is not the same as zero. Quantities and prices are exact
// decimals (Decimal); fractional and negative quantities are reported as written and
// the caller decides how to floor or clamp them. The reader does not interpret
// snapshots: it reports whether a package contains only changes (Package.Mode) and
// leaves "absent from a full snapshot" to its caller.
//
// Recoverable oddities (an over-long Ид, a warehouse total that does not match its
// cells, an unknown warehouse, a number with a decimal comma, a repeated offer) become
// Warnings with file and line; malformed XML, an exceeded limit or a visitor error stop
// the read with an error that names the file and line.
//
// Use:
//
//	r, err := commerceml.NewReader(commerceml.DefaultLimits())
//	if err != nil { … }
//	sum, err := r.Read(ctx, "offers.xml", f, commerceml.VisitorFuncs{
//		OnOffer: func(ctx context.Context, o commerceml.Offer) error {
//			for _, c := range o.Stock.Cells { … c.WarehouseID, c.Qty … }
//			return nil
//		},
//	})
//
// Import reads a whole exchange set (import*.xml, offers*.xml, prices*.xml, rests*.xml,
// or a zip of them) in the order 1C uploads it, with one Reader so that warehouses and
// price types declared in import.xml are known when rests and prices arrive.
// WriteOrders produces the orders document for type=sale&mode=query.
package commerceml
