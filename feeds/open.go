package feeds

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"stockd/adapters/marketsim"
	"stockd/adapters/ozon"
	"stockd/adapters/wildberries"
	"stockd/adapters/yandexmarket"
	"stockd/feeds/limit"
	"stockd/feeds/yml"
)

// Deps is what BuildChannel needs from outside; cmd fills it.
type Deps struct {
	Secrets Secrets
	// ReadFile reads mapping files (os.ReadFile).
	ReadFile func(path string) ([]byte, error)
	// Transport sends marketplace requests; nil: NewTransport(timeout).
	Transport http.RoundTripper
	Now       func() time.Time
}

// Transport settings.
const (
	dialTimeout           = 10 * time.Second
	tlsHandshakeTimeout   = 10 * time.Second
	maxIdleConns          = 16
	maxConnsPerHost       = 8
	idleConnTimeout       = 90 * time.Second
	maxResponseHeaderSize = 64 << 10
	// orderWindow is how far back and ahead Ozon's unfulfilled list is
	// filtered (the client needs it; the push side does not poll orders).
	orderWindow = 30 * 24 * time.Hour
)

// NewTransport is the HTTP transport for marketplace APIs, every option
// explicit; it reads no environment (no proxy).
func NewTransport(timeout time.Duration) *http.Transport {
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           maxIdleConns,
		MaxIdleConnsPerHost:    maxConnsPerHost,
		MaxConnsPerHost:        maxConnsPerHost,
		IdleConnTimeout:        idleConnTimeout,
		TLSHandshakeTimeout:    tlsHandshakeTimeout,
		ExpectContinueTimeout:  time.Second,
		ResponseHeaderTimeout:  timeout,
		MaxResponseHeaderBytes: maxResponseHeaderSize,
		DisableCompression:     false,
	}
}

// BuildChannels builds every channel; on an error the feeds built so far
// are closed.
func BuildChannels(cfgs []ChannelConfig, d Deps) ([]Channel, error) {
	if err := ValidateChannels(cfgs); err != nil {
		return nil, err
	}
	out := make([]Channel, 0, len(cfgs))
	for _, c := range cfgs {
		ch, err := BuildChannel(c, d)
		if err != nil {
			CloseChannels(out)
			return nil, err
		}
		out = append(out, ch)
	}
	return out, nil
}

// CloseChannels releases what channels hold (their YML feeds' caches);
// call it after Hub.Close.
func CloseChannels(chs []Channel) {
	for _, ch := range chs {
		if ch.YML != nil {
			ch.YML.Close()
		}
	}
}

// BuildChannel reads the channel's mapping file, resolves its secrets and
// makes its marketplace client with the limiters at its headroom of the
// documented limits.
func BuildChannel(cfg ChannelConfig, d Deps) (Channel, error) {
	if err := cfg.Validate(); err != nil {
		return Channel{}, err
	}
	if d.Now == nil {
		return Channel{}, errors.New("feeds: no clock")
	}
	ch := Channel{Config: cfg}
	offers, err := loadMapping(cfg, d)
	if err != nil {
		return Channel{}, fmt.Errorf("feeds: channel %q: %w", cfg.Name, err)
	}
	ch.Offers = offers
	if err := buildClient(&ch, d); err != nil {
		return Channel{}, fmt.Errorf("feeds: channel %q: %w", cfg.Name, err)
	}
	if cfg.YML.Enabled {
		yc := yml.DefaultConfig(cfg.YML.Shop, cfg.YML.Company, cfg.YML.URL)
		yc.Now = d.Now
		if cfg.Currency != "" && cfg.Currency != "RUB" {
			yc.CurrencyID = cfg.Currency
		}
		if ch.YML, err = yml.New(yc); err != nil {
			return Channel{}, fmt.Errorf("feeds: channel %q: %w", cfg.Name, err)
		}
	}
	return ch, nil
}

