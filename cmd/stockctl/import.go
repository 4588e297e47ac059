package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	_ "time/tzdata" // -tz works on machines without a zoneinfo database

	"stockd/adapters/kafka"
	"stockd/adapters/onec/cmlevents"
	"stockd/adapters/onec/commerceml"
)

const importUsage = `usage: stockctl import [flags] FILE|ZIP|DIR...

Reads CommerceML files (import*.xml, offers*.xml, prices*.xml, rests*.xml, zips of them,
or directories holding them), turns them into 1C events and publishes them either
straight to Kafka (-brokers) or through a running stockd (-url, POST /v1/events).

flags:
`

// Limits of POST /v1/events (adapters/httpapi): events and bytes per request.
const (
	maxEventsPerPost = 10_000
	maxBytesPerPost  = 1 << 20
	maxPostAttempts  = 5
	maxRetryWait     = 30 * time.Second
	maxStateOffers   = 50_000_000
	missingListed    = 20
	warningsListed   = 20
)

// importOptions are the flags of stockctl import.
type importOptions struct {
	brokers, topic, url, key     string
	events                       cmlevents.Config
	tz, state, progress          string
	seqStart                     uint64
	batch                        int
	timeout                      time.Duration
	dryRun                       bool
	warehouseMap, priceTypeMap   mapFlag
	zeroMissing, unspecifiedFull bool
}

// mapFlag is a repeatable FROM=TO flag.
type mapFlag map[string]string

func (m mapFlag) String() string { return fmt.Sprint(map[string]string(m)) }

func (m mapFlag) Set(v string) error {
	from, to, ok := strings.Cut(v, "=")
	if !ok || from == "" || to == "" {
		return fmt.Errorf("want FROM=TO, got %q", v)
	}
	m[from] = to
	return nil
}

func parseImportFlags(args []string, stderr io.Writer, getenv func(string) string) (*importOptions, []string, error) {
	o := &importOptions{warehouseMap: mapFlag{}, priceTypeMap: mapFlag{}}
	fs := flag.NewFlagSet("stockctl import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, importUsage); fs.PrintDefaults() }
	fs.StringVar(&o.brokers, "brokers", getenv("STOCKD_KAFKA_BROKERS"), "Kafka brokers host:port,…: publish straight to Kafka")
	fs.StringVar(&o.topic, "topic", firstNonEmpty(getenv("STOCKD_EVENTS_TOPIC"), "onec.events"), "Kafka topic of the events")
	fs.StringVar(&o.url, "url", getenv("STOCKD_URL"), "stockd base URL: publish through POST /v1/events")
	fs.StringVar(&o.key, "key", getenv("STOCKD_API_KEY"), "API key with the events scope (with -url)")
	source := fs.String("source", "1c-commerceml", "event source: names the 1C base; seq increases per source")
	fs.StringVar(&o.events.DefaultWarehouse, "default-warehouse", "", "warehouse for offers that give only a total quantity")
	fs.Var(o.warehouseMap, "warehouse", "1C Склад Ид=our warehouse id (repeatable; unmapped ids are used as they are)")
	fs.Var(o.priceTypeMap, "price-type", "1C ТипЦены Ид=our price type (repeatable; only these prices are published)")
	fs.StringVar(&o.events.DefaultCurrency, "currency", "", "ISO currency for prices that name none")
	fs.BoolVar(&o.zeroMissing, "zero-missing", false, "send stock 0 for offers a full snapshot no longer lists (needs -state)")
	fs.BoolVar(&o.unspecifiedFull, "unspecified-is-full", false, "read packages without СодержитТолькоИзменения as full snapshots")
	fs.StringVar(&o.tz, "tz", "Local", "time zone of ДатаФормирования, e.g. Europe/Moscow")
	fs.StringVar(&o.state, "state", "", "JSON file keeping the source's seq and known offers between runs")
	fs.Uint64Var(&o.seqStart, "seq-start", 0, "seq before the first event (0: the clock in microseconds, without -state); with -state the saved seqs continue, never below it")
	fs.IntVar(&o.batch, "batch", 5000, "events per publish (at most 10000)")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "timeout of one HTTP request")
	fs.BoolVar(&o.dryRun, "dry-run", false, "parse and print the summary; publish nothing")
	fs.StringVar(&o.progress, "progress", "auto", "progress on stderr: auto, bar, lines or off")
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return nil, nil, errors.New("import: name at least one file, zip or directory")
	}
	cfg := cmlevents.DefaultConfig(*source)
	cfg.DefaultWarehouse, cfg.DefaultCurrency = o.events.DefaultWarehouse, o.events.DefaultCurrency
	cfg.Warehouses, cfg.PriceTypes = o.warehouseMap, o.priceTypeMap
	cfg.ZeroMissing, cfg.UnspecifiedIsFull = o.zeroMissing, o.unspecifiedFull
	loc, err := time.LoadLocation(o.tz)
	if err != nil {
		return nil, nil, fmt.Errorf("import: -tz: %w", err)
	}
	cfg.Location = loc
	switch o.progress {
	case "auto", "bar", "lines", "off":
	default:
		return nil, nil, fmt.Errorf("import: -progress %q: auto, bar, lines or off", o.progress)
	}
	if o.batch < 1 || o.batch > maxEventsPerPost {
		return nil, nil, fmt.Errorf("import: -batch must be 1..%d", maxEventsPerPost)
	}
	cfg.MaxBatchEvents = o.batch
	if err := cfg.Validate(); err != nil {
		return nil, nil, fmt.Errorf("import: %w", err)
	}
	o.events = cfg
	if o.brokers != "" && o.url != "" {
		// one named on the command line wins over the other's environment
		// default (STOCKD_KAFKA_BROKERS beside -url, STOCKD_URL beside
		// -brokers)
		explicit := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
		switch {
		case explicit["url"] && !explicit["brokers"]:
			o.brokers = ""
		case explicit["brokers"] && !explicit["url"]:
			o.url = ""
		}
	}
	switch {
	case o.dryRun:
	case o.brokers == "" && o.url == "":
		return nil, nil, errors.New("import: give -brokers (Kafka) or -url (stockd), or -dry-run")
	case o.brokers != "" && o.url != "":
		return nil, nil, errors.New("import: give -brokers or -url, not both")
	}
	return o, fs.Args(), nil
}

