package exchange

import (
	"fmt"
	"time"

	"stockd/adapters/onec/cmlevents"
	"stockd/adapters/onec/commerceml"
)

// Account is one 1C base allowed to exchange: its credentials and how its files become
// events.
type Account struct {
	// Login is the user name 1C sends with HTTP Basic auth.
	Login string `yaml:"login"`
	// PasswordHash is the password as HashPassword or HashPasswordSHA256 wrote it,
	// never the password itself.
	PasswordHash string `yaml:"password_hash"`
	// Events says how this base's CommerceML becomes events (its Source names the base).
	Events cmlevents.Config `yaml:"events"`
	// Windows1251 answers in windows-1251 instead of UTF-8, for old 1C versions
	// (8.2 and early 8.3 configurations read the replies as windows-1251).
	Windows1251 bool `yaml:"windows_1251"`
	// OrdersSchemaVersion is the ВерсияСхемы of the orders document (type=sale&mode=query).
	OrdersSchemaVersion string `yaml:"orders_schema_version"`
	// OrdersContainer wraps each order in <Контейнер>, as 1С-Битрикс module ≥ 6.5 expects.
	OrdersContainer bool `yaml:"orders_container"`
}

// Config is the exchange endpoint's configuration. Every limit has a default in
// DefaultConfig.
type Config struct {
	// WorkDir holds one directory per session for the uploaded files. Directories
	// left there by an earlier process are removed by New.
	WorkDir string `yaml:"work_dir"`
	// Accounts are the 1C bases allowed to exchange.
	Accounts []Account `yaml:"accounts"`
	// CookieName is the session cookie name sent in the checkauth reply.
	CookieName string `yaml:"cookie_name"`
	// AuthHeaders are the request headers read for HTTP Basic credentials, in order: a
	// proxy in front of stockd may pass Authorization under another name.
	AuthHeaders []string `yaml:"auth_headers"`
	// Zip answers init with zip=yes: 1C then sends one zip of the whole exchange.
	Zip bool `yaml:"zip"`
	// FileLimitBytes is the file_limit of the init reply: 1C splits larger files into
	// chunks of at most this size, and a larger chunk is refused. The HTTP server's
	// request body limit must be at least this.
	FileLimitBytes int64 `yaml:"file_limit_bytes"`
	// Windows1251 encodes replies to requests not yet tied to an account (a failed
	// checkauth) in windows-1251.
	Windows1251 bool `yaml:"windows_1251"`

	MaxSessions          int           `yaml:"max_sessions"`           // open sessions over all accounts
	MaxSessionBytes      int64         `yaml:"max_session_bytes"`      // bytes uploaded into one session's directory
	MaxTotalBytes        int64         `yaml:"max_total_bytes"`        // bytes uploaded into all sessions' directories together
	MaxFilesPerSession   int           `yaml:"max_files_per_session"`  // distinct files uploaded in one session
	MaxConcurrentImports int           `yaml:"max_concurrent_imports"` // imports running at once, over all sessions
	MaxConcurrentAuth    int           `yaml:"max_concurrent_auth"`    // password checks at once (each costs a PBKDF2)
	MaxOrdersPerQuery    int           `yaml:"max_orders_per_query"`   // orders in one type=sale&mode=query reply
	SessionIdleTimeout   time.Duration `yaml:"session_idle_timeout"`   // a session with no request for this long expires
	MaxSessionAge        time.Duration `yaml:"max_session_age"`        // a session older than this expires, busy or not
	SweepInterval        time.Duration `yaml:"sweep_interval"`         // how often expired sessions are looked for
	// ReaderLimits bound the CommerceML reader of each session (zip entries and bytes,
	// element depth, text sizes).
	ReaderLimits commerceml.Limits `yaml:"-"`
}

