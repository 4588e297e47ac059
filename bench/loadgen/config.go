package loadgen

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors of Run; test with errors.Is.
var (
	// ErrNotLoopback means Target is not on this machine's loopback
	// interface. Nothing was sent.
	ErrNotLoopback = errors.New("loadgen: target is not a loopback address")
	// ErrInvalidConfig means a Config field is out of range. Nothing was sent.
	ErrInvalidConfig = errors.New("loadgen: invalid config")
)

// Mode selects how operations are paced.
type Mode int

// The pacing modes.
const (
	// ClosedLoop runs Connections workers back to back: the peak.
	ClosedLoop Mode = iota + 1
	// OpenLoop sends at RateOpsPerSec on a timetable: latency at a load.
	OpenLoop
)

func (m Mode) String() string {
	switch m {
	case ClosedLoop:
		return "closed"
	case OpenLoop:
		return "open"
	default:
		return fmt.Sprintf("Mode(%d)", int(m))
	}
}

// Limits on a run. A Config past one is refused with ErrInvalidConfig.
const (
	MaxConnections      = 4096             // connections (and closed-loop workers) per run
	MaxInFlightOps      = 1 << 16          // open-loop operations admitted at once
	MaxRateOpsPerSec    = 1_000_000        // open-loop arrival rate, operations per second
	MaxRunDuration      = time.Hour        // wall time of one run
	MaxOpsPerRun        = 1_000_000_000    // operations started in one run
	MaxSKUs             = 10_000_000       // SKUs a workload draws from
	MaxLinesPerHold     = 100              // lines in one hold
	MaxQtyPerLine       = 1_000_000        // units in one line
	MaxHoldIDPrefixLen  = 64               // bytes of HoldIDPrefix
	MaxChannelNameBytes = 64               // bytes of Workload.Channel
	MaxRequestTimeout   = time.Minute      // per request; also the histogram's top
	MaxResponseBytes    = 64 << 10         // response body the client reads, bytes
	ReadBufferBytes     = 8 << 10          // per-connection read buffer (response headers), bytes
	WriteBufferBytes    = 8 << 10          // per-connection write buffer, bytes
	MaxIdleConnTime     = 10 * time.Second // an idle keep-alive connection is closed after this
)

// Config is one load run.
type Config struct {
	// Target is host:port on the loopback interface, optionally with an
	// "http://" prefix: "127.0.0.1:8080", "localhost:8080", "[::1]:8080".
	Target string
	// APIToken is sent as "Authorization: Bearer <token>"; empty sends none.
	APIToken string
	Mode     Mode
	// Connections is the number of keep-alive connections; in ClosedLoop
	// also the number of workers (operations in flight).
	Connections int
	// RateOpsPerSec is the OpenLoop arrival rate of operations (a hold and
	// its release). Ignored in ClosedLoop.
	RateOpsPerSec float64
	// MaxInFlight bounds OpenLoop operations admitted and not yet finished
	// (waiting for a connection or being sent); an arrival past it is
	// dropped and counted. Ignored in ClosedLoop.
	MaxInFlight int
	// Duration bounds the time during which operations are started.
	Duration time.Duration
	// MaxOps bounds the operations started (dropped arrivals included).
	MaxOps int64
	// RequestTimeout bounds each request's write and read, and the wait for
	// a free connection.
	RequestTimeout time.Duration
	// DialTimeout bounds opening one connection.
	DialTimeout time.Duration
	// HoldIDPrefix starts every hold id; ids are HoldIDPrefix + "-" + n.
	// Use a prefix unique to the run when the target keeps state; empty
	// makes Run pick a random one. Letters, digits, '.', '_' and '-' only.
	HoldIDPrefix string
	Workload     Workload
}

// Workload is what each operation holds.
type Workload struct {
	SKUs         int     // SKUs are SKUName(0) … SKUName(SKUs-1); SKUName(0) is the most popular
	ZipfS        float64 // Zipf exponent s, > 1; larger is more skewed
	LinesPerHold int     // distinct SKUs per hold
	QtyPerLine   int     // units per line
	Channel      string  // the hold's channel
	TTLSeconds   int     // the hold's ttl_seconds
	Seed         uint64  // seeds every worker's SKU draws
}

