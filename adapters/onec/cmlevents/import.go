package cmlevents

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"sync/atomic"
	"time"

	"stockd/adapters/onec/commerceml"
	"stockd/reservation"
)

// maxWarnedPriceTypes bounds the unconfigured price types warned about, one warning each.
const maxWarnedPriceTypes = 100

// Import turns the items of one exchange (one or more files read in upload order) into
// events. It is a commerceml.Visitor; call Finish after the last file. An Import is not
// safe for concurrent use, except Progress.
type Import struct {
	cfg   Config
	store Store
	sink  Sink
	now   time.Time // import time

	pkg        pkgState
	snapshots  map[string]*snapshot // full snapshots by catalog
	snapOrder  []string
	pending    []reservation.Event
	remember   []catalogOffer
	forget     []catalogOffer
	msgs       []Message
	warnedType map[string]struct{}
	storeFull  bool
	finished   bool
	sum        Summary
	offers     atomic.Int64
	events     atomic.Int64
}

var _ commerceml.Visitor = (*Import)(nil)

// pkgState is the package whose items are being visited.
type pkgState struct {
	file    string // the document it is in, for warnings
	catalog string
	at      time.Time
	snap    *snapshot // non-nil in a full offers snapshot
}

// snapshot is what one catalog's full snapshot listed: 8-byte hashes of offer SKUs.
type snapshot struct {
	at       time.Time
	seen     map[uint64]struct{}
	overflow bool
}

func (s *snapshot) has(sku string) bool {
	_, ok := s.seen[hashSKU(sku)]
	return ok
}

type catalogOffer struct {
	catalog string
	offer   KnownOffer
}

