package feeds

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Kind is what a channel pushes to.
type Kind string

// The channel kinds.
const (
	KindOzon         Kind = "ozon"
	KindWildberries  Kind = "wildberries"
	KindYandexMarket Kind = "yandexmarket"
	// KindSite has no push API: its only output is the YML feed.
	KindSite Kind = "site"
)

// Limits on configuration.
const (
	// MaxChannels is the most channels one hub serves.
	MaxChannels = 32
	// MaxTargetsPerChannel is the most marketplace warehouses one channel
	// pushes to.
	MaxTargetsPerChannel = 64
	// MaxChannelNameBytes bounds a channel name (it is a ledger channel).
	MaxChannelNameBytes = 64
	// DefaultHeadroom is the share of the documented limits used.
	DefaultHeadroom = 0.9
	// DefaultRequestTimeout bounds one marketplace request.
	DefaultRequestTimeout = 30 * time.Second
	// MaxRequestTimeout is the longest request timeout accepted.
	MaxRequestTimeout = 5 * time.Minute
	// MinReconcileInterval is the shortest reconcile period accepted.
	MinReconcileInterval = time.Minute
)

// ChannelConfig is one channel's push configuration, the feeds part of
// stockd.yaml. Name is the ledger channel of the same name (the one holds
// are made on); each warehouse entry says which ledger view feeds it.
//
//   - name: ozon
//     kind: ozon
//     account:
//     client_id: {env: OZON_CLIENT_ID}
//     api_key: {file: /run/secrets/ozon_api_key}
//     warehouses:
//   - id: "22142605386000"            # marketplace warehouse
//     sources: [wh-msk]               # 1C warehouses summed for it
//   - id: "22142605386001"
//     sources: [wh-spb]
//     offers: {file: /etc/stockd/ozon-offers.csv}
//     stock: {percent: 100, buffer: 1}
//     price: {price_type: "retail", markup_bp: 1000, max_change_pct: 30}
type ChannelConfig struct {
	Name       string         `yaml:"name"`
	Kind       Kind           `yaml:"kind"`
	Account    AccountConfig  `yaml:"account"`
	Warehouses []TargetConfig `yaml:"warehouses"`
	Offers     MappingConfig  `yaml:"offers"`
	Stock      StockPolicy    `yaml:"stock"`
	Price      *PricePolicy   `yaml:"price"`    // nil: prices are not pushed
	Currency   string         `yaml:"currency"` // ISO 4217; empty: RUB
	Push       PushConfig     `yaml:"push"`
	YML        YMLConfig      `yaml:"yml"`
}

// TargetConfig is one marketplace warehouse of a channel.
type TargetConfig struct {
	// ID is the marketplace warehouse: Ozon warehouse_id, Wildberries
	// warehouseId, Yandex Market partnerWarehouseId; empty for Yandex
	// Market's campaign stock method and for a site.
	ID string `yaml:"id"`
	// Sources are the 1C warehouses whose availability is summed for
	// this target. Empty: the ledger channel's own warehouses.
	Sources []string `yaml:"sources"`
	// View names the ledger channel the quantity is read from. Empty: the
	// channel itself when Sources is empty, else "<name>@<id>", which the
	// engine registers as a ledger view (Hub.LedgerViews).
	View string `yaml:"view"`
}

// AccountConfig says how to reach the marketplace account. Secrets are
// never written in the file: each names an environment variable or a
// file (SecretRef).
type AccountConfig struct {
	BaseURL   string `yaml:"base_url"`   // empty: the marketplace's public host
	PricesURL string `yaml:"prices_url"` // Wildberries prices host; empty: the public one

	ClientID    SecretRef `yaml:"client_id"`    // Ozon Client-Id
	APIKey      SecretRef `yaml:"api_key"`      // Ozon Api-Key, Yandex Market Api-Key
	Token       SecretRef `yaml:"token"`        // Wildberries token
	PricesToken SecretRef `yaml:"prices_token"` // Wildberries prices token; empty: Token

	BusinessID  int64  `yaml:"business_id"`  // Yandex Market cabinet
	CampaignID  int64  `yaml:"campaign_id"`  // Yandex Market store
	StockMethod string `yaml:"stock_method"` // Yandex Market: campaign | warehouse
}

