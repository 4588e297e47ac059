package testsvc

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Kfake starts an in-process Kafka-protocol broker (franz-go's kfake, one node, listening on
// 127.0.0.1 on a random port) with the given topics already created with the given number of
// partitions, and returns its addresses. The broker is closed when the test ends. Other topics
// are created with a CreateTopics request (kafka.CreateTopic); as on the broker that
// scripts/services.sh starts, nothing is created automatically.
func Kfake(tb testing.TB, partitions int, topics ...string) []string {
	tb.Helper()
	if partitions < 1 {
		tb.Fatalf("testsvc: Kfake needs at least one partition, got %d", partitions)
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.DefaultNumPartitions(partitions),
	}
	if len(topics) > 0 {
		opts = append(opts, kfake.SeedTopics(int32(partitions), topics...))
	}
	cluster, err := kfake.NewCluster(opts...)
	if err != nil {
		tb.Fatalf("testsvc: start kfake: %v", err)
	}
	tb.Cleanup(cluster.Close)
	return cluster.ListenAddrs()
}