// DefaultWorkload is 10 000 SKUs, s = 1.1, one line of one unit on "site".
func DefaultWorkload() Workload {
	return Workload{
		SKUs:         10_000,
		ZipfS:        1.1,
		LinesPerHold: 1,
		QtyPerLine:   1,
		Channel:      "site",
		TTLSeconds:   300,
		Seed:         1,
	}
}

// SKUName is the SKU of rank i in a workload; baselines seed stock for
// SKUName(0) … SKUName(n-1).
func SKUName(i int) string {
	return fmt.Sprintf("bench-sku-%07d", i)
}

// SKUNames returns SKUName(0) … SKUName(n-1).
func SKUNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = SKUName(i)
	}
	return names
}

// Validate reports the first field out of range, wrapping ErrInvalidConfig.
// It does not check Target; Run refuses a non-loopback one.
func (c Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)
	}
	switch {
	case c.Mode != ClosedLoop && c.Mode != OpenLoop:
		return bad("mode %v is neither ClosedLoop nor OpenLoop", c.Mode)
	case c.Connections < 1 || c.Connections > MaxConnections:
		return bad("connections %d not in [1, %d] (MaxConnections)", c.Connections, MaxConnections)
	case c.Duration <= 0 || c.Duration > MaxRunDuration:
		return bad("duration %v not in (0, %v] (MaxRunDuration)", c.Duration, MaxRunDuration)
	case c.MaxOps < 1 || c.MaxOps > MaxOpsPerRun:
		return bad("max ops %d not in [1, %d] (MaxOpsPerRun)", c.MaxOps, MaxOpsPerRun)
	case c.RequestTimeout <= 0 || c.RequestTimeout > MaxRequestTimeout:
		return bad("request timeout %v not in (0, %v] (MaxRequestTimeout)", c.RequestTimeout, MaxRequestTimeout)
	case c.DialTimeout <= 0 || c.DialTimeout > MaxRequestTimeout:
		return bad("dial timeout %v not in (0, %v]", c.DialTimeout, MaxRequestTimeout)
	case c.HoldIDPrefix != "" && (len(c.HoldIDPrefix) > MaxHoldIDPrefixLen || !isToken(c.HoldIDPrefix)):
		return bad("hold id prefix %q: 1 to %d letters, digits, '.', '_' or '-'", c.HoldIDPrefix, MaxHoldIDPrefixLen)
	}
	if c.Mode == OpenLoop {
		if !(c.RateOpsPerSec > 0 && c.RateOpsPerSec <= MaxRateOpsPerSec) {
			return bad("rate %v ops/s not in (0, %d] (MaxRateOpsPerSec)", c.RateOpsPerSec, MaxRateOpsPerSec)
		}
		if c.MaxInFlight < 1 || c.MaxInFlight > MaxInFlightOps {
			return bad("max in flight %d not in [1, %d] (MaxInFlightOps)", c.MaxInFlight, MaxInFlightOps)
		}
	}
	return c.Workload.validate(bad)
}

func (w Workload) validate(bad func(string, ...any) error) error {
	switch {
	case w.SKUs < 1 || w.SKUs > MaxSKUs:
		return bad("skus %d not in [1, %d] (MaxSKUs)", w.SKUs, MaxSKUs)
	case !(w.ZipfS > 1) || w.ZipfS > 100:
		return bad("zipf s %v not in (1, 100] (math/rand/v2 Zipf needs s > 1)", w.ZipfS)
	case w.LinesPerHold < 1 || w.LinesPerHold > MaxLinesPerHold:
		return bad("lines per hold %d not in [1, %d] (MaxLinesPerHold)", w.LinesPerHold, MaxLinesPerHold)
	case w.LinesPerHold > w.SKUs:
		return bad("lines per hold %d exceeds skus %d: lines are distinct SKUs", w.LinesPerHold, w.SKUs)
	case w.QtyPerLine < 1 || w.QtyPerLine > MaxQtyPerLine:
		return bad("qty per line %d not in [1, %d] (MaxQtyPerLine)", w.QtyPerLine, MaxQtyPerLine)
	case len(w.Channel) > MaxChannelNameBytes || !isToken(w.Channel):
		return bad("channel %q: 1 to %d letters, digits, '.', '_' or '-'", w.Channel, MaxChannelNameBytes)
	case w.TTLSeconds < 1:
		return bad("ttl seconds %d must be positive", w.TTLSeconds)
	}
	return nil
}

// isToken reports whether s is non-empty and needs no JSON or URL escaping.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '_' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}
