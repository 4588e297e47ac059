package exchange

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"stockd/adapters/onec/cmlevents"
)

// Options are a Handler's configuration and dependencies. Config, Sink and Store are
// required.
type Options struct {
	Config Config
	// Sink receives the events of every import (Kafka in production).
	Sink cmlevents.Sink
	// Store keeps each source's seq and known offers; shared by all sessions.
	Store cmlevents.Store
	// Orders serves type=sale&mode=query; nil means NoOrders.
	Orders OrderSource
	// Logger records background import failures and finished exchanges; nil discards.
	Logger *slog.Logger
	// Now is the clock for session expiry and import times; nil means time.Now.
	Now func() time.Time
	// Rand makes session tokens; nil means crypto/rand.
	Rand io.Reader
}

// Handler serves the 1C exchange protocol (/1c/exchange and
// /bitrix/admin/1c_exchange.php) as a fasthttp.RequestHandler.
//
// Lock order: Handler.mu before session.mu; neither is held while events are published.
type Handler struct {
	cfg      Config
	accounts []*account
	sink     cmlevents.Sink
	store    cmlevents.Store
	orders   OrderSource
	log      *slog.Logger
	now      func() time.Time
	rand     io.Reader

	importSlots chan struct{} // one per running import (MaxConcurrentImports)
	authSlots   chan struct{} // one per password check (MaxConcurrentAuth)
	verified    *verifiedCache
	// uploaded is the bytes in every session directory together
	// (MaxTotalBytes): reserved before a chunk is written, given back
	// when a directory is removed
	uploaded atomic.Int64
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup // import and cleanup goroutines

	mu        sync.Mutex
	sessions  map[[sha256.Size]byte]*session
	lastSweep time.Time
	closed    bool
}

// New checks the configuration, creates WorkDir and removes session directories an
// earlier process left in it.
func New(opts Options) (*Handler, error) {
	cfg := opts.Config
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Sink == nil || opts.Store == nil {
		return nil, fmt.Errorf("%w: Sink and Store are required", ErrInvalidConfig)
	}
	h := &Handler{
		cfg: cfg, sink: opts.Sink, store: opts.Store, orders: opts.Orders, log: opts.Logger, now: opts.Now, rand: opts.Rand,
		importSlots: make(chan struct{}, cfg.MaxConcurrentImports),
		authSlots:   make(chan struct{}, cfg.MaxConcurrentAuth),
		sessions:    map[[sha256.Size]byte]*session{},
	}
	if h.orders == nil {
		h.orders = NoOrders{}
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.rand == nil {
		h.rand = rand.Reader
	}
	verified, err := newVerifiedCache(h.rand)
	if err != nil {
		return nil, fmt.Errorf("exchange: a key for the credentials cache: %w", err)
	}
	h.verified = verified
	for _, a := range cfg.Accounts {
		hash, _ := parsePasswordHash(a.PasswordHash) // checked by Validate
		if a.OrdersSchemaVersion == "" {
			a.OrdersSchemaVersion = DefaultOrdersSchemaVersion
		}
		h.accounts = append(h.accounts, &account{Account: a, loginSum: sha256.Sum256([]byte(a.Login)), hash: hash})
	}
	if err := prepareWorkDir(cfg.WorkDir); err != nil {
		return nil, err
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	return h, nil
}

func prepareWorkDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("exchange: work dir: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("exchange: work dir: %w", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), sessionDirPrefix) {
			if err := os.RemoveAll(dir + string(os.PathSeparator) + e.Name()); err != nil {
				return fmt.Errorf("exchange: remove stale session directory: %w", err)
			}
		}
	}
	return nil
}

// Run sweeps expired sessions every SweepInterval until ctx ends.
func (h *Handler) Run(ctx context.Context) error {
	t := time.NewTicker(h.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			h.Sweep(h.now())
		}
	}
}

