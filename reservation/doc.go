// Package reservation is stockd's reservation ledger: the one in-memory truth
// about how much of each SKU can still be promised, per warehouse and per
// sales channel.
//
// The ledger does no I/O and reads no clock. Commands go in (Reserve,
// Confirm, Release, Handoff, Expire(now), ApplyEvent for 1C events) and
// decisions and journal records come out as values in an Effects: the engine
// writes the records to its journal (encoded with AppendRecord) before it
// acknowledges anything, and pushes the changed channel quantities to the
// marketplaces. Replaying the same records into an empty ledger with
// ApplyRecord, or into a Restore'd Snapshot, reproduces the state exactly.
//
// # State
//
// Per (SKU, warehouse) the ledger keeps the free stock reported by 1C, the sum
// of active holds and the safety stock; available = free − held − safety,
// never reported below zero. A SKU whose free stock is below what is held is
// short (Short). A kit's availability is the minimum over its components of
// floor(available / qty); holding a kit holds its components, and a basket's
// demand is summed per component before it is checked, so a basket either
// gets all its lines or none.
//
// SKU and warehouse strings are interned to small integer ids; cells live in
// fixed-size pages per warehouse, so a million SKUs in four warehouses fit in
// a few hundred MiB and the hot path allocates nothing.
//
// # Concurrency
//
// A Ledger is single-writer and not safe for concurrent use: the engine owns
// it in one goroutine that drains a bounded queue and batches commands for
// group commit. There are no shards and no locks inside, so a basket over many
// SKUs is trivially atomic and deadlock-free, and every hold is linearizable.
// Guarded wraps a Ledger in one mutex for callers that need to share it. See
// docs/adr/0001-ledger-concurrency.md.
//
// # Journal and recovery
//
// Every state change yields exactly one Record, numbered by Seq without
// gaps; AppendRecord/DecodeRecord are its compact binary form (the journal
// frames and checksums it). Records of 1C events carry their Kafka
// (topic, partition, offset); Offsets tells where consumption resumes.
// Recovery is Restore(snapshot), then ApplyRecord for each later record.
// Reserve records carry their allocations and Expire records the clock
// reading, so replay never re-decides anything.
//
// # Use
//
//	l, err := reservation.New(cfg)
//	var fx reservation.Effects
//	res, err := l.Reserve(reservation.ReserveRequest{
//		ID: "order-1", Channel: "site",
//		Lines: []reservation.Line{{SKU: "sku-1", Qty: 2}},
//	}, now, &fx)
//	for i := range fx.Records {
//		buf = reservation.AppendRecord(buf[:0], &fx.Records[i])
//		// journal buf, then acknowledge res
//	}
//	fx.Reset()
package reservation