// Defaults.
const (
	DefaultCookieName           = "EXCHSID"
	DefaultFileLimitBytes       = 1 << 20
	DefaultMaxSessions          = 64
	DefaultMaxSessionBytes      = 4 << 30
	DefaultMaxTotalBytes        = 16 << 30
	DefaultMaxFilesPerSession   = 100_000
	DefaultMaxConcurrentImports = 2
	DefaultMaxConcurrentAuth    = 2
	DefaultMaxOrdersPerQuery    = 1000
	DefaultSessionIdleTimeout   = 30 * time.Minute
	DefaultMaxSessionAge        = 24 * time.Hour
	DefaultSweepInterval        = time.Minute
	DefaultOrdersSchemaVersion  = "2.08"
)

// DefaultConfig returns a Config with every limit at its default, zip on, and no accounts.
func DefaultConfig(workDir string) Config {
	limits := commerceml.DefaultLimits()
	limits.MaxZipBytes = 8 << 30
	return Config{
		WorkDir:              workDir,
		CookieName:           DefaultCookieName,
		AuthHeaders:          []string{"Authorization", "X-Authorization", "X-Http-Authorization"},
		Zip:                  true,
		FileLimitBytes:       DefaultFileLimitBytes,
		MaxSessions:          DefaultMaxSessions,
		MaxSessionBytes:      DefaultMaxSessionBytes,
		MaxTotalBytes:        DefaultMaxTotalBytes,
		MaxFilesPerSession:   DefaultMaxFilesPerSession,
		MaxConcurrentImports: DefaultMaxConcurrentImports,
		MaxConcurrentAuth:    DefaultMaxConcurrentAuth,
		MaxOrdersPerQuery:    DefaultMaxOrdersPerQuery,
		SessionIdleTimeout:   DefaultSessionIdleTimeout,
		MaxSessionAge:        DefaultMaxSessionAge,
		SweepInterval:        DefaultSweepInterval,
		ReaderLimits:         limits,
	}
}

// MaxAccounts bounds Config.Accounts (checkauth compares against every one).
const MaxAccounts = 256

// Validate reports the first unusable field.
func (c Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)
	}
	switch {
	case c.WorkDir == "":
		return bad("WorkDir is required")
	case len(c.Accounts) == 0 || len(c.Accounts) > MaxAccounts:
		return bad("1..%d accounts, got %d", MaxAccounts, len(c.Accounts))
	case !validCookieName(c.CookieName):
		return bad("CookieName %q must be 1..64 letters, digits, '_' or '-'", c.CookieName)
	case len(c.AuthHeaders) == 0:
		return bad("AuthHeaders is empty")
	case c.FileLimitBytes < 1024:
		return bad("FileLimitBytes %d is below 1024", c.FileLimitBytes)
	case c.MaxSessions < 1, c.MaxFilesPerSession < 1, c.MaxConcurrentImports < 1, c.MaxConcurrentAuth < 1, c.MaxOrdersPerQuery < 1:
		return bad("MaxSessions, MaxFilesPerSession, MaxConcurrentImports, MaxConcurrentAuth and MaxOrdersPerQuery must be positive")
	case c.MaxSessionBytes < c.FileLimitBytes:
		return bad("MaxSessionBytes %d is below FileLimitBytes %d", c.MaxSessionBytes, c.FileLimitBytes)
	case c.MaxTotalBytes < c.MaxSessionBytes:
		return bad("MaxTotalBytes %d is below MaxSessionBytes %d", c.MaxTotalBytes, c.MaxSessionBytes)
	case c.SessionIdleTimeout <= 0 || c.MaxSessionAge <= 0 || c.SweepInterval <= 0:
		return bad("SessionIdleTimeout, MaxSessionAge and SweepInterval must be positive")
	}
	if _, err := commerceml.NewReader(c.ReaderLimits); err != nil {
		return bad("ReaderLimits: %v", err)
	}
	logins := map[string]bool{}
	for i, a := range c.Accounts {
		if a.Login == "" || logins[a.Login] {
			return bad("account %d: login empty or repeated", i)
		}
		logins[a.Login] = true
		if _, err := parsePasswordHash(a.PasswordHash); err != nil {
			return bad("account %q: %v", a.Login, err)
		}
		if err := a.Events.Validate(); err != nil {
			return fmt.Errorf("exchange: account %q: %w", a.Login, err)
		}
	}
	return nil
}

func validCookieName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
