package exchange

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"stockd/adapters/onec/commerceml"
)

// query answers type=sale&mode=query with a CommerceML document of the orders the
// OrderSource has for the account, and remembers their ids for mode=success.
func (h *Handler) query(ctx *fasthttp.RequestCtx, s *session, now time.Time) {
	acct := s.acct
	orders, err := h.orders.Orders(s.ctx, acct.Login, h.cfg.MaxOrdersPerQuery)
	if err != nil {
		reply(ctx, acct.Windows1251, replyFailure, "заказы недоступны: "+oneLine(err.Error()))
		return
	}
	if len(orders) > h.cfg.MaxOrdersPerQuery {
		orders = orders[:h.cfg.MaxOrdersPerQuery]
	}
	opts := commerceml.WriteOptions{
		Encoding:      commerceml.EncodingUTF8,
		SchemaVersion: acct.OrdersSchemaVersion,
		GeneratedAt:   now,
		Container:     acct.OrdersContainer,
		ByteOrderMark: false,
	}
	charset := "utf-8"
	if acct.Windows1251 {
		opts.Encoding, charset = commerceml.EncodingWindows1251, "windows-1251"
	}
	var buf bytes.Buffer
	if err := commerceml.WriteOrders(&buf, orders, opts); err != nil {
		reply(ctx, acct.Windows1251, replyFailure, oneLine(err.Error()))
		return
	}
	ids := make([]string, len(orders))
	for i := range orders {
		ids[i] = orders[i].ID
	}
	s.mu.Lock()
	s.queried = ids
	s.mu.Unlock()
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetContentType("text/xml; charset=" + charset)
	ctx.SetBody(buf.Bytes())
}

// success answers type=sale&mode=success: the orders of the session's last query are
// marked as taken by 1C.
func (h *Handler) success(ctx *fasthttp.RequestCtx, s *session) {
	s.mu.Lock()
	ids := s.queried
	s.queried = nil
	s.mu.Unlock()
	if len(ids) > 0 {
		if err := h.orders.Exported(s.ctx, s.acct.Login, ids); err != nil {
			s.mu.Lock()
			s.queried = ids
			s.mu.Unlock()
			reply(ctx, s.acct.Windows1251, replyFailure, "заказы не отмечены: "+oneLine(err.Error()))
			return
		}
	}
	reply(ctx, s.acct.Windows1251, replySuccess)
}

// Limits of the order documents 1C uploads (type=sale&mode=file).
const (
	// MaxOrderFileBytes bounds an order document (or zip of them) that is read.
	MaxOrderFileBytes = 64 << 20
	// MaxUploadedOrders bounds the orders of one document handed to OrderUpdates.
	MaxUploadedOrders = 10_000
)

// saleFile answers type=sale&mode=file: 1C uploads a document with the state of the
// orders it took, in one request or in chunks. After a chunk that ends the file as a
// whole document ends (the root's end tag, a zip's central directory) the file is read;
// once it reads whole its orders go to OrderUpdates and the upload answers for it. A file
// that does not read yet waits for its next chunk; mode=import (newer 1С-Битрикс
// modules ask for it) reports why it does not read, and the end of the session logs it.
func (h *Handler) saleFile(ctx *fasthttp.RequestCtx, s *session, filename string) {
	cp1251 := s.acct.Windows1251
	name, failure := h.upload(ctx, s, filename)
	if failure != "" {
		reply(ctx, cp1251, replyFailure, oneLine(failure))
		return
	}
	if !orderFile(name) {
		reply(ctx, cp1251, replySuccess) // an attachment: nothing to read
		return
	}
	s.mu.Lock()
	size := s.files[name].size
	s.mu.Unlock()
	if size > MaxOrderFileBytes {
		reply(ctx, cp1251, replyFailure, fmt.Sprintf("документ %s больше %d байт (MaxOrderFileBytes)", name, MaxOrderFileBytes))
		return
	}
	if !mayBeWhole(s.path(name), size) {
		reply(ctx, cp1251, replySuccess) // more chunks follow
		return
	}
	up, err := h.readOrderFile(s, name)
	if err != nil {
		s.mu.Lock()
		if s.salePending == nil {
			s.salePending = map[string]string{}
		}
		s.salePending[name] = s.relative(err.Error())
		s.mu.Unlock()
		reply(ctx, cp1251, replySuccess)
		return
	}
	if err := h.orderFileRead(s, up); err != nil {
		reply(ctx, cp1251, replyFailure, oneLine(err.Error()))
		return
	}
	reply(ctx, cp1251, replySuccess)
}