// loadMapping reads the offer mapping. Bad rows are quarantined unless
// the mapping is strict; a file with bad rows and no good one refuses to
// start either way.
func loadMapping(cfg ChannelConfig, d Deps) (*Mapping, error) {
	if cfg.Offers.File == "" {
		return IdentityMapping(cfg.Kind), nil
	}
	if d.ReadFile == nil {
		return nil, errors.New("no ReadFile for the mapping file")
	}
	data, err := d.ReadFile(cfg.Offers.File)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMapping, err)
	}
	m, err := ParseMapping(cfg.Kind, cfg.Offers.File, data)
	if err != nil {
		return nil, err
	}
	if cfg.Offers.Strict || (m.Len() == 0 && len(m.Bad) > 0) {
		if err := m.StrictError(); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (c ChannelConfig) headroom() float64 {
	if c.Push.Headroom == 0 {
		return DefaultHeadroom
	}
	return c.Push.Headroom
}

func (c ChannelConfig) timeout() time.Duration {
	if c.Push.Timeout == 0 {
		return DefaultRequestTimeout
	}
	return c.Push.Timeout
}

func buildClient(ch *Channel, d Deps) error {
	cfg := ch.Config
	if cfg.Kind == KindSite {
		return nil
	}
	transport := d.Transport
	if transport == nil {
		transport = NewTransport(cfg.timeout())
	}
	httpc := &http.Client{Timeout: cfg.timeout(), Transport: transport}
	acc := cfg.Account
	switch cfg.Kind {
	case KindOzon:
		return buildOzon(ch, d, httpc)
	case KindWildberries:
		lim, err := wildberries.NewLimiters(cfg.headroom(), d.Now)
		if err != nil {
			return err
		}
		token, err := acc.Token.Resolve(d.Secrets)
		if err != nil {
			return fmt.Errorf("account.token: %w", err)
		}
		pricesToken := ""
		if !acc.PricesToken.IsZero() {
			if pricesToken, err = acc.PricesToken.Resolve(d.Secrets); err != nil {
				return fmt.Errorf("account.prices_token: %w", err)
			}
		}
		c, err := wildberries.New(wildberries.Options{
			MarketplaceURL: orDefault(acc.BaseURL, wildberries.DefaultMarketplaceURL),
			PricesURL:      orDefault(acc.PricesURL, wildberries.DefaultPricesURL),
			Token:          token, PricesToken: pricesToken, HTTP: httpc, Limiters: lim, Now: d.Now,
		})
		if err != nil {
			return err
		}
		ch.Stock, ch.Price, ch.Reader, ch.Tasks = c, c, c, c
		ch.Limiters = named("wildberries.stocks", lim.Stocks, "wildberries.prices", lim.Prices)
	case KindYandexMarket:
		lim, err := yandexmarket.NewLimiters(cfg.headroom(), d.Now)
		if err != nil {
			return err
		}
		key, err := acc.APIKey.Resolve(d.Secrets)
		if err != nil {
			return fmt.Errorf("account.api_key: %w", err)
		}
		method := yandexmarket.StockByCampaign
		if acc.StockMethod == "warehouse" {
			method = yandexmarket.StockByWarehouse
		}
		c, err := yandexmarket.New(yandexmarket.Options{
			BaseURL: orDefault(acc.BaseURL, yandexmarket.DefaultBaseURL), APIKey: key,
			BusinessID: acc.BusinessID, CampaignID: acc.CampaignID, StockMethod: method,
			MaxInFlight: yandexmarket.DefaultMaxInFlight, HTTP: httpc, Limiters: lim, Now: d.Now,
		})
		if err != nil {
			return err
		}
		ch.Stock, ch.Price, ch.Reader = c, c, c
		ch.Limiters = named("yandexmarket.stock_offers", lim.StockOffers, "yandexmarket.stock_requests", lim.StockRequests,
			"yandexmarket.price_offers", lim.PriceOffers)
	}
	return nil
}

func buildOzon(ch *Channel, d Deps, httpc *http.Client) error {
	cfg := ch.Config
	lim, err := ozon.NewLimiters(cfg.headroom(), d.Now)
	if err != nil {
		return err
	}
	clientID, err := cfg.Account.ClientID.Resolve(d.Secrets)
	if err != nil {
		return fmt.Errorf("account.client_id: %w", err)
	}
	key, err := cfg.Account.APIKey.Resolve(d.Secrets)
	if err != nil {
		return fmt.Errorf("account.api_key: %w", err)
	}
	cooldown := cfg.Push.StockCooldown
	if cooldown == 0 {
		cooldown = ozon.StockCooldown
	}
	c, err := ozon.New(ozon.Options{
		BaseURL: orDefault(cfg.Account.BaseURL, ozon.DefaultBaseURL), ClientID: clientID, APIKey: key,
		HTTP: httpc, Limiters: lim, Now: d.Now, OrderWindowBack: orderWindow, OrderWindowAhead: orderWindow,
		StockCooldown: cooldown,
	})
	if err != nil {
		return err
	}
	ch.Stock, ch.Price, ch.Reader = c, c, c
	ch.StockCooldown = cooldown
	ch.PriceCooldown = time.Hour / ozon.PriceChangesPerHour
	ch.Limiters = named("ozon.global", lim.Global, "ozon.stocks", lim.Stocks)
	return nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// named pairs names with the buckets behind marketsim.Limiter values.
func named(pairs ...any) []NamedLimiter {
	var out []NamedLimiter
	for i := 0; i+1 < len(pairs); i += 2 {
		l, _ := pairs[i+1].(marketsim.Limiter)
		if b, ok := l.(*limit.Bucket); ok {
			out = append(out, NamedLimiter{Name: pairs[i].(string), Bucket: b})
		}
	}
	return out
}
