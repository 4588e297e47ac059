package commerceml_test

import (
	"context"
	"fmt"
	"strings"

	"stockd/adapters/onec/commerceml"
)

func ExampleReader_Read() {
	const offers = `<?xml version="1.0" encoding="UTF-8"?>
<КоммерческаяИнформация xmlns="urn:1C.ru:commerceml_2" ВерсияСхемы="2.07" ДатаФормирования="2020-04-07T12:08:44">
	<ПакетПредложений СодержитТолькоИзменения="false">
		<Ид>b21db898-7f82-46d8-a5ca-7c4f1d200a13#</Ид>
		<Предложения>
			<Предложение>
				<Ид>bd8c4e15-18f9-11e7-80c2-0cc47ab29cd1#0c175826-19c2-11e7-80c2-0cc47ab29cd1</Ид>
				<Цены><Цена><ИдТипаЦены>base</ИдТипаЦены><ЦенаЗаЕдиницу>2042.66</ЦенаЗаЕдиницу><Валюта>руб</Валюта></Цена></Цены>
				<Количество>377</Количество>
				<Склад ИдСклада="msk" КоличествоНаСкладе="376"/>
				<Склад ИдСклада="spb" КоличествоНаСкладе="1"/>
				<Склад ИдСклада="ekb" КоличествоНаСкладе=""/>
			</Предложение>
			<Предложение>
				<Ид>5edfbda4-19c0-11e7-80c2-0cc47ab29cd1</Ид>
			</Предложение>
		</Предложения>
	</ПакетПредложений>
</КоммерческаяИнформация>`
	r, err := commerceml.NewReader(commerceml.DefaultLimits())
	if err != nil {
		panic(err)
	}
	sum, err := r.Read(context.Background(), "offers.xml", strings.NewReader(offers), commerceml.VisitorFuncs{
		OnPackage: func(_ context.Context, p commerceml.Package) error {
			fmt.Println("package", p.ID, p.Mode)
			return nil
		},
		OnOffer: func(_ context.Context, o commerceml.Offer) error {
			fmt.Println("offer", o.ProductID, o.CharacteristicID != "", "stock known:", o.Stock.Known())
			for _, c := range o.Stock.Cells {
				fmt.Println("  ", c.WarehouseID, c.Qty)
			}
			for _, p := range o.Prices {
				fmt.Println("  price", p.PriceTypeID, p.Value, p.Currency)
			}
			return nil
		},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(sum.Offers, "offers,", sum.StockCells, "stock cells,", sum.Prices, "prices,", sum.WarningCount, "warnings")
	for _, w := range sum.Warnings {
		fmt.Println(w)
	}
	// Output:
	// package b21db898-7f82-46d8-a5ca-7c4f1d200a13# full
	// offer bd8c4e15-18f9-11e7-80c2-0cc47ab29cd1 true stock known: true
	//    msk 376
	//    spb 1
	//    ekb 0
	//   price base 2042.66 RUB
	// offer 5edfbda4-19c0-11e7-80c2-0cc47ab29cd1 false stock known: false
	// 2 offers, 3 stock cells, 1 prices, 3 warnings
	// offers.xml:10: unknown_warehouse: stock for warehouse "msk", which no Склады declared so far; kept for mapping
	// offers.xml:11: unknown_warehouse: stock for warehouse "spb", which no Склады declared so far; kept for mapping
	// offers.xml:12: unknown_warehouse: stock for warehouse "ekb", which no Склады declared so far; kept for mapping
}