// NewImport starts an import at time now (the import time).
func NewImport(cfg Config, store Store, sink Sink, now time.Time) (*Import, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if store == nil || sink == nil {
		return nil, fmt.Errorf("%w: store and sink are required", ErrInvalidConfig)
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	return &Import{
		cfg:        cfg,
		store:      store,
		sink:       sink,
		now:        now,
		pkg:        pkgState{at: now},
		snapshots:  map[string]*snapshot{},
		warnedType: map[string]struct{}{},
		sum:        Summary{StockByWarehouse: map[string]int{}},
	}, nil
}

// Progress returns the offers visited and events published so far; safe to call from
// another goroutine while the import runs.
func (im *Import) Progress() (offers, events int64) {
	return im.offers.Load(), im.events.Load()
}

// Summary returns the counts so far.
func (im *Import) Summary() Summary { return im.sum }

// Package implements commerceml.Visitor: it sets the catalog and the time of the items
// that follow and opens a full snapshot.
func (im *Import) Package(_ context.Context, p commerceml.Package) error {
	if im.finished {
		return ErrFinished
	}
	if p.Kind == commerceml.KindClassifier {
		return nil
	}
	catalog := p.CatalogID
	if catalog == "" {
		catalog = p.ID
	}
	im.pkg = pkgState{file: p.File, catalog: catalog, at: im.packageTime(p)}
	full := p.Mode == commerceml.ModeFull || (p.Mode == commerceml.ModeUnspecified && im.cfg.UnspecifiedIsFull)
	if full && (p.Kind == commerceml.KindOffers || p.Kind == commerceml.KindOfferChanges) {
		snap, ok := im.snapshots[catalog]
		if !ok {
			snap = &snapshot{seen: map[uint64]struct{}{}}
			im.snapshots[catalog] = snap
			im.snapOrder = append(im.snapOrder, catalog)
			im.sum.FullSnapshots++
		}
		snap.at = later(snap.at, im.pkg.at)
		im.pkg.snap = snap
	}
	return nil
}

// packageTime is the time of a package's events: ДатаФормирования, capped to the import time.
func (im *Import) packageTime(p commerceml.Package) time.Time {
	if im.cfg.UseImportTime {
		return im.now
	}
	at, ok := ParseGeneratedAt(p.GeneratedAt, im.cfg.Location)
	if !ok {
		im.warn(p.File, p.Line, WarnDate, fmt.Sprintf("ДатаФормирования %q is unreadable; events carry the import time", p.GeneratedAt))
		return im.now
	}
	if at.After(im.now) {
		im.warn(p.File, p.Line, WarnDate, fmt.Sprintf("ДатаФормирования %q is later than the import time %s; capped to it",
			p.GeneratedAt, im.now.Format(time.RFC3339)))
		return im.now
	}
	return at
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Warehouse implements commerceml.Visitor; declarations need no event.
func (im *Import) Warehouse(context.Context, commerceml.Warehouse) error { return nil }

// PriceType implements commerceml.Visitor; declarations need no event.
func (im *Import) PriceType(context.Context, commerceml.PriceType) error { return nil }

// Order implements commerceml.Visitor; orders are not catalog events.
func (im *Import) Order(context.Context, commerceml.Order) error { return nil }

// Warning implements commerceml.Visitor: the reader's warnings join the Summary.
func (im *Import) Warning(_ context.Context, w commerceml.Warning) error {
	im.keepWarning(w)
	return nil
}

func (im *Import) warn(file string, line int, code commerceml.WarningCode, msg string) {
	if file == "" && line > 0 {
		file = im.pkg.file // the line is in the package being visited
	}
	im.keepWarning(commerceml.Warning{File: file, Line: line, Code: code, Message: msg})
}

func (im *Import) keepWarning(w commerceml.Warning) {
	im.sum.WarningCount++
	if len(im.sum.Warnings) < im.cfg.MaxWarnings {
		im.sum.Warnings = append(im.sum.Warnings, w)
	}
}

// Product implements commerceml.Visitor: item.upsert, or item.delete for a deleted
// product; services are skipped.
func (im *Import) Product(ctx context.Context, p commerceml.Product) error {
	if im.finished {
		return ErrFinished
	}
	im.sum.Products++
	if p.Deleted {
		return im.add(ctx, "", p.Line, reservation.Event{Type: reservation.EventItemDelete, SKU: p.ID}, &im.sum.Deletes)
	}
	if p.IsService {
		im.sum.Services++
		return nil
	}
	ev := reservation.Event{
		Type:     reservation.EventItemUpsert,
		SKU:      p.ID,
		Article:  im.text(p.ID, p.Line, "Артикул", p.Article),
		Name:     im.text(p.ID, p.Line, "Наименование", p.Name),
		Barcodes: im.barcodes(p.ID, p.Line, p.Barcodes),
	}
	return im.add(ctx, "", p.Line, ev, &im.sum.Items)
}

// text cuts s to what an event carries.
func (im *Import) text(sku string, line int, field, s string) string {
	if len(s) <= reservation.MaxTextBytes {
		return s
	}
	kept := reservation.CutText(s, reservation.MaxTextBytes)
	im.warn("", line, WarnTextTruncated, fmt.Sprintf("%s %s… of %s has %d bytes; cut to %d",
		field, strconv.Quote(reservation.CutText(s, 16)), sku, len(s), len(kept)))
	return kept
}

func (im *Import) barcodes(sku string, line int, in []string) []string {
	var out []string
	for _, b := range in {
		if b == "" || len(b) > reservation.MaxIDBytes || len(out) == reservation.MaxBarcodes {
			im.warn("", line, WarnEventDropped, fmt.Sprintf("barcode %.40q of %s dropped (empty, over %d bytes or over %d barcodes)",
				b, sku, reservation.MaxIDBytes, reservation.MaxBarcodes))
			continue
		}
		out = append(out, b)
	}
	return out
}

// Offer implements commerceml.Visitor: stock.set per warehouse, price.set per
// configured price type, or item.delete for a deleted offer.
func (im *Import) Offer(ctx context.Context, o commerceml.Offer) error {
	if im.finished {
		return ErrFinished
	}
	im.sum.Offers++
	im.offers.Add(1)
	if snap := im.pkg.snap; snap != nil && !snap.overflow {
		if len(snap.seen) >= im.cfg.MaxSnapshotOffers {
			snap.overflow, snap.seen = true, nil
			im.warn("", o.Line, WarnSnapshotTooLarge, fmt.Sprintf("full snapshot of catalog %q lists more than %d offers (MaxSnapshotOffers); no missing report for it",
				im.pkg.catalog, im.cfg.MaxSnapshotOffers))
		} else {
			snap.seen[hashSKU(o.ID)] = struct{}{}
		}
	}
	if o.Deleted {
		im.forget = append(im.forget, catalogOffer{catalog: im.pkg.catalog, offer: KnownOffer{SKU: o.ID}})
		return im.add(ctx, "", o.Line, reservation.Event{Type: reservation.EventItemDelete, SKU: o.ID}, &im.sum.Deletes)
	}
	warehouses, err := im.stock(ctx, o)
	if err != nil {
		return err
	}
	if err := im.prices(ctx, o); err != nil {
		return err
	}
	im.remember = append(im.remember, catalogOffer{catalog: im.pkg.catalog, offer: KnownOffer{SKU: o.ID, Warehouses: warehouses}})
	return nil
}

// stock sends the offer's figures and returns the warehouses (our ids) it named.
func (im *Import) stock(ctx context.Context, o commerceml.Offer) ([]string, error) {
	s := o.Stock
	if !s.Known() {
		im.sum.NoStock++
		return nil, nil
	}
	if len(s.Cells) == 0 {
		if im.cfg.DefaultWarehouse == "" {
			im.sum.Dropped++
			im.warn("", o.Line, WarnNoDefaultWarehouse, fmt.Sprintf("offer %s gives only a total (%s) and no default warehouse is configured; skipped", o.ID, s.Total))
			return nil, nil
		}
		im.sum.TotalOnly++
		wh := im.cfg.DefaultWarehouse
		return []string{wh}, im.stockSet(ctx, o, wh, []commerceml.Decimal{s.Total})
	}
	// Group the figures by our warehouse, in the order they came: several 1C
	// warehouses may map to one of ours, and their figures add up.
	targets := make([]string, 0, len(s.Cells))
	figures := make([][]commerceml.Decimal, 0, len(s.Cells))
	index := map[string]int{}
	for _, c := range s.Cells {
		wh := c.WarehouseID
		if mapped, ok := im.cfg.Warehouses[wh]; ok {
			wh = mapped
		}
		i, ok := index[wh]
		if !ok {
			i = len(targets)
			index[wh] = i
			targets = append(targets, wh)
			figures = append(figures, nil)
		}
		figures[i] = append(figures[i], c.Qty)
	}
	for i, wh := range targets {
		if err := im.stockSet(ctx, o, wh, figures[i]); err != nil {
			return nil, err
		}
	}
	return targets, nil
}

func (im *Import) stockSet(ctx context.Context, o commerceml.Offer, wh string, figures []commerceml.Decimal) error {
	qty, fractional, err := floorSum(figures)
	if err != nil || qty < -reservation.MaxEventQty || qty > reservation.MaxEventQty {
		im.sum.Dropped++
		im.warn("", o.Line, WarnEventDropped, fmt.Sprintf("stock of %s in %s is out of range (%v); skipped", o.ID, wh, figures))
		return nil
	}
	if fractional {
		im.sum.Fractional++
	}
	if qty < 0 {
		im.sum.Negative++
	}
	ev := reservation.Event{Type: reservation.EventStockSet, SKU: o.ID, Warehouse: wh, Qty: qty, Fractional: fractional}
	before := im.sum.StockSets
	if err := im.add(ctx, "", o.Line, ev, &im.sum.StockSets); err != nil {
		return err
	}
	if im.sum.StockSets > before {
		im.countWarehouse(wh)
	}
	return nil
}

func (im *Import) countWarehouse(wh string) {
	if _, ok := im.sum.StockByWarehouse[wh]; !ok && len(im.sum.StockByWarehouse) >= MaxSummaryWarehouses {
		wh = ""
	}
	im.sum.StockByWarehouse[wh]++
}

// floorSum adds exact decimals and floors the sum; fractional reports a non-zero fraction.
func floorSum(figures []commerceml.Decimal) (qty int64, fractional bool, err error) {
	if len(figures) == 1 {
		q, err := figures[0].Floor()
		return q, !figures[0].IsInteger(), err
	}
	sum := new(big.Rat)
	for _, f := range figures {
		r, ok := new(big.Rat).SetString(f.String())
		if !ok {
			return 0, false, fmt.Errorf("cmlevents: decimal %q", f)
		}
		sum.Add(sum, r)
	}
	floor := new(big.Int).Div(sum.Num(), sum.Denom()) // Euclidean: the floor for a positive denominator
	if !floor.IsInt64() {
		return 0, false, fmt.Errorf("cmlevents: %s out of range", sum.FloatString(3))
	}
	return floor.Int64(), !sum.IsInt(), nil
}

var one = commerceml.DecimalFromInt(1)

func (im *Import) prices(ctx context.Context, o commerceml.Offer) error {
	for _, p := range o.Prices {
		name, ok := im.cfg.PriceTypes[p.PriceTypeID]
		if !ok {
			im.sum.PricesSkipped++
			if _, warned := im.warnedType[p.PriceTypeID]; !warned && len(im.warnedType) < maxWarnedPriceTypes {
				im.warnedType[p.PriceTypeID] = struct{}{}
				im.warn("", o.Line, WarnUnconfiguredPriceType, fmt.Sprintf("price type %q is not configured; its prices are skipped", p.PriceTypeID))
			}
			continue
		}
		skip := func(why string) {
			im.sum.Dropped++
			im.warn("", o.Line, WarnPriceSkipped, fmt.Sprintf("price %s of %s (type %q): %s; skipped", p.Value, o.ID, p.PriceTypeID, why))
		}
		if !p.Factor.IsZero() && p.Factor.Cmp(one) != 0 {
			skip("given per " + p.Factor.String() + " units")
			continue
		}
		currency := p.Currency
		if !isCurrency(currency) {
			if currency != "" || im.cfg.DefaultCurrency == "" {
				skip(fmt.Sprintf("currency %q is not an ISO 4217 code", currency))
				continue
			}
			currency = im.cfg.DefaultCurrency
		}
		amount, err := reservation.ParseDecimal(p.Value.String())
		if err != nil || amount.Units < 0 {
			skip("not a price an event carries (non-negative, at most 18 digits, 9 after the point)")
			continue
		}
		ev := reservation.Event{Type: reservation.EventPriceSet, SKU: o.ID, PriceType: name, Price: amount, Currency: currency}
		if err := im.add(ctx, "", o.Line, ev, &im.sum.Prices); err != nil {
			return err
		}
	}
	return nil
}

// add validates an event and queues it, counting it in *counter; an invalid one is
// dropped with a warning. A full batch is published.
func (im *Import) add(ctx context.Context, file string, line int, ev reservation.Event, counter *int) error {
	im.stamp(&ev, im.pkg.at)
	if err := ev.Validate(); err != nil {
		im.sum.Dropped++
		im.warn(file, line, WarnEventDropped, fmt.Sprintf("%v of %.100q: %v; skipped", ev.Type, ev.SKU, err))
		return nil
	}
	*counter++
	im.pending = append(im.pending, ev)
	if len(im.pending) >= im.cfg.MaxBatchEvents {
		return im.Flush(ctx)
	}
	return nil
}

// stamp sets the envelope of an event; Flush replaces the id with the final one.
func (im *Import) stamp(ev *reservation.Event, at time.Time) {
	ev.V = reservation.EventSchemaVersion
	ev.Source = im.cfg.Source
	ev.ID = im.cfg.Source
	ev.At = at
}

// Flush publishes the queued events and updates the Store. The exchange calls it at
// the end of every file so that "success" means the file's events are durable.
func (im *Import) Flush(ctx context.Context) error {
	if len(im.pending) > 0 {
		if err := im.publish(ctx); err != nil {
			return err
		}
	}
	return im.updateStore(ctx)
}

func (im *Import) publish(ctx context.Context) error {
	n := len(im.pending)
	first, err := im.store.ReserveSeqs(ctx, im.cfg.Source, n)
	if err != nil {
		return fmt.Errorf("cmlevents: reserve seqs: %w", err)
	}
	im.msgs = im.msgs[:0]
	for i := range im.pending {
		ev := &im.pending[i]
		ev.Seq = first + uint64(i)
		ev.ID = im.cfg.Source + ":" + strconv.FormatUint(ev.Seq, 10)
		data, err := reservation.EncodeEvent(ev)
		if err != nil {
			panic("cmlevents: an event validated when queued fails to encode: " + err.Error())
		}
		im.msgs = append(im.msgs, Message{Key: []byte(ev.SKU), Value: data})
	}
	if err := im.sink.Publish(ctx, im.msgs); err != nil {
		return &PublishError{Events: n, Err: err}
	}
	if im.sum.FirstSeq == 0 {
		im.sum.FirstSeq = first
	}
	im.sum.LastSeq = first + uint64(n) - 1
	im.sum.Events += n
	im.sum.Batches++
	im.events.Add(int64(n))
	clear(im.pending)
	im.pending = im.pending[:0]
	clear(im.msgs)
	im.msgs = im.msgs[:0]
	return nil
}

// updateStore remembers the offers seen and forgets the deleted ones, per catalog.
func (im *Import) updateStore(ctx context.Context) error {
	for len(im.remember) > 0 {
		catalog := im.remember[0].catalog
		n := 1
		for n < len(im.remember) && im.remember[n].catalog == catalog {
			n++
		}
		if !im.storeFull {
			offers := make([]KnownOffer, n)
			for i := range n {
				offers[i] = im.remember[i].offer
			}
			if err := im.store.Remember(ctx, im.cfg.Source, catalog, offers); err != nil {
				if !errors.Is(err, ErrStoreFull) {
					return fmt.Errorf("cmlevents: remember offers: %w", err)
				}
				im.storeFull = true
				im.warn("", 0, WarnStoreFull, err.Error()+"; offers are no longer remembered, later missing reports are incomplete")
			}
		}
		im.remember = im.remember[n:]
	}
	im.remember = nil
	for len(im.forget) > 0 {
		catalog := im.forget[0].catalog
		var skus []string
		n := 0
		for n < len(im.forget) && im.forget[n].catalog == catalog {
			skus = append(skus, im.forget[n].offer.SKU)
			n++
		}
		if err := im.store.Forget(ctx, im.cfg.Source, catalog, skus); err != nil {
			return fmt.Errorf("cmlevents: forget offers: %w", err)
		}
		im.forget = im.forget[n:]
	}
	im.forget = nil
	return nil
}

// Finish publishes what is queued, then reports, for every catalog read as a full
// snapshot, the offers the Store knows that the snapshot lacked, zeroing them when
// Config.ZeroMissing is set. The Import cannot be used after Finish.
func (im *Import) Finish(ctx context.Context) (Summary, error) {
	if im.finished {
		return im.sum, ErrFinished
	}
	if err := im.Flush(ctx); err != nil {
		return im.sum, err
	}
	for _, catalog := range im.snapOrder {
		if err := im.missing(ctx, catalog, im.snapshots[catalog]); err != nil {
			return im.sum, err
		}
	}
	if err := im.Flush(ctx); err != nil {
		return im.sum, err
	}
	im.finished = true
	im.snapshots, im.snapOrder = nil, nil
	return im.sum, nil
}

func (im *Import) missing(ctx context.Context, catalog string, snap *snapshot) error {
	if snap.overflow {
		return nil
	}
	return im.store.Missing(ctx, im.cfg.Source, catalog, snap.has, func(o KnownOffer) error {
		im.sum.MissingCount++
		if len(im.sum.Missing) < im.cfg.MaxMissingListed {
			im.sum.Missing = append(im.sum.Missing, o.SKU)
		}
		if !im.cfg.ZeroMissing {
			return nil
		}
		im.forget = append(im.forget, catalogOffer{catalog: catalog, offer: KnownOffer{SKU: o.SKU}})
		im.pkg = pkgState{catalog: catalog, at: snap.at}
		for _, wh := range o.Warehouses {
			ev := reservation.Event{Type: reservation.EventStockSet, SKU: o.SKU, Warehouse: wh, Qty: 0}
			before := im.sum.Zeroed
			if err := im.add(ctx, "", 0, ev, &im.sum.Zeroed); err != nil {
				return err
			}
			if im.sum.Zeroed > before {
				im.countWarehouse(wh)
			}
		}
		return nil
	})
}

// hashSKU is the 64-bit FNV-1a hash a snapshot keeps per offer.
func hashSKU(sku string) uint64 {
	const offset64, prime64 = 14695981039346656037, 1099511628211
	h := uint64(offset64)
	for i := 0; i < len(sku); i++ {
		h ^= uint64(sku[i])
		h *= prime64
	}
	return h
}