// runImport is `stockctl import FILE|ZIP|DIR...`.
func runImport(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	o, args, err := parseImportFlags(args, stderr, getenv)
	if err != nil {
		return err
	}
	files, err := importFiles(args)
	if err != nil {
		return err
	}
	store, saveState, err := openState(o)
	if err != nil {
		return err
	}
	sink, closeSink, err := openSink(o)
	if err != nil {
		return err
	}
	defer closeSink()
	imp, err := cmlevents.NewImport(o.events, store, sink, time.Now())
	if err != nil {
		return err
	}
	reader, err := commerceml.NewReader(commerceml.DefaultLimits())
	if err != nil {
		return err
	}
	prog := newProgress(stderr, o.progress, files, imp)
	prog.start()
	rsum, readErr := readFiles(ctx, reader, files, imp, prog)
	var sum cmlevents.Summary
	if readErr == nil {
		sum, readErr = imp.Finish(ctx)
	} else {
		sum = imp.Summary()
	}
	prog.stop()
	printSummary(stdout, o, files, rsum, sum)
	var saveErr error
	if !o.dryRun {
		// saved after a failure too: the seqs of batches already published
		// are used, and the next run must not hand them out again (it
		// leaves a gap instead, which the next full snapshot heals)
		saveErr = saveState()
	}
	if readErr != nil {
		return errors.Join(fmt.Errorf("import: %w", readErr), saveErr)
	}
	return saveErr
}

// importFile is one input: a CommerceML document or a zip of them.
type importFile struct {
	path string
	size int64
	zip  bool
}

// importFiles expands directories (their .xml and .zip files) and orders the files as
// 1C uploads them: classifier, import, offers, prices, rests, documents; others last.
func importFiles(args []string) ([]importFile, error) {
	var out []importFile
	add := func(p string, info os.FileInfo) {
		out = append(out, importFile{path: p, size: info.Size(), zip: strings.EqualFold(filepath.Ext(p), ".zip")})
	}
	for _, a := range args {
		info, err := os.Stat(a)
		if err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
		if !info.IsDir() {
			add(a, info)
			continue
		}
		entries, err := os.ReadDir(a)
		if err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
		for _, e := range entries {
			ext := strings.ToLower(filepath.Ext(e.Name()))
			if e.IsDir() || (ext != ".xml" && ext != ".zip") {
				continue
			}
			p := filepath.Join(a, e.Name())
			info, err := os.Stat(p)
			if err != nil {
				return nil, fmt.Errorf("import: %w", err)
			}
			add(p, info)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		ri, rj := fileRank(out[i].path), fileRank(out[j].path)
		if ri != rj {
			return ri < rj
		}
		return out[i].path < out[j].path
	})
	return out, nil
}

func fileRank(p string) int {
	base := strings.ToLower(filepath.Base(p))
	for i, prefix := range []string{"classifier", "import", "offers", "prices", "rests", "documents", "orders"} {
		if strings.HasPrefix(base, prefix) {
			return i
		}
	}
	return 99
}

