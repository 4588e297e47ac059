// Package orders hands the orders stockd holds stock for over to 1C, in
// both ways 1C takes them.
//
// Source is the exchange.OrderSource of the 1C exchange protocol
// (type=sale&mode=query, then mode=success): it serves the ledger's
// confirmed holds — website orders and marketplace orders alike — that
// the account's 1C base has not taken yet, as CommerceML "Заказ товара"
// documents, and on success records durably (Store, FileStore) that the
// base took them. With HandoffOnSuccess it also hands the holds off to 1C
// in the same step; docs/ORDERS.md explains when that is safe (1C must
// lower its free stock before stockd's hold goes, or channels briefly see
// the units twice). It also counts and logs the order states 1C uploads
// (type=sale&mode=file, OrdersUpdated).
//
// Publisher writes each confirmed order as a JSON message to the Kafka
// topic orders.out (key = order id), and each cancellation of one, for 1C
// integrations that read Kafka instead of polling the exchange. It queues
// in memory (bounded, no encoding or I/O on the caller's path) and writes
// in the background with retries; Acked tells the owner which messages the
// brokers took, so it can record them durably.
//
//	src, err := orders.NewSource(orders.SourceConfig{Ledger: l, Store: store, Location: msk})
//	h, err := exchange.New(exchange.Options{..., Orders: src})
//
//	pub, err := orders.NewPublisher(orders.PublisherConfig{Writer: kafkaWriter, Now: time.Now})
//	go pub.Run(ctx)
//	pub.Confirmed(hold) // after the hold's confirmation is durable
package orders