// SecretRef names where a secret is read from: an environment variable or
// a file (its content, surrounding white space trimmed). A scalar in its
// place (an inline secret) is refused when the config is decoded.
type SecretRef struct {
	Env  string `yaml:"env"`
	File string `yaml:"file"`
}

// IsZero reports an empty reference.
func (s SecretRef) IsZero() bool { return s.Env == "" && s.File == "" }

// UnmarshalYAML refuses inline secrets with a clear message.
func (s *SecretRef) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("feeds: line %d: secrets are not written inline: use {env: VAR} or {file: /path}", n.Line)
	}
	type plain SecretRef
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*s = SecretRef(p)
	return nil
}

// Secrets resolves secret references; cmd passes the process environment
// and file system (only cmd reads them).
type Secrets interface {
	LookupEnv(name string) (string, bool)
	ReadFile(path string) ([]byte, error)
}

// MaxSecretBytes bounds a secret read from a file.
const MaxSecretBytes = 4 << 10

// ErrSecret means a secret could not be resolved.
var ErrSecret = errors.New("feeds: secret not available")

// Resolve reads the secret.
func (s SecretRef) Resolve(src Secrets) (string, error) {
	switch {
	case s.Env != "" && s.File != "":
		return "", fmt.Errorf("%w: give env or file, not both", ErrSecret)
	case s.Env != "":
		v, ok := src.LookupEnv(s.Env)
		if !ok || strings.TrimSpace(v) == "" {
			return "", fmt.Errorf("%w: environment variable %s is unset or empty", ErrSecret, s.Env)
		}
		return strings.TrimSpace(v), nil
	case s.File != "":
		b, err := src.ReadFile(s.File)
		if err != nil {
			return "", fmt.Errorf("%w: %v", ErrSecret, err)
		}
		if len(b) > MaxSecretBytes {
			return "", fmt.Errorf("%w: %s is larger than %d bytes", ErrSecret, s.File, MaxSecretBytes)
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", fmt.Errorf("%w: %s is empty", ErrSecret, s.File)
		}
		return v, nil
	}
	return "", fmt.Errorf("%w: no env or file given", ErrSecret)
}

// MappingConfig names the offer mapping file.
type MappingConfig struct {
	// File is a CSV (header sku,offer_id — or sku,chrt_id,nm_id for
	// Wildberries) or YAML (a list of {sku, offer_id, chrt_id, nm_id})
	// file. Empty: the offer id is the 1C SKU (site and Yandex Market
	// only).
	File string `yaml:"file"`
	// Strict makes a bad row stop the channel from starting; otherwise
	// bad rows are quarantined (listed with their line numbers, never
	// sent) and the rest is pushed.
	Strict bool `yaml:"strict"`
}

// PushConfig tunes the push workers.
type PushConfig struct {
	// Headroom is the share of the documented limits used; 0: 0.9.
	Headroom float64 `yaml:"headroom"`
	// Timeout bounds one request; 0: DefaultRequestTimeout.
	Timeout time.Duration `yaml:"timeout"`
	// StockCooldown is Ozon's spacing of updates of one (offer,
	// warehouse): 0 is the documented 30 s; accounts on the older rule
	// need 2m.
	StockCooldown time.Duration `yaml:"stock_cooldown"`
	// ReconcileInterval is how often stock is read back and compared;
	// 0: never.
	ReconcileInterval time.Duration `yaml:"reconcile_interval"`
	// Disabled keeps the channel's workers stopped (changes are still
	// tracked, so enabling it later sends the difference).
	Disabled bool `yaml:"disabled"`
}

// YMLConfig enables the pull feed GET /feeds/{channel}.yml.
type YMLConfig struct {
	Enabled bool   `yaml:"enabled"`
	Shop    string `yaml:"shop"`    // <name>
	Company string `yaml:"company"` // <company>
	URL     string `yaml:"url"`     // <url>
}