// Close ends every session, cancels running imports, waits for them within ctx and
// removes the session directories.
func (h *Handler) Close(ctx context.Context) error {
	h.mu.Lock()
	h.closed = true
	all := make([]*session, 0, len(h.sessions))
	for key, s := range h.sessions {
		all = append(all, s)
		delete(h.sessions, key)
	}
	h.mu.Unlock()
	for _, s := range all {
		h.closeSession(s)
	}
	h.cancel()
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// request is what a protocol request carries, copied out of the fasthttp context.
type request struct {
	typ, mode, filename, sessid, cookie string
}

// Handle serves one request of the protocol. Replies are plain text whose first line
// is success, progress or failure (mode=query answers XML).
func (h *Handler) Handle(ctx *fasthttp.RequestCtx) {
	args := ctx.QueryArgs()
	req := request{
		typ:      string(args.Peek("type")),
		mode:     string(args.Peek("mode")),
		filename: string(args.Peek("filename")),
		sessid:   string(args.Peek("sessid")),
		cookie:   string(ctx.Request.Header.Cookie(h.cfg.CookieName)),
	}
	now := h.now()
	h.maybeSweep(now)
	if req.typ != "catalog" && req.typ != "sale" {
		reply(ctx, h.cfg.Windows1251, replyFailure, "неизвестный type "+strconv.Quote(oneLine(req.typ))+": ожидается catalog или sale")
		return
	}
	if req.mode == "checkauth" {
		h.checkauth(ctx, now)
		return
	}
	s, why := h.lookup(req, now)
	if s == nil {
		reply(ctx, h.cfg.Windows1251, replyFailure, why)
		return
	}
	cp1251 := s.acct.Windows1251
	switch {
	case req.mode == "init":
		h.init(ctx, s)
	case req.mode == "file" && req.typ == "sale":
		h.saleFile(ctx, s, req.filename)
	case req.mode == "import" && req.typ == "sale":
		h.saleImport(ctx, s, req.filename)
	case req.mode == "file":
		h.file(ctx, s, req.filename)
	case req.mode == "import":
		h.importFile(ctx, s, req.filename, now)
	case req.mode == "deactivate" || req.mode == "complete":
		h.finish(ctx, s, req.mode == "complete")
	case req.mode == "query" && req.typ == "sale":
		h.query(ctx, s, now)
	case req.mode == "success" && req.typ == "sale":
		h.success(ctx, s)
	default:
		reply(ctx, cp1251, replyFailure, "неизвестный mode "+strconv.Quote(oneLine(req.mode)))
	}
}

// checkauth checks HTTP Basic credentials and opens a session. Without credentials it
// answers 401 with a Basic challenge, for 1C versions that wait for one.
func (h *Handler) checkauth(ctx *fasthttp.RequestCtx, now time.Time) {
	var header string
	for _, name := range h.cfg.AuthHeaders {
		if v := ctx.Request.Header.Peek(name); len(v) > 0 {
			header = string(v)
			break
		}
	}
	if header == "" {
		reply(ctx, h.cfg.Windows1251, replyFailure, "нужна авторизация (HTTP Basic)")
		ctx.SetStatusCode(fasthttp.StatusUnauthorized)
		ctx.Response.Header.Set("WWW-Authenticate", `Basic realm="1C exchange", charset="UTF-8"`)
		return
	}
	login, password, ok := parseBasic(header)
	if !ok {
		reply(ctx, h.cfg.Windows1251, replyFailure, "неверный заголовок авторизации")
		return
	}
	acct, ok := h.verified.lookup(login, password, now)
	if !ok {
		select {
		case h.authSlots <- struct{}{}:
		default:
			reply(ctx, h.cfg.Windows1251, replyFailure, "сервер занят проверкой паролей, повторите позже")
			return
		}
		acct, ok = authenticate(h.accounts, login, password)
		<-h.authSlots
		if !ok {
			reply(ctx, h.cfg.Windows1251, replyFailure, "неверный логин или пароль")
			return
		}
		h.verified.add(login, password, acct, now)
	}
	s, err := h.newSession(acct, now)
	if err != nil {
		reply(ctx, acct.Windows1251, replyFailure, "сессия не открыта: "+oneLine(err.Error()))
		return
	}
	reply(ctx, acct.Windows1251, replySuccess, h.cfg.CookieName, s.token,
		"sessid="+s.token, "timestamp="+strconv.FormatInt(now.Unix(), 10))
}

// lookup finds the session named by the cookie or the sessid parameter.
func (h *Handler) lookup(req request, now time.Time) (*session, string) {
	token := req.cookie
	if req.sessid != "" {
		if token != "" && token != req.sessid {
			return nil, "ошибка проверки источника запроса: sessid не совпадает с cookie"
		}
		token = req.sessid
	}
	if token == "" {
		return nil, "нет сессии: сначала mode=checkauth"
	}
	key := tokenKey(token)
	h.mu.Lock()
	s := h.sessions[key]
	if s != nil && s.expired(now, h.cfg.SessionIdleTimeout, h.cfg.MaxSessionAge) {
		delete(h.sessions, key)
		h.mu.Unlock()
		h.closeSession(s)
		return nil, "сессия истекла: начните обмен заново (mode=checkauth)"
	}
	h.mu.Unlock()
	if s == nil {
		return nil, "сессия не найдена или истекла: начните обмен заново (mode=checkauth)"
	}
	s.lastSeen.Store(now.UnixNano())
	return s, ""
}

// init starts a new exchange in the session (forgetting earlier uploads) and tells
// 1C whether to zip and how large a chunk may be.
func (h *Handler) init(ctx *fasthttp.RequestCtx, s *session) {
	s.mu.Lock()
	var err error
	switch {
	case s.closed:
		err = errors.New("сессия завершена")
	case s.running == nil && !s.finishing:
		err = s.reset(h)
	}
	s.mu.Unlock()
	if err != nil {
		reply(ctx, s.acct.Windows1251, replyFailure, oneLine(s.relative(err.Error())))
		return
	}
	zip := "zip=no"
	if h.cfg.Zip {
		zip = "zip=yes"
	}
	reply(ctx, s.acct.Windows1251, zip, "file_limit="+strconv.FormatInt(h.cfg.FileLimitBytes, 10))
}
