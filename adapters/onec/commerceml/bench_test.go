package commerceml

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Fixed IDs of the generated offers file.
const (
	genPriceType  = "279b6812-740b-11e8-80c8-0cc47ab29cd1"
	genWarehouse1 = "6abdb0b5-18fd-11e7-80c2-0cc47ab29cd1"
	genWarehouse2 = "dd306af1-19c9-11e7-80c2-0cc47ab29cd1"
)

// writeOffersFile writes a CommerceML 2.07 offers.xml with n offers in the shape УТ 11
// sends (guid#guid Ид, one price, a total and two warehouse cells: layouts A+B),
// calling onOffer after each offer. It streams: nothing is held in memory.
func writeOffersFile(w io.Writer, n int, onOffer func(i int)) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	fmt.Fprint(bw, "\ufeff"+`<?xml version="1.0" encoding="UTF-8"?>
<КоммерческаяИнформация xmlns="urn:1C.ru:commerceml_2" ВерсияСхемы="2.07" ДатаФормирования="2026-01-01T00:00:00">
	<ПакетПредложений СодержитТолькоИзменения="false">
		<Ид>b21db898-7f82-46d8-a5ca-7c4f1d200a13#</Ид>
		<Наименование>Пакет предложений</Наименование>
		<ИдКаталога>b21db898-7f82-46d8-a5ca-7c4f1d200a13</ИдКаталога>
		<ТипыЦен><ТипЦены><Ид>`+genPriceType+`</Ид><Наименование>BASE</Наименование><Валюта>RUB</Валюта></ТипЦены></ТипыЦен>
		<Склады>
			<Склад><Ид>`+genWarehouse1+`</Ид><Наименование>Москва</Наименование></Склад>
			<Склад><Ид>`+genWarehouse2+`</Ид><Наименование>Казань</Наименование></Склад>
		</Склады>
		<Предложения>
`)
	for i := 0; i < n; i++ {
		q1, q2 := i%7, i%13
		fmt.Fprintf(bw, `			<Предложение>
				<Ид>%08x-1c00-4000-8000-%012x#%08x-2c00-4000-8000-%012x</Ид>
				<Наименование>Товар %d</Наименование>
				<Цены><Цена><ИдТипаЦены>`+genPriceType+`</ИдТипаЦены><ЦенаЗаЕдиницу>%d.%02d</ЦенаЗаЕдиницу><Валюта>RUB</Валюта></Цена></Цены>
				<Количество>%d</Количество>
				<Склад ИдСклада="`+genWarehouse1+`" КоличествоНаСкладе="%d"/>
				<Склад ИдСклада="`+genWarehouse2+`" КоличествоНаСкладе="%d"/>
			</Предложение>
`, i/8, i/8, i, i, i, 100+i%9000, i%100, q1+q2, q1, q2)
		if onOffer != nil {
			onOffer(i)
		}
	}
	fmt.Fprint(bw, "\t\t</Предложения>\n\t</ПакетПредложений>\n</КоммерческаяИнформация>\n")
	return bw.Flush()
}

// heapPeak samples HeapInuse until stopped and returns the highest value seen.
type heapPeak struct {
	stop chan struct{}
	wg   sync.WaitGroup
	peak uint64
}

func startHeapPeak(every time.Duration) *heapPeak {
	h := &heapPeak{stop: make(chan struct{})}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			h.peak = max(h.peak, ms.HeapInuse)
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func (h *heapPeak) Stop() uint64 {
	close(h.stop)
	h.wg.Wait()
	return h.peak
}

// BenchmarkOffers1M reads a generated 1,000,000-offer offers.xml (written to a temp file
// first, streaming) and reports offers/s, MB/s and the peak HeapInuse during the reads;
// the peak RSS of one read in a process of its own (VmHWM, Linux); and, as the baseline
// measured in the same run, one read by the encoding/xml-based reference reader
// (xmlref_test.go) with the ratio. Targets: ≥ 100,000 offers/s and ≤ 200 MiB.
func BenchmarkOffers1M(b *testing.B) {
	const offers = 1_000_000
	path := filepath.Join(b.TempDir(), "offers.xml")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := writeOffersFile(f, offers, nil); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	b.ReportAllocs()
	b.SetBytes(info.Size())
	peak := startHeapPeak(10 * time.Millisecond)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		readOffersFile(b, path, offers, (*Reader).Read)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	peakBytes := peak.Stop()
	rate := float64(offers) * float64(b.N) / elapsed.Seconds()
	b.ReportMetric(rate, "offers/s")
	b.ReportMetric(float64(peakBytes)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(info.Size())/offers, "bytes/offer")
	if rss, ok := childPeakRSS(b, path); ok {
		b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
	}
	refStart := time.Now()
	readOffersFile(b, path, offers, func(r *Reader, ctx context.Context, name string, src io.Reader, v Visitor) (Summary, error) {
		return refRead(ctx, r, name, src, v)
	})
	refRate := float64(offers) / time.Since(refStart).Seconds()
	b.ReportMetric(refRate, "xmlref-offers/s")
	b.ReportMetric(rate/refRate, "ratio-to-xmlref")
}

// readOffersFile reads the generated file with read and checks what it visited.
func readOffersFile(tb testing.TB, path string, offers int, read func(*Reader, context.Context, string, io.Reader, Visitor) (Summary, error)) {
	tb.Helper()
	in, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer in.Close()
	r, err := NewReader(DefaultLimits())
	if err != nil {
		tb.Fatal(err)
	}
	cells := 0
	sum, err := read(r, context.Background(), "offers.xml", in, VisitorFuncs{OnOffer: func(_ context.Context, o Offer) error {
		cells += len(o.Stock.Cells)
		return nil
	}})
	if err != nil {
		tb.Fatal(err)
	}
	if sum.Offers != offers || cells != 2*offers || sum.WarningCount != 0 {
		tb.Fatalf("offers %d, cells %d, warnings %d (%v)", sum.Offers, cells, sum.WarningCount, sum.Warnings)
	}
}

// rssFileEnv names the file TestOffersRSSChild reads when the benchmark starts it.
const rssFileEnv = "COMMERCEML_RSS_OFFERS_FILE"

// childPeakRSS reads path once in a child process (this test binary running
// TestOffersRSSChild) and returns the child's peak resident set size.
func childPeakRSS(tb testing.TB, path string) (uint64, bool) {
	tb.Helper()
	if _, err := os.Stat("/proc/self/status"); err != nil {
		return 0, false
	}
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestOffersRSSChild$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), rssFileEnv+"="+path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("child read: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`peak RSS (\d+) kB`).FindSubmatch(out)
	if m == nil {
		tb.Fatalf("child printed no peak RSS:\n%s", out)
	}
	kb, err := strconv.ParseUint(string(m[1]), 10, 64)
	if err != nil {
		tb.Fatal(err)
	}
	return kb << 10, true
}

// TestOffersRSSChild is the child process of BenchmarkOffers1M's RSS measurement: it
// reads the file the benchmark names and logs VmHWM. Run directly, it has nothing to do.
func TestOffersRSSChild(t *testing.T) {
	path := os.Getenv(rssFileEnv)
	if path == "" {
		t.Skip("started by BenchmarkOffers1M only")
	}
	readOffersFile(t, path, 1_000_000, (*Reader).Read)
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(status)
	if m == nil {
		t.Fatalf("no VmHWM in /proc/self/status:\n%s", status)
	}
	t.Logf("peak RSS %s kB", m[1])
}