// Validate checks what can be checked without the mapping file and the
// secrets; every error names the channel and the field.
func (c ChannelConfig) Validate() error {
	if err := c.validate(); err != nil {
		return fmt.Errorf("feeds: channel %q: %w", c.Name, err)
	}
	return nil
}

func (c ChannelConfig) validate() error {
	switch {
	case c.Name == "" || len(c.Name) > MaxChannelNameBytes:
		return fmt.Errorf("name must have 1..%d bytes", MaxChannelNameBytes)
	case strings.ContainsAny(c.Name, "@/: \t"):
		return errors.New("name must not contain '@', '/', ':' or spaces")
	}
	switch c.Kind {
	case KindOzon, KindWildberries, KindYandexMarket, KindSite:
	default:
		return fmt.Errorf("kind %q is not ozon, wildberries, yandexmarket or site", c.Kind)
	}
	if err := c.stockPolicy().Validate(); err != nil {
		return err
	}
	if c.Price != nil {
		if err := c.Price.Validate(); err != nil {
			return err
		}
	}
	if c.Currency != "" && (len(c.Currency) != 3 || strings.ToUpper(c.Currency) != c.Currency) {
		return fmt.Errorf("currency %q is not an ISO 4217 code such as RUB", c.Currency)
	}
	if err := c.Push.validate(); err != nil {
		return err
	}
	if err := c.validateTargets(); err != nil {
		return err
	}
	if c.Kind == KindSite {
		if !c.YML.Enabled {
			return errors.New("a site channel has no push API: enable yml")
		}
		return nil
	}
	if c.Kind == KindWildberries && c.Offers.File == "" {
		return errors.New("offers.file is required: Wildberries keys stock by chrtId and prices by nmID")
	}
	if c.Kind == KindOzon && c.Offers.File == "" {
		return errors.New("offers.file is required: Ozon offer_id is at most 50 characters, a 1C SKU may be 80")
	}
	return c.Account.validate(c.Kind)
}

func (p PushConfig) validate() error {
	switch {
	case p.Headroom < 0 || p.Headroom > 1:
		return fmt.Errorf("push.headroom %v is outside (0, 1]", p.Headroom)
	case p.Timeout < 0 || p.Timeout > MaxRequestTimeout:
		return fmt.Errorf("push.timeout %v is outside 0..%v", p.Timeout, MaxRequestTimeout)
	case p.StockCooldown < 0 || p.StockCooldown > time.Hour:
		return fmt.Errorf("push.stock_cooldown %v is outside 0..1h", p.StockCooldown)
	case p.ReconcileInterval != 0 && p.ReconcileInterval < MinReconcileInterval:
		return fmt.Errorf("push.reconcile_interval %v is below %v", p.ReconcileInterval, MinReconcileInterval)
	}
	return nil
}

func (c ChannelConfig) validateTargets() error {
	if c.Kind == KindSite && len(c.Warehouses) == 0 {
		return nil // one target: the channel itself
	}
	if len(c.Warehouses) == 0 {
		return errors.New("warehouses: at least one marketplace warehouse is needed")
	}
	if len(c.Warehouses) > MaxTargetsPerChannel {
		return fmt.Errorf("warehouses: %d entries, at most %d", len(c.Warehouses), MaxTargetsPerChannel)
	}
	seen := make(map[string]bool, len(c.Warehouses))
	for i, t := range c.Warehouses {
		if seen[t.ID] {
			return fmt.Errorf("warehouses[%d]: id %q repeated", i, t.ID)
		}
		seen[t.ID] = true
		if err := validateTargetID(c.Kind, c.Account, t.ID); err != nil {
			return fmt.Errorf("warehouses[%d]: %w", i, err)
		}
		srcSeen := make(map[string]bool, len(t.Sources))
		for _, s := range t.Sources {
			if s == "" || srcSeen[s] {
				return fmt.Errorf("warehouses[%d]: source %q empty or repeated", i, s)
			}
			srcSeen[s] = true
		}
	}
	return nil
}

