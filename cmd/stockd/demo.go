package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"stockd/adapters/httpapi"
	"stockd/adapters/kafka"
	"stockd/adapters/onec/commerceml"
	"stockd/adapters/onec/exchange"
	"stockd/adapters/onec/onecsim"
	"stockd/engine"
	"stockd/reservation"
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
	ordersPerMinute := fs.Float64("orders-per-minute", 3, "simulated orders per minute on each marketplace (0: none)")
	exchangeEvery := fs.Duration("onec-exchange-interval", 30*time.Second, "how often the simulated 1C takes orders over the 1C exchange (0: never)")
	otlp := fs.String("otlp", "", "export traces and metrics to a local OpenTelemetry collector, e.g. http://127.0.0.1:4318 (4317: gRPC)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *skus < 1 || *skus > onecsim.MaxSKUs || *rate < 0 || *ordersPerMinute < 0 {
		return fmt.Errorf("demo: -skus must be 1..%d, -rate and -orders-per-minute not negative", onecsim.MaxSKUs)
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
	if *dir != "" {
		// The embedded broker starts empty each run, its offsets at 0, while
		// a kept journal remembers the last run's: under the same topic
		// names the new run's events would be taken as applied already.
		run := time.Now().UTC().Format("20060102T150405")
		for _, t := range []*string{&cfg.Kafka.EventsTopic, &cfg.Kafka.DLQTopic, &cfg.Kafka.OrdersTopic} {
			*t += "." + run
		}
	}
	broker, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.SeedTopics(demoPartitions, cfg.Kafka.EventsTopic, cfg.Kafka.DLQTopic, cfg.Kafka.OrdersTopic),
	)
	if err != nil {
		return fmt.Errorf("start the embedded Kafka-protocol broker: %w", err)
	}
	defer broker.Close()
	cfg.Kafka.Brokers = broker.ListenAddrs()

	markets, err := startDemoMarkets(dataDir, *skus, *ordersPerMinute)
	if err != nil {
		return fmt.Errorf("start the simulated marketplaces: %w", err)
	}
	defer markets.close(context.Background())
	cfg.Feeds = markets.feeds()
	cfg.Orders.Publish = true
	cfg.Orders.PollIntervals = map[string]time.Duration{}
	for _, f := range cfg.Feeds {
		cfg.Orders.PollIntervals[f.Name] = demoPollInterval
	}
	exchangePassword, err := newDemoKey()
	if err != nil {
		return err
	}
	cfg.OneC.Exchange.Accounts = []exchange.Account{{Login: demoExchangeLogin,
		PasswordHash: exchange.HashPasswordSHA256(exchangePassword), OrdersContainer: true, OrdersSchemaVersion: "3.1"}}

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := newLogger(stderr, level)
	if err := demoOTLP(&cfg.Telemetry, *otlp); err != nil {
		return err
	}
	tel, stopTel, err := setupTelemetry(ctx, cfg)
	if err != nil {
		return err
	}
	defer stopTel()
	stopViolations, err := observeDemoViolations(tel, markets)
	if err != nil {
		return err
	}
	defer stopViolations()
	eng, err := engine.Open(ctx, cfg, engine.Deps{Logger: log, Secrets: markets.secrets, Telemetry: tel})
	if err != nil {
		return err
	}
	printDemoBanner(stdout, eng.HTTPAddr(), cfg, demoKey, *skus, *rate, markets)
	printOrderBanner(stdout, eng.HTTPAddr(), cfg, exchangePassword, *ordersPerMinute, *exchangeEvery)
	simDone := make(chan error, 2)
	simCtx, stopSim := context.WithCancel(ctx)
	go func() { simDone <- runOneCSim(simCtx, cfg.Kafka, *skus, *rate, log) }()
	go func() {
		simDone <- runOneCOrders(simCtx, "http://"+eng.HTTPAddr()+"/1c/exchange", exchangePassword, *exchangeEvery, cfg.Kafka, log)
	}()
	err = eng.Run(ctx)
	stopSim()
	for range 2 {
		if simErr := <-simDone; simErr != nil {
			log.Warn("simulated 1C stopped", "err", simErr)
		}
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

// demoExchangeLogin is the simulated 1C base's account on the 1C exchange.
const demoExchangeLogin = "demo-1c"

// demoHandoffSource names the hand-off events of the simulated 1C (a
// source of its own, so its seq runs apart from the stock stream's).
const demoHandoffSource = "demo-1c-orders"

// runOneCOrders plays 1C taking orders over the exchange protocol: every
// interval checkauth → init → type=sale&mode=query → mode=success, then one
// reservation.handoff event per order taken. The simulated stock stream
// does not book orders into its figures, so the hand-off event is what
// ends each hold (DESIGN: for sources whose figures cannot name orders).
func runOneCOrders(ctx context.Context, exchangeURL, password string, every time.Duration, kc engine.KafkaConfig, log *slog.Logger) error {
	if every <= 0 {
		return nil
	}
	w, err := kafka.NewWriter(kafka.DefaultWriterConfig(kc.Brokers, kc.EventsTopic))
	if err != nil {
		return err
	}
	defer w.Close()
	client := &http.Client{Timeout: 30 * time.Second}
	seq := uint64(time.Now().UnixMicro()) // increases across runs of a kept -dir
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		ids, err := takeOrders(ctx, client, exchangeURL, password)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			log.Warn("simulated 1C: order exchange failed", "err", err)
			continue
		}
		if len(ids) == 0 {
			continue
		}
		msgs := make([]kafkago.Message, 0, len(ids))
		for _, id := range ids {
			seq++
			ev := reservation.Event{V: reservation.EventSchemaVersion, ID: fmt.Sprintf("%s-%d", demoHandoffSource, seq),
				Source: demoHandoffSource, Seq: seq, At: time.Now(), Type: reservation.EventReservationHandoff, ReservationID: id}
			data, err := reservation.EncodeEvent(&ev)
			if err != nil {
				return err
			}
			msgs = append(msgs, kafkago.Message{Key: []byte(engine.EventKey(&ev)), Value: data})
		}
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			log.Warn("simulated 1C: hand-off events not sent", "orders", len(ids), "err", err)
			continue
		}
		log.Info("simulated 1C took orders over the exchange and handed them off", "orders", len(ids))
	}
}

