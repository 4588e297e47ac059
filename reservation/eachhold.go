package reservation

// EachHold calls fn with a copy of every active (held or confirmed) hold,
// in no particular order, until fn returns false. The Hold passed to fn
// is reused between calls. For scans that are not on the hot path (order
// intake tracking open marketplace orders, 1C order export).
func (l *Ledger) EachHold(fn func(h *Hold) bool) {
	var out Hold
	for ref := uint32(0); ref < l.holds.next; ref++ {
		h := l.holds.at(ref)
		if h.entry == 0 || !h.state.Active() {
			continue
		}
		if !l.Hold(h.idView(), &out) {
			continue
		}
		if !fn(&out) {
			return
		}
	}
}
