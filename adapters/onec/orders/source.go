package orders

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"stockd/adapters/onec/commerceml"
	"stockd/adapters/onec/exchange"
	"stockd/reservation"
)

// Errors of the package.
var (
	// ErrInvalidConfig: the configuration cannot work.
	ErrInvalidConfig = errors.New("orders: invalid config")
)

// Defaults of a Source.
const (
	// DefaultCurrency is the Валюта of the documents.
	DefaultCurrency = "RUB"
	// DefaultUnitCode and DefaultUnitName are the base unit of every line
	// (ОКЕИ 796, "шт"): holds are in base units.
	DefaultUnitCode = "796"
	DefaultUnitName = "шт"
	// MaxOrdersPerQuery bounds the orders one Orders call returns.
	MaxOrdersPerQuery = 10_000
	// MinCompactEntries is the exported-store size below which it is never
	// compacted.
	MinCompactEntries = 10_000
)

// Attribute names written in the documents' ЗначенияРеквизитов.
const (
	AttrChannel   = "Канал продаж"     // the ledger channel: site, ozon, ...
	AttrMarketID  = "Номер у площадки" // the marketplace's order id
	AttrForced    = "Продан площадкой" // "true": recorded whatever the stock
	AttrCancelled = "Отменен"          // always "false": only active holds are served
)

// Ledger is what a Source needs from the reservation ledger.
type Ledger interface {
	// ConfirmedHolds calls fn with every active confirmed hold, in no
	// order, until fn returns false. fn must not keep h.
	ConfirmedHolds(ctx context.Context, fn func(h *reservation.Hold) bool) error
	// Handoff records that 1C took the holds over (their remaining
	// allocations are consumed), each hold in one ledger step; a hold that
	// is handed off already, released or unknown is left as it is. It
	// returns once durable.
	Handoff(ctx context.Context, ids []string) error
	// Item and Price describe a line; unknown ones give false.
	Item(sku string) (reservation.Item, bool)
	Price(sku, priceType string) (reservation.Price, bool)
}

// ChannelInfo is how one ledger channel's orders appear in 1C.
type ChannelInfo struct {
	// CounterpartyID and CounterpartyName name the buyer 1C books the
	// order to (a marketplace is one counterparty); empty: "stockd#<channel>"
	// and the channel name.
	CounterpartyID   string `yaml:"counterparty_id"`
	CounterpartyName string `yaml:"counterparty_name"`
}

// SourceConfig configures a Source.
type SourceConfig struct {
	Ledger Ledger
	Store  Store
	// Channels limits the orders served to these ledger channels; empty:
	// every channel's confirmed holds.
	Channels []string
	// Info per channel; missing channels get the defaults.
	Info map[string]ChannelInfo
	// PriceType prices the lines from the ledger's prices; empty or a
	// missing price writes 0 (1C prices the order itself).
	PriceType string
	// Currency of the documents; empty: DefaultCurrency.
	Currency string
	// Location writes Дата and Время in 1C's time zone; nil: UTC.
	Location *time.Location
	// HandoffOnSuccess hands the holds off to 1C when it reports success
	// (mode=success). Off: the holds stay until 1C's stock figures name
	// them (stock.set handoff) or a reservation.handoff event arrives.
	HandoffOnSuccess bool
	// Logger reports what 1C uploads about orders; nil discards.
	Logger *slog.Logger
	// Now stamps the update counters; nil: time.Now.
	Now func() time.Time
}

// Source serves confirmed holds to 1C. Safe for concurrent use.
type Source struct {
	cfg      SourceConfig
	channels map[string]bool // nil: all

	mu      sync.Mutex
	updates UpdateStats
}

var _ exchange.OrderSource = (*Source)(nil)

