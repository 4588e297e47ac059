// Command stockctl talks to a running stockd: health, a SKU across
// warehouses and channels, a hold, CommerceML imports.
//
//	stockctl [-url http://127.0.0.1:8080] health
//	stockctl sku [-channel NAME] SKU
//	stockctl hold ID
//	stockctl ingest
//	stockctl channels
//	stockctl channel NAME [resync | reconcile | approve OFFER | release stock|price OFFER [WAREHOUSE]]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

const usage = `usage: stockctl [-url URL] [-key KEY] [-timeout 10s] <command> [args]

commands:
  health         is the server up and ready
  sku [-channel NAME] SKU
                 a SKU across warehouses and channels
  hold ID        one hold: state, lines, allocations, expiry
  ingest         1C ingest counters and recent seq gaps
  channels       every marketplace channel's lag, queues and quarantine
  channel NAME [resync | reconcile | approve OFFER | release stock|price OFFER [WAREHOUSE]]
                 one channel and its quarantined offers, or an operator action (admin key)
  import FILE|ZIP|DIR...
                 CommerceML files to events, posted to stockd or written to Kafka (stockctl import -h)
  version        print the version

The URL defaults to $STOCKD_URL or http://127.0.0.1:8080; the API key to $STOCKD_API_KEY;
-timeout bounds each request.
`

var version = "dev"

// options are the global flags and environment, read once here.
type options struct {
	baseURL string
	apiKey  string
	timeout time.Duration
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// the first signal starts a clean shutdown; from then on a second one
	// ends the process at once, as without a handler
	go func() {
		<-ctx.Done()
		stop()
	}()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "stockctl:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("stockctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	opts := options{}
	fs.StringVar(&opts.baseURL, "url", firstNonEmpty(getenv("STOCKD_URL"), "http://127.0.0.1:8080"), "stockd base URL")
	fs.StringVar(&opts.apiKey, "key", getenv("STOCKD_API_KEY"), "API key (Bearer)")
	fs.DurationVar(&opts.timeout, "timeout", 10*time.Second, "timeout of one request")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return flag.ErrHelp
	}
	c := &client{opts: opts, http: &http.Client{Timeout: opts.timeout}}
	cmd, rest := fs.Arg(0), fs.Args()[1:]
	switch cmd {
	case "health":
		return c.health(ctx, stdout)
	case "sku":
		sub := flag.NewFlagSet("sku", flag.ContinueOnError)
		sub.SetOutput(stderr)
		channel := sub.String("channel", "", "show only this channel")
		if err := sub.Parse(rest); err != nil {
			return err
		}
		if sub.NArg() != 1 {
			return fmt.Errorf("usage: stockctl sku [-channel NAME] SKU")
		}
		return c.showSKU(ctx, stdout, sub.Arg(0), *channel)
	case "hold":
		if len(rest) != 1 {
			return fmt.Errorf("usage: stockctl hold ID")
		}
		return c.showHold(ctx, stdout, rest[0])
	case "ingest":
		return c.showIngest(ctx, stdout)
	case "channels":
		return c.showChannels(ctx, stdout)
	case "channel":
		switch len(rest) {
		case 0:
			return fmt.Errorf("%s", channelUsage)
		case 1:
			return c.showChannel(ctx, stdout, rest[0])
		}
		return c.channelAction(ctx, stdout, rest[0], rest[1:])
	case "import":
		// -url and -key given before the command apply to it as its own
		// (named first, so the command's own flags still win)
		var global []string
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "url":
				global = append(global, "-url", opts.baseURL)
			case "key":
				global = append(global, "-key", opts.apiKey)
			}
		})
		return runImport(ctx, append(global, rest...), stdout, stderr, getenv)
	case "version":
		fmt.Fprintln(stdout, "stockctl", version)
		return nil
	default:
		fs.Usage()
		return fmt.Errorf("unknown command %q (args %v)", cmd, rest)
	}
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
