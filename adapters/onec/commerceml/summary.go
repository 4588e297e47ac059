package commerceml

// Summary counts what a read or an import produced (what stockctl import prints).
type Summary struct {
	Files        int // files read
	Packages     int // package headers visited
	Warehouses   int // declared warehouses visited
	PriceTypes   int // declared price types visited
	Products     int // products visited
	Offers       int // offers visited
	Deleted      int // products and offers marked deleted
	StockOffers  int // offers that carried stock (Stock.Known)
	StockTotals  int // offers that carried a total (layouts A, D)
	StockCells   int // per-warehouse stock figures (layouts B, B', C, E, F)
	Prices       int // prices visited
	Fractional   int // stock figures (cells and totals) with a non-zero fraction
	Negative     int // stock figures (cells and totals) below zero
	Orders       int // orders visited
	OrderLines   int // order lines visited
	WarningCount int // warnings raised, including those not kept
	// Warnings are the first MaxWarnings warnings.
	Warnings []Warning
}

// add merges o into s, keeping at most maxWarnings warnings.
func (s *Summary) add(o Summary, maxWarnings int) {
	s.Files += o.Files
	s.Packages += o.Packages
	s.Warehouses += o.Warehouses
	s.PriceTypes += o.PriceTypes
	s.Products += o.Products
	s.Offers += o.Offers
	s.Deleted += o.Deleted
	s.StockOffers += o.StockOffers
	s.StockTotals += o.StockTotals
	s.StockCells += o.StockCells
	s.Prices += o.Prices
	s.Fractional += o.Fractional
	s.Negative += o.Negative
	s.Orders += o.Orders
	s.OrderLines += o.OrderLines
	s.WarningCount += o.WarningCount
	for _, w := range o.Warnings {
		if len(s.Warnings) >= maxWarnings {
			break
		}
		s.Warnings = append(s.Warnings, w)
	}
}

// countQty records a stock figure's sign and fraction.
func (s *Summary) countQty(q Decimal) {
	if !q.IsInteger() {
		s.Fractional++
	}
	if q.IsNegative() {
		s.Negative++
	}
}
