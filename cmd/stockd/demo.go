package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"stockd/adapters/httpapi"
	"stockd/adapters/kafka"
	"stockd/adapters/onec/onecsim"
	"stockd/engine"
)

// demoPartitions is the partition count of the embedded broker's topics.
const demoPartitions = 8

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "HTTP API address (port 0 picks a free one)")
	dir := fs.String("dir", "", "data directory (default: a new temporary directory, removed at exit)")
	duration := fs.Duration("duration", 0, "stop by itself after this long (0: run until Ctrl-C)")
	verbose := fs.Bool("v", false, "log at debug level")
	skus := fs.Int("skus", 3000, "SKUs in the simulated 1C catalog")
	rate := fs.Int("rate", 200, "simulated 1C changes per second after the initial snapshot")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	dataDir, cleanup, err := demoDir(*dir)
	if err != nil {
		return err
	}
	defer cleanup()

	cfg := engine.DefaultConfig()
	cfg.HTTP.Listen = *listen
	cfg.Channels = engine.DemoChannels()
	demoKey, err := newDemoKey()
	if err != nil {
		return err
	}
	cfg.HTTP.APIKeys = []httpapi.APIKey{{Name: "demo", SHA256: httpapi.HashToken(demoKey),
		Scopes: []httpapi.Scope{httpapi.ScopeAdmin}}}
	cfg.Journal.Kind, cfg.Journal.Dir = engine.JournalFile, filepath.Join(dataDir, "journal")
	broker, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.SeedTopics(demoPartitions, cfg.Kafka.EventsTopic, cfg.Kafka.DLQTopic, cfg.Kafka.OrdersTopic),
	)
	if err != nil {
		return fmt.Errorf("start the embedded Kafka-protocol broker: %w", err)
	}
	defer broker.Close()
	cfg.Kafka.Brokers = broker.ListenAddrs()

	markets, err := startDemoMarkets(dataDir, *skus)
	if err != nil {
		return fmt.Errorf("start the simulated marketplaces: %w", err)
	}
	defer markets.close(context.Background())
	cfg.Feeds = markets.feeds()

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := newLogger(stderr, level)
	tel, stopTel, err := setupTelemetry(ctx, cfg)
	if err != nil {
		return err
	}
	defer stopTel()
	eng, err := engine.Open(ctx, cfg, engine.Deps{Logger: log, Secrets: markets.secrets, Telemetry: tel})
	if err != nil {
		return err
	}
	printDemoBanner(stdout, eng.HTTPAddr(), cfg, demoKey, *skus, *rate, markets)
	simDone := make(chan error, 1)
	simCtx, stopSim := context.WithCancel(ctx)
	go func() { simDone <- runOneCSim(simCtx, cfg.Kafka, *skus, *rate, log) }()
	err = eng.Run(ctx)
	stopSim()
	if simErr := <-simDone; simErr != nil {
		log.Warn("simulated 1C stopped", "err", simErr)
	}
	fmt.Fprintf(stdout, "stockd demo stopped; the simulated marketplaces counted %d limit violations\n", markets.violations())
	return err
}

func demoDir(dir string) (string, func(), error) {
	if dir != "" {
		return dir, func() {}, os.MkdirAll(dir, 0o755)
	}
	tmp, err := os.MkdirTemp("", "stockd-demo-")
	if err != nil {
		return "", nil, fmt.Errorf("make a temporary data directory: %w", err)
	}
	return tmp, func() { os.RemoveAll(tmp) }, nil
}

// newDemoKey makes a random API key for this demo run only.
func newDemoKey() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("make a demo API key: %w", err)
	}
	return "demo-" + hex.EncodeToString(b[:]), nil
}

// runOneCSim plays a 1C base: a full snapshot, then rate changes a second.
func runOneCSim(ctx context.Context, kc engine.KafkaConfig, skus, rate int, log *slog.Logger) error {
	w, err := kafka.NewWriter(kafka.DefaultWriterConfig(kc.Brokers, kc.EventsTopic))
	if err != nil {
		return err
	}
	defer w.Close()
	sim := onecsim.New(onecsim.Config{SKUs: skus, Warehouses: []string{"wh-msk", "wh-spb"}, Seed: uint64(time.Now().UnixNano())})
	send := func(msgs []onecsim.Message) error {
		km := make([]kafkago.Message, len(msgs))
		for i, m := range msgs {
			km[i] = kafkago.Message{Key: []byte(m.Key), Value: m.Value}
		}
		return w.WriteMessages(ctx, km...)
	}
	snap := sim.Snapshot(time.Now())
	for start := 0; start < len(snap); start += 1000 {
		if err := send(snap[start:min(start+1000, len(snap))]); err != nil {
			return err
		}
	}
	log.Info("simulated 1C sent its stock and price snapshot", "events", len(snap))
	if rate <= 0 {
		return nil
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if err := send(sim.Next(time.Now(), max(rate/10, 1))); err != nil && ctx.Err() == nil {
			return err
		}
	}
}

func printDemoBanner(w io.Writer, httpAddr string, cfg engine.Config, key string, skus, rate int, m *demoMarkets) {
	base := "http://" + httpAddr
	fmt.Fprintf(w, `stockd demo (started %s)
  HTTP API        %s
    health        %s/healthz
    readiness     %s/readyz
    hold          curl -s -H 'Authorization: Bearer %s' -d '{"id":"order-1","channel":"site","lines":[{"sku":"demo-sku-1","qty":1}]}' %s/v1/reservations
    availability  curl -s -H 'Authorization: Bearer %s' %s/v1/availability/demo-sku-1
  API key         %s (admin scope, this run only)
  channels        %s
  simulated 1C    %d SKUs (demo-sku-1 … demo-sku-%d) in wh-msk and wh-spb, %d changes/s
  marketplaces    Ozon %s, Wildberries %s, Yandex Market %s (simulated, real limits)
    push state    curl -s -H 'Authorization: Bearer %s' %s/v1/channels
    YML feed      %s/feeds/yandexmarket.yml
    metrics       %s/metrics
  Kafka broker    %v (embedded, topics %s, %s, %s)
  journal         %s (file, fsync on)
Press Ctrl-C to stop.
`, time.Now().Format(time.RFC3339), base, base, base, key, base, key, base, key,
		channelNames(cfg.Channels), skus, skus, rate, m.ozon.URL, m.wb.URL, m.ym.URL, key, base, base, base, cfg.Kafka.Brokers,
		cfg.Kafka.EventsTopic, cfg.Kafka.DLQTopic, cfg.Kafka.OrdersTopic, cfg.Journal.Dir)
}

func channelNames(chs []engine.ChannelConfig) string {
	names := make([]string, len(chs))
	for i, ch := range chs {
		names[i] = fmt.Sprintf("%s (%s)", ch.Name, strings.Join(ch.Warehouses, ", "))
	}
	return strings.Join(names, "; ")
}
