package reservation

// SKUs calls fn with every known SKU, in the order they were first seen,
// until fn returns false. For a full resync of the channels after a
// restart; it holds whatever lock the caller holds for its whole run.
func (l *Ledger) SKUs(fn func(sku string) bool) {
	for i := range l.skus {
		if !fn(l.skus[i].name) {
			return
		}
	}
}