func validateTargetID(kind Kind, acc AccountConfig, id string) error {
	switch kind {
	case KindOzon, KindWildberries:
		if n, err := strconv.ParseInt(id, 10, 64); err != nil || n <= 0 {
			return fmt.Errorf("id %q is not a positive integer warehouse id", id)
		}
	case KindYandexMarket:
		if acc.StockMethod == "warehouse" {
			if n, err := strconv.ParseInt(id, 10, 64); err != nil || n <= 0 {
				return fmt.Errorf("id %q is not a positive partnerWarehouseId", id)
			}
		} else if id != "" {
			return fmt.Errorf("id %q: the campaign stock method takes no warehouse id (leave it empty)", id)
		}
	case KindSite:
		if id != "" {
			return fmt.Errorf("id %q: a site has no marketplace warehouse", id)
		}
	}
	return nil
}

func (a AccountConfig) validate(kind Kind) error {
	switch kind {
	case KindOzon:
		if a.ClientID.IsZero() {
			return errors.New("account.client_id is required ({env: ...} or {file: ...})")
		}
		if a.APIKey.IsZero() {
			return errors.New("account.api_key is required ({env: ...} or {file: ...})")
		}
	case KindWildberries:
		if a.Token.IsZero() {
			return errors.New("account.token is required ({env: ...} or {file: ...})")
		}
	case KindYandexMarket:
		switch {
		case a.APIKey.IsZero():
			return errors.New("account.api_key is required ({env: ...} or {file: ...})")
		case a.BusinessID <= 0 || a.CampaignID <= 0:
			return errors.New("account.business_id and account.campaign_id must be positive")
		case a.StockMethod != "" && a.StockMethod != "campaign" && a.StockMethod != "warehouse":
			return fmt.Errorf("account.stock_method %q is not campaign or warehouse", a.StockMethod)
		}
	}
	return nil
}

// ParseChannels decodes the feeds section of a config file (a YAML list of
// ChannelConfig), refusing unknown fields, and validates every channel.
func ParseChannels(data []byte) ([]ChannelConfig, error) {
	var out []ChannelConfig
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("feeds: decode channels: %w", err)
	}
	if err := ValidateChannels(out); err != nil {
		return nil, err
	}
	return out, nil
}

// ValidateChannels checks every channel and that names are unique.
func ValidateChannels(cfgs []ChannelConfig) error {
	if len(cfgs) > MaxChannels {
		return fmt.Errorf("feeds: %d channels, at most %d", len(cfgs), MaxChannels)
	}
	seen := make(map[string]bool, len(cfgs))
	for _, c := range cfgs {
		if err := c.Validate(); err != nil {
			return err
		}
		if seen[c.Name] {
			return fmt.Errorf("feeds: channel %q configured twice", c.Name)
		}
		seen[c.Name] = true
	}
	return nil
}

// stockPolicy is the configured policy; an omitted one shows everything.
func (c ChannelConfig) stockPolicy() StockPolicy {
	p := c.Stock
	if p == (StockPolicy{}) {
		p = DefaultStockPolicy()
	}
	if c.Kind == KindWildberries && (p.Max == 0 || p.Max > MaxWildberriesAmount) {
		// Wildberries refuses a larger amount: more than it takes is shown
		// as the most it takes, not left at the last figure it took
		p.Max = MaxWildberriesAmount
	}
	return p
}

// MaxWildberriesAmount is the largest stock amount Wildberries takes
// (marketplaces.md: amount ≤ 100000); a Wildberries channel's stock.max is
// at most this.
const MaxWildberriesAmount = 100_000

// view is the ledger channel a target's quantity is read from.
func (c ChannelConfig) view(t TargetConfig) string {
	switch {
	case t.View != "":
		return t.View
	case len(t.Sources) == 0:
		return c.Name
	}
	return c.Name + "@" + t.ID
}
