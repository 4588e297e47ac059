// Package kafka connects stockd to Apache Kafka through segmentio/kafka-go: writers that wait
// for every in-sync replica (acks=all) and hash keys to partitions like the Java client, group
// readers that commit only when told (FetchMessage, then CommitMessages once the effect is
// durable), and topic creation that waits until every partition has a leader.
//
// Every kafka-go option is set here from a Config whose defaults are written down, so that no
// library default (a 1 s batch timeout, acks=1, commits before processing) slips in:
//
//	if err := kafka.CreateTopic(ctx, brokers, "onec.events", 12); err != nil { ... }
//	w, err := kafka.NewWriter(kafka.DefaultWriterConfig(brokers, "onec.events"))
//	...
//	err = w.WriteMessages(ctx, kafkago.Message{Key: []byte(sku), Value: event})
//	...
//	r, err := kafka.NewReader(kafka.DefaultReaderConfig(brokers, "onec.events", "stockd"))
//	m, err := r.FetchMessage(ctx)
//	// apply m and make the effect durable, then:
//	err = r.CommitMessages(ctx, m)
package kafka