// readFiles reads every file with one reader (declarations carry over from file to
// file). Plain XML is read through a byte counter for the progress bar; a zip goes
// through commerceml.Import, which checks its entries and reads its documents in order.
func readFiles(ctx context.Context, r *commerceml.Reader, files []importFile, v commerceml.Visitor, prog *progress) (commerceml.Summary, error) {
	var total commerceml.Summary
	add := func(s commerceml.Summary) {
		total.Files += s.Files
		total.Offers += s.Offers
		total.Products += s.Products
		total.StockCells += s.StockCells
		total.StockTotals += s.StockTotals
		total.Prices += s.Prices
		total.WarningCount += s.WarningCount
	}
	for _, f := range files {
		prog.setFile(f.path)
		if f.zip {
			s, err := commerceml.Import(ctx, r, []string{f.path}, v)
			add(s)
			if err != nil {
				return total, err
			}
			prog.done.Add(f.size)
			continue
		}
		fh, err := os.Open(f.path)
		if err != nil {
			return total, err
		}
		s, err := r.Read(ctx, f.path, &countingReader{r: fh, n: &prog.done}, v)
		fh.Close()
		add(s)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// openState opens the -state file (or an empty store when it does not exist
// yet), or, without -state, a store in memory whose seqs start after
// -seq-start or the clock.
func openState(o *importOptions) (cmlevents.Store, func() error, error) {
	if o.state == "" {
		base := o.seqStart
		if base == 0 {
			base = uint64(time.Now().UnixMicro())
		}
		return cmlevents.NewMemoryStore(base, maxStateOffers), func() error { return nil }, nil
	}
	store, err := cmlevents.OpenFileStore(o.state, o.seqStart, maxStateOffers)
	if err != nil {
		return nil, nil, fmt.Errorf("import: -state: %w", err)
	}
	save := func() error {
		if err := store.Flush(); err != nil {
			return fmt.Errorf("import: save state: %w", err)
		}
		return nil
	}
	return store, save, nil
}

func openSink(o *importOptions) (cmlevents.Sink, func(), error) {
	switch {
	case o.dryRun:
		return cmlevents.DiscardSink{}, func() {}, nil
	case o.brokers != "":
		w, err := kafka.NewWriter(kafka.DefaultWriterConfig(kafka.SplitBrokers(o.brokers), o.topic))
		if err != nil {
			return nil, nil, fmt.Errorf("import: %w", err)
		}
		return cmlevents.WriterSink{W: w}, func() { _ = w.Close() }, nil
	}
	s := &eventsPoster{url: strings.TrimRight(o.url, "/") + "/v1/events", key: o.key, http: &http.Client{Timeout: o.timeout}}
	return s, s.http.CloseIdleConnections, nil
}

// eventsPoster publishes through stockd's POST /v1/events as NDJSON, at most
// maxEventsPerPost events and maxBytesPerPost bytes per request. 503 and 429 are
// retried after Retry-After; 422 lists the refused events.
type eventsPoster struct {
	url, key string
	http     *http.Client
}

var _ cmlevents.Sink = (*eventsPoster)(nil)

func (p *eventsPoster) Publish(ctx context.Context, msgs []cmlevents.Message) error {
	var body bytes.Buffer
	n := 0
	for _, m := range msgs {
		if n > 0 && (n == maxEventsPerPost || body.Len()+len(m.Value)+1 > maxBytesPerPost) {
			if err := p.post(ctx, body.Bytes(), n); err != nil {
				return err
			}
			body.Reset()
			n = 0
		}
		body.Write(m.Value)
		body.WriteByte('\n')
		n++
	}
	if n == 0 {
		return nil
	}
	return p.post(ctx, body.Bytes(), n)
}

func (p *eventsPoster) post(ctx context.Context, body []byte, events int) error {
	for attempt := 1; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-ndjson")
		if p.key != "" {
			req.Header.Set("Authorization", "Bearer "+p.key)
		}
		resp, err := p.http.Do(req)
		if err != nil {
			return fmt.Errorf("POST /v1/events: %w", err)
		}
		reply, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusAccepted:
			return nil
		case http.StatusServiceUnavailable, http.StatusTooManyRequests:
			if attempt == maxPostAttempts {
				return fmt.Errorf("POST /v1/events: %d after %d attempts: %s", resp.StatusCode, attempt, reply)
			}
			if err := sleepCtx(ctx, retryAfter(resp.Header.Get("Retry-After"), attempt)); err != nil {
				return err
			}
		case http.StatusUnprocessableEntity:
			return fmt.Errorf("POST /v1/events: %d of a batch of %d refused, nothing of it accepted: %s", resp.StatusCode, events, reply)
		default:
			return fmt.Errorf("POST /v1/events: %d: %s", resp.StatusCode, reply)
		}
	}
}

