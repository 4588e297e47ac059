// Package cmlevents turns parsed CommerceML into the 1C events of topic onec.events
// (reservation.Event as JSON, Kafka key = SKU).
//
// An Import is a commerceml.Visitor. It maps what 1C sends to events:
//
//   - an offer's stock per warehouse → stock.set (absolute; 1C Склад Ид mapped to our
//     warehouse id through Config.Warehouses, unmapped ids kept as they are; several 1C
//     warehouses mapped to one of ours are summed exactly before flooring);
//   - an offer with only a total (Количество, Остаток/Количество) → stock.set to
//     Config.DefaultWarehouse;
//   - an offer without any stock element → no stock event (no information is not zero);
//   - prices of the price types configured by Ид (Config.PriceTypes) → price.set with
//     the exact decimal; other price types are counted and skipped;
//   - catalog products → item.upsert (article, name, barcodes); services are skipped;
//   - deleted products and offers (Статус="Удален", ПометкаУдаления) → item.delete.
//
// Fractional quantities are floored and counted. `at` is the file's ДатаФормирования
// read in Config.Location (never later than the import time), or the import time when
// the file has none; `seq` increases per source without gaps, reserved from a Store.
//
// A package with СодержитТолькоИзменения="false" is a full snapshot of its catalog:
// offers the source reported before (the Store remembers them per source and catalog)
// that the snapshot lacks are listed in the Summary, and zeroed with stock.set 0 only
// when Config.ZeroMissing is set. The report is made by Finish, once every file of the
// exchange has been read, so a snapshot split over several files is judged whole.
//
// Events leave through a Sink in batches of at most Config.MaxBatchEvents, so a file of
// millions of offers never buffers more than one batch.
//
// Use:
//
//	imp, err := cmlevents.NewImport(cfg, store, sink, time.Now())
//	if err != nil { … }
//	r, _ := commerceml.NewReader(commerceml.DefaultLimits())
//	if _, err := commerceml.Import(ctx, r, paths, imp); err != nil { … }
//	sum, err := imp.Finish(ctx) // publishes the rest, reports offers missing from full snapshots
package cmlevents
