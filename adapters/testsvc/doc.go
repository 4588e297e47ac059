// Package testsvc gives tests the services they run against: the address of the real Kafka
// broker and the URL of the PostgreSQL database that scripts/services.sh started, an
// in-process Kafka-protocol broker (franz-go's kfake) for fast tests, and unique names so that
// tests sharing one broker or one database never collide.
//
// A test that needs a real service asks for it and is skipped when it is not there, except
// under CI (CI=true), where a missing service fails the test:
//
//	func TestJournal(t *testing.T) {
//		url := testsvc.SchemaURL(t) // a fresh schema in $STOCKD_TEST_DATABASE_URL, dropped afterwards
//		brokers := testsvc.KafkaBrokers(t)
//		fast := testsvc.Kfake(t, 4, "onec.events")
//		topic := testsvc.UniqueName(t, "events")
//		...
//	}
//
// Start the services with `eval "$(scripts/services.sh up)"`, or run `make test`.
package testsvc