// saleImport answers type=sale&mode=import for a document uploaded with
// type=sale&mode=file: success once it was read and delivered, else it is read now.
func (h *Handler) saleImport(ctx *fasthttp.RequestCtx, s *session, filename string) {
	cp1251 := s.acct.Windows1251
	name, err := SanitisePath(filename)
	if err != nil {
		reply(ctx, cp1251, replyFailure, "недопустимое имя файла: "+oneLine(err.Error()))
		return
	}
	s.mu.Lock()
	j := s.results[name]
	_, uploaded := s.files[name]
	s.mu.Unlock()
	switch {
	case j != nil && j.done && j.err != nil:
		reply(ctx, cp1251, replyFailure, oneLine(s.relative(j.err.Error())))
		return
	case j != nil && j.done:
		reply(ctx, cp1251, replySuccess)
		return
	case !uploaded:
		reply(ctx, cp1251, replyFailure, "файл "+name+" не загружен (mode=file)")
		return
	case !orderFile(name):
		reply(ctx, cp1251, replySuccess)
		return
	}
	up, err := h.readOrderFile(s, name)
	if err == nil {
		err = h.orderFileRead(s, up)
	} else {
		h.finishOrderFile(s, name, err)
	}
	if err != nil {
		reply(ctx, cp1251, replyFailure, oneLine(s.relative(err.Error())))
		return
	}
	reply(ctx, cp1251, replySuccess)
}

// The end of a whole document: the root's end tag in UTF-8 and in windows-1251, and
// a zip's end-of-central-directory signature.
var (
	rootEndUTF8   = []byte("КоммерческаяИнформация>")
	rootEndCP1251 = []byte("\xca\xee\xec\xec\xe5\xf0\xf7\xe5\xf1\xea\xe0\xff\xc8\xed\xf4\xee\xf0\xec\xe0\xf6\xe8\xff>")
	zipEnd        = []byte("PK\x05\x06")
)

// maxZipTail is how far from its end a zip's end-of-central-directory record may
// start (22 bytes and a comment of up to 65,535).
const maxZipTail = 22 + 65_535

// mayBeWhole reports whether an uploaded document ends as a whole one does, so that
// a file of many chunks is read once, not after every chunk.
func mayBeWhole(file string, size int64) bool {
	tail := int64(len(rootEndUTF8) + 64)
	isZip := strings.EqualFold(path.Ext(file), ".zip")
	if isZip {
		tail = maxZipTail
	}
	tail = min(tail, size)
	f, err := os.Open(file)
	if err != nil {
		return true // the read reports it
	}
	defer f.Close()
	buf := make([]byte, tail)
	if _, err := f.ReadAt(buf, size-tail); err != nil {
		return true
	}
	if isZip {
		return bytes.Contains(buf, zipEnd)
	}
	buf = bytes.TrimRight(buf, " \t\r\n\x00")
	return bytes.HasSuffix(buf, rootEndUTF8) || bytes.HasSuffix(buf, rootEndCP1251)
}

// orderFile reports whether an uploaded name is read as order documents.
func orderFile(name string) bool {
	ext := path.Ext(name)
	return strings.EqualFold(ext, ".xml") || strings.EqualFold(ext, ".zip")
}

// readOrderFile reads the orders of an uploaded document (or zip of documents).
func (h *Handler) readOrderFile(s *session, name string) (OrderUpload, error) {
	up := OrderUpload{File: name}
	r, err := commerceml.NewReader(h.cfg.ReaderLimits)
	if err != nil {
		return up, err
	}
	v := commerceml.VisitorFuncs{
		OnOrder: func(_ context.Context, o commerceml.Order) error {
			up.Total++
			if len(up.Orders) < MaxUploadedOrders {
				up.Orders = append(up.Orders, o)
			}
			return nil
		},
		OnWarning: func(context.Context, commerceml.Warning) error {
			up.Warnings++
			return nil
		},
	}
	file := s.path(name)
	if strings.EqualFold(path.Ext(name), ".zip") {
		_, err = commerceml.Import(s.ctx, r, []string{file}, v)
		return up, err
	}
	f, err := os.Open(file)
	if err != nil {
		return up, err
	}
	defer f.Close()
	_, err = r.Read(s.ctx, name, f, v)
	return up, err
}

// orderFileRead logs a document read whole, hands it to OrderUpdates and records
// the outcome, which later chunks and mode=import answer from.
func (h *Handler) orderFileRead(s *session, up OrderUpload) error {
	h.log.Info("1C exchange: order documents received", "login", s.acct.Login, "file", up.File,
		"orders", up.Total, "warnings", up.Warnings)
	var err error
	if u, ok := h.orders.(OrderUpdates); ok {
		if err = u.OrdersUpdated(s.ctx, s.acct.Login, up); err != nil {
			err = fmt.Errorf("заказы из %s не приняты: %w", up.File, err)
		}
	}
	h.finishOrderFile(s, up.File, err)
	return err
}

// finishOrderFile records that an order document is done: its next chunk starts it
// over (appendChunk), mode=import answers from err.
func (h *Handler) finishOrderFile(s *session, name string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.salePending, name)
	s.results[name] = &job{file: name, inputs: map[string]bool{}, done: true, err: err}
}
