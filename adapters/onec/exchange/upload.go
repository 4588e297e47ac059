package exchange

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/valyala/fasthttp"
)

// file appends one chunk (the raw request body) to an uploaded file. 1C sends a file
// larger than file_limit as several POSTs with the same filename, in order.
//
// A chunk equal (length and SHA-256) to the one just appended is a retry after a lost
// reply and is not appended again. A chunk starting with an XML declaration for an
// .xml file that already has bytes, or any chunk for a file whose import has finished,
// starts the file over.
func (h *Handler) file(ctx *fasthttp.RequestCtx, s *session, filename string) {
	if _, msg := h.upload(ctx, s, filename); msg != "" {
		reply(ctx, s.acct.Windows1251, replyFailure, oneLine(msg))
		return
	}
	reply(ctx, s.acct.Windows1251, replySuccess)
}

// upload appends the request body to the file it names and returns the sanitised
// name, or a failure text.
func (h *Handler) upload(ctx *fasthttp.RequestCtx, s *session, filename string) (name, failure string) {
	if !ctx.IsPost() {
		return "", "mode=file ждёт POST с содержимым файла"
	}
	name, err := SanitisePath(filename)
	if err != nil {
		return "", "недопустимое имя файла: " + err.Error()
	}
	body := ctx.PostBody() // written before the handler returns, never kept
	if int64(len(body)) > h.cfg.FileLimitBytes {
		return "", fmt.Sprintf("часть файла %d байт больше file_limit=%d", len(body), h.cfg.FileLimitBytes)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return name, s.appendChunk(h, name, body)
}

// appendChunk writes body to name and returns a failure text, or "". Called with mu held.
func (s *session) appendChunk(h *Handler, name string, body []byte) string {
	if s.closed {
		return "сессия завершена"
	}
	if s.running != nil && s.running.inputs[name] {
		return "файл " + name + " сейчас импортируется"
	}
	up := s.files[name]
	if up == nil {
		if len(s.files) >= h.cfg.MaxFilesPerSession {
			return fmt.Sprintf("в сессии уже %d файлов (MaxFilesPerSession)", h.cfg.MaxFilesPerSession)
		}
		up = &upload{}
	}
	restart := false
	if j := s.results[name]; j != nil && j.done {
		restart = true
	}
	if up.size > 0 && strings.EqualFold(path.Ext(name), ".xml") && startsWithXMLDecl(body) {
		restart = true
	}
	sum := sha256.Sum256(body)
	if !restart && up.size > 0 && len(body) == up.lastLen && sum == up.lastHash {
		return "" // a retried chunk, already appended
	}
	total := s.bytes + int64(len(body))
	if restart {
		total -= up.size
	}
	if total > h.cfg.MaxSessionBytes {
		return fmt.Sprintf("сессия превысила %d байт (MaxSessionBytes)", h.cfg.MaxSessionBytes)
	}
	// reserve the chunk's room among all sessions before writing it
	if reserved := int64(len(body)); h.uploaded.Add(reserved) > h.cfg.MaxTotalBytes {
		h.uploaded.Add(-reserved)
		return fmt.Sprintf("сессии обмена вместе заняли %d байт (MaxTotalBytes): завершите или подождите окончания других обменов", h.cfg.MaxTotalBytes)
	}
	written, err := writeChunk(s.path(name), body, restart)
	h.uploaded.Add(written - int64(len(body)))
	if restart {
		s.bytes -= up.size
		h.uploaded.Add(-up.size) // truncated by the write
		up.size = 0
		for key, j := range s.results {
			if j.done && (key == name || j.inputs[name]) {
				delete(s.results, key)
			}
		}
	}
	up.size += written
	s.bytes += written
	s.files[name] = up
	if err != nil {
		up.lastLen = -1
		return "запись файла " + name + ": " + s.relative(err.Error())
	}
	up.lastLen, up.lastHash = len(body), sum
	if strings.EqualFold(path.Ext(name), ".zip") && !slices.Contains(s.zips, name) {
		s.zips = append(s.zips, name)
	}
	return ""
}

// writeChunk appends (or, with restart, writes anew) body to file and returns the
// bytes written.
func writeChunk(file string, body []byte, restart bool) (int64, error) {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return 0, err
	}
	flags := os.O_CREATE | os.O_WRONLY | os.O_APPEND
	if restart {
		flags = os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	}
	f, err := os.OpenFile(file, flags, 0o600)
	if err != nil {
		return 0, err
	}
	n, err := f.Write(body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return int64(n), err
}

// startsWithXMLDecl reports whether a chunk is the start of an XML document.
func startsWithXMLDecl(b []byte) bool {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	return bytes.HasPrefix(b, []byte("<?xml"))
}
