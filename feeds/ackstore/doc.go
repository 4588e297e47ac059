// Package ackstore keeps the last value each marketplace acknowledged:
// stock per (channel, offer, marketplace warehouse) and price per
// (channel, offer). After a restart the push side sends only what differs
// from it, so Ozon's and Wildberries' per-item frequency limits are not
// spent on values already in place.
//
// Losing an entry is always safe — the value is sent again — so a torn or
// corrupt tail of the file store is cut, never fatal. Two stores implement
// Store: File (an append-only log with a CRC per record, compacted on open
// and when it outgrows its live size) and Postgres (one row per key, in the
// table of migration 0003_ackstore.sql).
//
//	st, err := ackstore.OpenFile(ackstore.FileConfig{Path: dir + "/acks.log", CompactRatio: 4, MaxEntries: 1 << 22})
//	err = st.Put(ctx, []ackstore.Entry{{Key: ackstore.StockKey("ozon", "PH11042", "22142605386000"), Value: ackstore.Value{Qty: 5}}})
//	err = st.Load(ctx, "ozon", func(e ackstore.Entry) error { ...; return nil })
package ackstore
