package exchange

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"stockd/adapters/onec/commerceml"
)

// importFile answers mode=import. The first request for a file starts its import in
// the background and answers progress; 1C repeats the request and gets progress until
// the import ends, then success or failure. The first import after zips were uploaded
// reads every XML document in them (in the order 1C uploads them), and answers for
// each of their names, until the next zip is uploaded.
func (h *Handler) importFile(ctx *fasthttp.RequestCtx, s *session, filename string, now time.Time) {
	cp1251 := s.acct.Windows1251
	name, err := SanitisePath(filename)
	if err != nil {
		reply(ctx, cp1251, replyFailure, "недопустимое имя файла: "+oneLine(err.Error()))
		return
	}
	s.mu.Lock()
	lines := h.startOrReport(s, name, now)
	s.mu.Unlock()
	reply(ctx, cp1251, lines...)
}

// startOrReport returns the reply lines for an import request. Called with s.mu held.
func (h *Handler) startOrReport(s *session, name string, now time.Time) []string {
	if s.closed {
		return []string{replyFailure, "сессия завершена"}
	}
	// A finished import answers for its names until another zip is
	// uploaded: then the name may be in the new zip ("offers.xml" in a
	// second archive of the same session), and a new import reads it.
	if j := s.results[name]; j != nil && !(j.done && len(s.zips) > 0) {
		switch {
		case !j.done:
			offers, _ := j.imp.Progress()
			return []string{replyProgress, fmt.Sprintf("импорт %s: обработано предложений %d", j.file, offers)}
		case j.err != nil:
			return []string{replyFailure, oneLine(s.relative(j.err.Error()))}
		}
		return []string{replySuccess}
	}
	if s.running != nil {
		return []string{replyProgress, "ожидание: идёт импорт " + s.running.file}
	}
	if s.finishing {
		return []string{replyProgress, "ожидание: завершается предыдущий обмен"}
	}
	_, uploaded := s.files[name]
	plainXML := uploaded && strings.EqualFold(path.Ext(name), ".xml")
	if uploaded && !plainXML && !strings.EqualFold(path.Ext(name), ".zip") {
		return []string{replySuccess} // an image or other attachment: nothing to import
	}
	if !plainXML && len(s.zips) == 0 {
		return []string{replyFailure, "файл " + name + " не загружен (mode=file)"}
	}
	select {
	case h.importSlots <- struct{}{}:
	default:
		return []string{replyProgress, "ожидание очереди импорта"}
	}
	imp, err := s.importer(h, now)
	if err != nil {
		<-h.importSlots
		return []string{replyFailure, oneLine(err.Error())}
	}
	j := &job{file: name, inputs: map[string]bool{}, imp: imp}
	zips := s.zips
	s.zips = nil
	for _, z := range zips {
		j.inputs[z] = true
		s.results[z] = j
		entries, ok := zipEntryNames(s.path(z), h.cfg.ReaderLimits.MaxZipEntries)
		for _, entry := range entries {
			s.results[entry] = j
		}
		if !ok {
			// the zip cannot be listed (truncated, not a zip, too many
			// entries): the name asked for gets the import's failure,
			// which says why, not "not uploaded"
			s.results[name] = j
		}
	}
	file := ""
	if plainXML {
		file = name
		j.inputs[name] = true
		s.results[name] = j
	}
	s.running = j
	s.busy.Store(true)
	s.work.Add(1)
	h.wg.Add(1)
	go h.runJob(s, j, zips, file)
	return []string{replyProgress, "импорт начат: " + name}
}

// zipEntryNames lists the names an archive's documents may be asked for by: each
// entry's path and its base name. An archive that cannot be listed gives ok false
// (its import reports why).
func zipEntryNames(zipPath string, maxEntries int) (names []string, ok bool) {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return nil, false
	}
	defer zr.Close()
	if len(zr.File) > maxEntries {
		return nil, false
	}
	for _, f := range zr.File {
		name, err := SanitisePath(f.Name)
		if err != nil || !strings.EqualFold(path.Ext(name), ".xml") {
			continue
		}
		names = append(names, name)
		if base := path.Base(name); base != name {
			names = append(names, base)
		}
	}
	return names, true
}

// runJob reads the job's zips and file into the session's import and publishes the
// events, then records the outcome.
func (h *Handler) runJob(s *session, j *job, zips []string, file string) {
	defer h.wg.Done()
	defer s.work.Done()
	defer func() { <-h.importSlots }()
	err := h.read(s.ctx, s, j, zips, file)
	if err == nil {
		err = j.imp.Flush(s.ctx)
	}
	if err != nil {
		h.log.Warn("1C exchange: import failed", "login", s.acct.Login, "file", j.file, "err", err)
	}
	s.mu.Lock()
	j.done, j.err = true, err
	s.running = nil
	s.busy.Store(s.finishing)
	s.mu.Unlock()
}

func (h *Handler) read(ctx context.Context, s *session, j *job, zips []string, file string) error {
	if len(zips) > 0 {
		paths := make([]string, len(zips))
		for i, z := range zips {
			paths[i] = s.path(z)
		}
		if _, err := commerceml.Import(ctx, s.reader, paths, j.imp); err != nil {
			return err
		}
	}
	if file == "" {
		return nil
	}
	f, err := os.Open(s.path(file))
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = s.reader.Read(ctx, file, f, j.imp)
	return err
}

// finish answers mode=deactivate and mode=complete: the session's import is finished
// (offers missing from full snapshots reported, and zeroed if so configured). After
// complete the session ends and its directory is removed.
func (h *Handler) finish(ctx *fasthttp.RequestCtx, s *session, complete bool) {
	cp1251 := s.acct.Windows1251
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		reply(ctx, cp1251, replyFailure, "сессия завершена")
		return
	case s.running != nil:
		file := s.running.file
		s.mu.Unlock()
		reply(ctx, cp1251, replyProgress, "ожидание: идёт импорт "+file)
		return
	case s.finishing:
		s.mu.Unlock()
		reply(ctx, cp1251, replyProgress, "ожидание: обмен завершается")
		return
	}
	imp := s.imp
	s.imp, s.reader = nil, nil
	s.finishing = true
	s.busy.Store(true)
	s.work.Add(1)
	s.mu.Unlock()

	var err error
	if imp != nil {
		sum, ferr := imp.Finish(s.ctx)
		err = ferr
		h.log.Info("1C exchange: import finished", "login", s.acct.Login, "source", s.acct.Events.Source,
			"offers", sum.Offers, "stock_sets", sum.StockSets, "prices", sum.Prices, "items", sum.Items,
			"deletes", sum.Deletes, "missing", sum.MissingCount, "zeroed", sum.Zeroed, "warnings", sum.WarningCount, "err", err)
	}
	s.mu.Lock()
	s.finishing = false
	s.busy.Store(false)
	s.mu.Unlock()
	s.work.Done()
	if err != nil {
		if errors.Is(err, context.Canceled) {
			err = errors.New("обмен прерван")
		}
		reply(ctx, cp1251, replyFailure, oneLine(err.Error()))
		return
	}
	if complete {
		h.endSession(s)
	}
	reply(ctx, cp1251, replySuccess)
}