// takeOrders runs one type=sale exchange and returns the ids of the orders
// 1C took.
func takeOrders(ctx context.Context, client *http.Client, exchangeURL, password string) ([]string, error) {
	get := func(mode, cookie string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, exchangeURL+"?type=sale&mode="+mode, nil)
		if err != nil {
			return nil, err
		}
		if cookie == "" {
			req.SetBasicAuth(demoExchangeLogin, password)
		} else {
			req.Header.Set("Cookie", cookie)
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		if err == nil && (resp.StatusCode != http.StatusOK || bytes.HasPrefix(body, []byte("failure"))) {
			err = fmt.Errorf("mode=%s: %d %s", mode, resp.StatusCode, bytes.TrimSpace(body))
		}
		return body, err
	}
	auth, err := get("checkauth", "")
	if err != nil {
		return nil, err
	}
	lines := strings.Split(string(auth), "\n")
	if len(lines) < 3 || lines[0] != "success" {
		return nil, fmt.Errorf("checkauth: %q", auth)
	}
	cookie := lines[1] + "=" + lines[2]
	if _, err := get("init", cookie); err != nil {
		return nil, err
	}
	doc, err := get("query", cookie)
	if err != nil {
		return nil, err
	}
	r, err := commerceml.NewReader(commerceml.DefaultLimits())
	if err != nil {
		return nil, err
	}
	var ids []string
	_, err = r.Read(ctx, "orders.xml", bytes.NewReader(doc), commerceml.VisitorFuncs{
		OnOrder: func(_ context.Context, o commerceml.Order) error { ids = append(ids, o.ID); return nil }})
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	if _, err := get("success", cookie); err != nil {
		return nil, err
	}
	return ids, nil
}

// printOrderBanner tells how orders flow in the demo.
func printOrderBanner(w io.Writer, httpAddr string, cfg engine.Config, password string, perMinute float64, every time.Duration) {
	taken := "never (-onec-exchange-interval 0): holds stay until released"
	if every > 0 {
		taken = fmt.Sprintf("every %v over the exchange (type=sale query → success), then handed off with reservation.handoff", every)
	}
	fmt.Fprintf(w, `  orders          simulated buyers place ~%g orders/min on each marketplace (%d%% cancelled) → intake polls every %v → confirmed holds → pushes
    orders.out    every confirmed order as JSON on %s
    1C exchange   http://%s/1c/exchange (login %s, password %s)
    1C takes      %s
Press Ctrl-C to stop.
`, perMinute, int(demoCancelShare*100), demoPollInterval, cfg.Kafka.OrdersTopic, httpAddr, demoExchangeLogin, password, taken)
}