// retryAfter reads Retry-After seconds (else backs off 1, 2, 4… s), at most maxRetryWait.
func retryAfter(header string, attempt int) time.Duration {
	if s, err := strconv.Atoi(strings.TrimSpace(header)); err == nil && s >= 0 {
		return min(time.Duration(s)*time.Second, maxRetryWait)
	}
	return min(time.Second<<(attempt-1), maxRetryWait)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// progress draws bytes read of the total and offers per second on stderr: a bar
// redrawn in place on a terminal, a plain line every few seconds otherwise.
type progress struct {
	w       io.Writer
	mode    string // bar, lines or off
	total   int64
	done    atomic.Int64
	imp     *cmlevents.Import
	started time.Time
	mu      sync.Mutex
	file    string
	quit    chan struct{}
	wg      sync.WaitGroup
}

func newProgress(w io.Writer, mode string, files []importFile, imp *cmlevents.Import) *progress {
	p := &progress{w: w, mode: mode, imp: imp, started: time.Now(), quit: make(chan struct{})}
	for _, f := range files {
		p.total += f.size
	}
	if p.mode == "auto" {
		p.mode = "lines"
		if isTerminal(w) {
			p.mode = "bar"
		}
	}
	return p
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

func (p *progress) setFile(path string) {
	p.mu.Lock()
	p.file = filepath.Base(path)
	p.mu.Unlock()
}

func (p *progress) start() {
	if p.mode == "off" {
		return
	}
	every := 2 * time.Second
	if p.mode == "bar" {
		every = 200 * time.Millisecond
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-p.quit:
				return
			case <-t.C:
				p.draw(false)
			}
		}
	}()
}

func (p *progress) stop() {
	close(p.quit)
	p.wg.Wait()
	if p.mode != "off" {
		p.draw(true)
	}
}

func (p *progress) draw(final bool) {
	done, total := p.done.Load(), max(p.total, 1)
	offers, events := p.imp.Progress()
	elapsed := time.Since(p.started).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(offers) / elapsed
	}
	p.mu.Lock()
	file := p.file
	p.mu.Unlock()
	pct := min(100*done/total, 100)
	line := fmt.Sprintf("%3d%% %s/%s  %d offers  %.0f offers/s  %d events  %s",
		pct, sizeText(done), sizeText(p.total), offers, rate, events, file)
	if p.mode == "bar" {
		const width = 30
		filled := int(pct) * width / 100
		fmt.Fprintf(p.w, "\r[%s%s] %s\033[K", strings.Repeat("#", filled), strings.Repeat(".", width-filled), line)
		if final {
			fmt.Fprintln(p.w)
		}
		return
	}
	fmt.Fprintln(p.w, "import:", line)
}

func sizeText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func printSummary(w io.Writer, o *importOptions, files []importFile, r commerceml.Summary, s cmlevents.Summary) {
	var size int64
	for _, f := range files {
		size += f.size
	}
	fmt.Fprintf(w, "files        %d (%s), %d documents\n", len(files), sizeText(size), r.Files)
	fmt.Fprintf(w, "offers       %d (%d without stock, %d with a total only)\n", s.Offers, s.NoStock, s.TotalOnly)
	fmt.Fprintf(w, "stock cells  %d stock.set (%d fractional floored, %d negative)\n", s.StockSets, s.Fractional, s.Negative)
	fmt.Fprintf(w, "prices       %d price.set (%d of unconfigured price types skipped)\n", s.Prices, s.PricesSkipped)
	fmt.Fprintf(w, "items        %d item.upsert, %d item.delete (%d services skipped)\n", s.Items, s.Deletes, s.Services)
	if o.dryRun {
		fmt.Fprintf(w, "events       %d (dry run: nothing published)\n", s.StockSets+s.Prices+s.Items+s.Deletes+s.Zeroed)
	} else {
		fmt.Fprintf(w, "events       %d published in %d batches, seq %d..%d\n", s.Events, s.Batches, s.FirstSeq, s.LastSeq)
	}
	fmt.Fprintf(w, "missing      %d offers no longer in a full snapshot (%d full snapshots; %d zero figures sent)\n",
		s.MissingCount, s.FullSnapshots, s.Zeroed)
	for i, sku := range s.Missing {
		if i == missingListed {
			fmt.Fprintf(w, "  … %d more\n", s.MissingCount-missingListed)
			break
		}
		fmt.Fprintf(w, "  %s\n", sku)
	}
	fmt.Fprintf(w, "warnings     %d (%d dropped figures)\n", s.WarningCount, s.Dropped)
	for i, warn := range s.Warnings {
		if i == warningsListed {
			fmt.Fprintf(w, "  … %d more\n", s.WarningCount-warningsListed)
			break
		}
		fmt.Fprintf(w, "  %s\n", warn)
	}
}
