// Command orderday plays a day of orders across the website and the three
// marketplaces in virtual time and measures oversold units and exposure,
// with the marketplaces' default stock buffer and with buffers off, and
// prints the figures and a markdown block for BENCHMARKS.md.
//
// It is a discrete-event simulation over the real reservation ledger, the
// real feeds stock policy, dirty sets and priorities, and the intake's
// hold ids and poll intervals; the marketplaces, 1C and the network are
// modelled (docs/ORDERS.md, "The order day", says how).
//
// Usage:
//
//	go run ./bench/orderday [-orders 100000] [-skus 5000] [-zipf-s 1.05] [-seed 1]
//	    [-buffers 1,0] [-exchange 5m] [-onec-delay 60s]
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "orderday:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	p := DefaultParams()
	fs := flag.NewFlagSet("orderday", flag.ContinueOnError)
	fs.IntVar(&p.Orders, "orders", p.Orders, "buyers over the day, all channels")
	fs.IntVar(&p.SKUs, "skus", p.SKUs, "SKUs")
	fs.Float64Var(&p.ZipfS, "zipf-s", p.ZipfS, "demand skew over SKUs")
	fs.Uint64Var(&p.Seed, "seed", p.Seed, "random seed")
	fs.DurationVar(&p.ExchangeEvery, "exchange", p.ExchangeEvery, "how often 1C takes orders")
	fs.DurationVar(&p.OneCDelay, "onec-delay", p.OneCDelay, "mean delay of a 1C stock figure")
	fs.Float64Var(&p.CancelShare, "cancel-share", p.CancelShare, "share of marketplace orders cancelled")
	fs.BoolVar(&p.Forget, "forget", p.Forget, "send a marketplace's figure again after the intake saw an order there")
	seeds := fs.Int("seeds", 5, "days to play per buffer (seeds seed, seed+1, ...); figures are their sums")
	buffers := fs.String("buffers", "1,0", "marketplace stock buffers to compare; the first is the default")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var results []Result
	for _, b := range strings.Split(*buffers, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(b), 10, 64)
		if err != nil {
			return fmt.Errorf("-buffers: %w", err)
		}
		if *seeds < 1 {
			return fmt.Errorf("-seeds must be at least 1")
		}
		var total Result
		for k := range *seeds {
			q := p
			q.Buffer, q.Seed = n, p.Seed+uint64(k)
			s, err := newSim(q)
			if err != nil {
				return err
			}
			r, err := s.run()
			if err != nil {
				return err
			}
			total.add(r)
		}
		total.Params.Seed = p.Seed
		results = append(results, total)
		printResult(out, total)
	}
	printMarkdown(out, results)
	return nil
}

func printResult(w io.Writer, r Result) {
	p := r.Params
	fmt.Fprintf(w, "\nbuffer %d: %d day(s) of %d buyers over %v, %d SKUs (zipf %.2f), seeds from %d, simulated in %v\n",
		p.Buffer, r.Days, p.Orders, p.Day, p.SKUs, p.ZipfS, p.Seed, r.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "  %-13s %8s %8s %8s %9s %9s %11s %9s %8s\n", "channel", "buyers", "orders", "lost", "oversold",
		"per 10k", "rec. short", "exposure", "pushes")
	for c := range numChannels {
		fmt.Fprintf(w, "  %-13s %8d %8d %8d %9d %9.2f %11d %9.2f %8d\n", channelNames[c], r.Buyers[c], r.Accepted[c],
			r.Lost[c], r.Oversold[c], per10k(r.Oversold[c], r.Accepted[c]), r.RecordedShort[c], r.Exposure[c], r.Pushes[c])
	}
	mo, mu := r.marketplaces()
	fmt.Fprintf(w, "  marketplaces: %d orders, %d oversold units = %.2f per 10,000 orders; exposure %.1f unit·h\n",
		mo, mu, per10k(mu, mo), r.Exposure[chOzon]+r.Exposure[chWB]+r.Exposure[chYM])
	fmt.Fprintf(w, "  cancelled %d, receipts %d, 1C figures %d, SKUs short at the end %d\n",
		r.Cancelled, r.Receipts, r.OneCEvents, r.ShortAtEnd)
}

func (r Result) marketplaces() (orders int, oversold int64) {
	for c := chOzon; c < numChannels; c++ {
		orders += r.Accepted[c]
		oversold += r.Oversold[c]
	}
	return orders, oversold
}

func per10k(units int64, orders int) float64 {
	if orders == 0 {
		return 0
	}
	return float64(units) * 10000 / float64(orders)
}

func printMarkdown(w io.Writer, results []Result) {
	if len(results) == 0 {
		return
	}
	p := results[0].Params
	fmt.Fprintf(w, "\n### Orders from every channel: a day of orders (`go run ./bench/orderday`)\n\n")
	fmt.Fprintf(w, "%d days (seeds %d..%d), each of %d buyers in %v of virtual time over %d SKUs (Zipf %.2f), 40%% website, 25%% Ozon, 20%% Wildberries, "+
		"15%% Yandex Market; intake polls every %v / %v / %v; 1C takes orders every %v and its figures arrive after "+
		"~%v; %.0f%% of marketplace orders cancelled. Real ledger, feeds policy and dirty sets; marketplaces and 1C "+
		"modelled (docs/ORDERS.md). Oversold: units accepted when the real stock was gone, charged to the later order "+
		"in time; recorded short: units of marketplace orders the ledger had already given away when the intake recorded "+
		"them (the ledger's own attribution, under which the website never oversells). Sums over the days.\n\n",
		results[0].Days, p.Seed, p.Seed+uint64(results[0].Days)-1, p.Orders, p.Day, p.SKUs, p.ZipfS, p.Poll[chOzon], p.Poll[chWB], p.Poll[chYM],
		p.ExchangeEvery, p.OneCDelay, 100*p.CancelShare)
	fmt.Fprintf(w, "| marketplace buffer | website orders | website oversold | marketplace orders | marketplace oversold units | per 10,000 | recorded short | exposure, marketplaces (unit·h) | exposure, website (unit·h) |\n")
	fmt.Fprintf(w, "|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range results {
		mo, mu := r.marketplaces()
		var short int64
		for c := chOzon; c < numChannels; c++ {
			short += r.RecordedShort[c]
		}
		fmt.Fprintf(w, "| %d | %d | %d | %d | %d | %.2f | %d | %.1f | %.1f |\n", r.Params.Buffer, r.Accepted[chSite],
			r.Oversold[chSite], mo, mu, per10k(mu, mo), short, r.Exposure[chOzon]+r.Exposure[chWB]+r.Exposure[chYM],
			r.Exposure[chSite])
	}
}