// NewSource checks the configuration.
func NewSource(cfg SourceConfig) (*Source, error) {
	if cfg.Ledger == nil || cfg.Store == nil {
		return nil, fmt.Errorf("%w: Ledger and Store are required", ErrInvalidConfig)
	}
	if cfg.Currency == "" {
		cfg.Currency = DefaultCurrency
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Source{cfg: cfg}
	if len(cfg.Channels) > 0 {
		s.channels = make(map[string]bool, len(cfg.Channels))
		for _, ch := range cfg.Channels {
			s.channels[ch] = true
		}
	}
	return s, nil
}

// candidate is a confirmed hold not yet exported to the account.
type candidate struct {
	hold reservation.Hold
}

// Orders implements exchange.OrderSource: the oldest confirmed holds the
// account has not taken, at most max (and MaxOrdersPerQuery). A hold
// already partly handed off (a 1C figure named it) is known to 1C and is
// not served.
func (s *Source) Orders(ctx context.Context, account string, max int) ([]commerceml.Order, error) {
	max = min(max, MaxOrdersPerQuery)
	if max <= 0 {
		return nil, nil
	}
	var found []candidate
	live := make(map[string]struct{})
	err := s.cfg.Ledger.ConfirmedHolds(ctx, func(h *reservation.Hold) bool {
		if s.channels != nil && !s.channels[h.Channel] {
			return true
		}
		live[h.ID] = struct{}{}
		if s.cfg.Store.Exported(account, h.ID) || partlyHandedOff(h) {
			return true
		}
		found = append(found, candidate{hold: copyHold(h)})
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("orders: list confirmed holds: %w", err)
	}
	s.compact(live)
	slices.SortFunc(found, func(a, b candidate) int {
		return cmp.Or(a.hold.CreatedAt.Compare(b.hold.CreatedAt), cmp.Compare(a.hold.ID, b.hold.ID))
	})
	found = found[:min(len(found), max)]
	out := make([]commerceml.Order, 0, len(found))
	for i := range found {
		out = append(out, s.document(&found[i].hold))
	}
	return out, nil
}

// compact drops exported entries of holds that are no longer confirmed
// (released, expired, handed off) once they outnumber the live ones.
func (s *Source) compact(live map[string]struct{}) {
	if n := s.cfg.Store.Len(); n < MinCompactEntries || n < 2*len(live) {
		return
	}
	// A failed compaction leaves the store as it was; the next query tries again.
	_ = s.cfg.Store.Compact(func(_, id string) bool {
		_, ok := live[id]
		return ok
	})
}

// Exported implements exchange.OrderSource: with HandoffOnSuccess the
// holds are handed off, then the orders are marked taken (durably).
//
// Why in that order: a crash between the two leaves a handed-off hold
// unmarked, which is never served again (only confirmed holds are);
// the other order would leave a marked hold that no success hands off,
// subtracted twice until 1C's figures name it.
func (s *Source) Exported(ctx context.Context, account string, orderIDs []string) error {
	if s.cfg.HandoffOnSuccess {
		if err := s.cfg.Ledger.Handoff(ctx, orderIDs); err != nil {
			return fmt.Errorf("orders: hand off: %w", err)
		}
	}
	if err := s.cfg.Store.MarkExported(ctx, account, orderIDs); err != nil {
		return fmt.Errorf("orders: mark exported: %w", err)
	}
	return nil
}

func partlyHandedOff(h *reservation.Hold) bool {
	for _, a := range h.Allocations {
		if a.HandedOff {
			return true
		}
	}
	return false
}

func copyHold(h *reservation.Hold) reservation.Hold {
	c := *h
	c.Lines = slices.Clone(h.Lines)
	c.Allocations = slices.Clone(h.Allocations)
	return c
}

// document is the "Заказ товара" of a hold: Ид and Номер are the hold id,
// the lines are the hold's lines in base units.
func (s *Source) document(h *reservation.Hold) commerceml.Order {
	at := h.CreatedAt.In(s.cfg.Location)
	info := s.info(h.Channel)
	o := commerceml.Order{
		ID: h.ID, Number: h.ID, Date: at.Format("2006-01-02"), Time: at.Format("15:04:05"),
		Operation: commerceml.OrderOperation, Currency: s.cfg.Currency, Rate: commerceml.DecimalFromInt(1),
		Counterparty: commerceml.Counterparty{ID: info.CounterpartyID, Name: info.CounterpartyName,
			FullName: info.CounterpartyName, Role: "Покупатель"},
		Comment: "stockd: " + h.Channel + " " + h.ID,
		Attributes: []commerceml.Attribute{
			{Name: AttrChannel, Value: h.Channel},
			{Name: AttrForced, Value: strconv.FormatBool(h.Forced)},
			{Name: AttrCancelled, Value: "false"},
		},
	}
	if id, ok := marketOrderID(h.ID); ok {
		o.Attributes = append(o.Attributes, commerceml.Attribute{Name: AttrMarketID, Value: id})
	}
	var total int64 // kopecks
	exact := true
	for _, ln := range h.Lines {
		line, sum, ok := s.line(ln)
		exact = exact && ok
		total += sum
		o.Lines = append(o.Lines, line)
	}
	o.Sum = kopecks(total)
	if !exact {
		o.Sum = commerceml.DecimalFromInt(0)
	}
	return o
}

func (s *Source) info(channel string) ChannelInfo {
	info := s.cfg.Info[channel]
	if info.CounterpartyID == "" {
		info.CounterpartyID = "stockd#" + channel
	}
	if info.CounterpartyName == "" {
		info.CounterpartyName = channel
	}
	return info
}

// line is one document line; sum is in kopecks, ok false when the price
// is missing or not in whole kopecks.
func (s *Source) line(ln reservation.Line) (l commerceml.OrderLine, sum int64, ok bool) {
	l = commerceml.OrderLine{ProductID: ln.SKU, Name: ln.SKU, UnitCode: DefaultUnitCode, UnitName: DefaultUnitName,
		Qty: commerceml.DecimalFromInt(ln.Qty), Price: commerceml.DecimalFromInt(0), Sum: commerceml.DecimalFromInt(0),
		ItemType: "Товар"}
	if item, found := s.cfg.Ledger.Item(ln.SKU); found && item.Name != "" {
		l.Name = item.Name
	}
	if s.cfg.PriceType == "" {
		return l, 0, false
	}
	p, found := s.cfg.Ledger.Price(ln.SKU, s.cfg.PriceType)
	if !found {
		return l, 0, false
	}
	unit, exact := priceKopecks(p.Amount.String())
	if !exact {
		return l, 0, false
	}
	l.Price, l.Sum = kopecks(unit), kopecks(unit*ln.Qty)
	return l, unit * ln.Qty, true
}

// priceKopecks reads a non-negative decimal with at most two places.
func priceKopecks(s string) (int64, bool) {
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 2 || whole == "" {
		return 0, false
	}
	for len(frac) < 2 {
		frac += "0"
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w < 0 || w > 1<<40 {
		return 0, false
	}
	f, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return 0, false
	}
	return w*100 + f, true
}

func kopecks(n int64) commerceml.Decimal {
	d, err := commerceml.ParseDecimal(fmt.Sprintf("%d.%02d", n/100, n%100))
	if err != nil {
		panic("orders: kopecks do not format as a decimal: " + err.Error())
	}
	return d
}

// marketOrderID is the marketplace's order id of a hold the intake made
// ("ozon:<posting number>").
func marketOrderID(holdID string) (string, bool) {
	kind, id, ok := strings.Cut(holdID, ":")
	switch {
	case !ok || id == "":
		return "", false
	case kind == "ozon", kind == "wildberries", kind == "yandexmarket":
		return id, true
	}
	return "", false
}
