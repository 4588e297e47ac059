// Package exchange serves the 1C exchange protocol ("1c_exchange.php"), so that 1C
// (УТ 11, УНФ, Розница, УТ 10.3, with or without the 1С-Битрикс module) sends its
// catalog, stock and prices to stockd as it would to a website, and takes orders back.
//
// The Handler is a fasthttp.RequestHandler for /1c/exchange and
// /bitrix/admin/1c_exchange.php. Every request is a GET or POST with type= and mode=
// parameters; replies are plain text whose first line is success, progress or failure
// (UTF-8, or windows-1251 for accounts of old 1C versions):
//
//	type=catalog|sale&mode=checkauth   HTTP Basic auth → "success\n<cookie>\n<token>\nsessid=<token>\ntimestamp=<unix>"
//	mode=init                          → "zip=yes|no\nfile_limit=<bytes>"; forgets earlier uploads of the session
//	POST mode=file&filename=NAME       the body is appended to NAME (chunks of ≤ file_limit, in order)
//	mode=import&filename=NAME          starts reading NAME in the background → progress … until success | failure
//	mode=deactivate, mode=complete     finishes the import (missing-offer report); complete ends the session
//	type=sale&mode=query               orders from the OrderSource as CommerceML (text/xml)
//	type=sale&mode=success             the orders of the last query are marked as taken
//	POST type=sale&mode=file           order states from 1C; read once whole, handed to OrderUpdates
//
// After checkauth a request is tied to its session by the cookie or the sessid
// parameter (both given and different: failure). Passwords are kept only as hashes
// (HashPassword, HashPasswordSHA256) and compared in constant time.
//
// Uploaded files live in a directory per session under Config.WorkDir; names are
// sanitised (SanitisePath: no "..", no absolute paths, a safe set of characters,
// folders such as import_files/ab/abc.jpg allowed inside the session directory). A
// chunk identical to the one just appended is a retried request and is not appended
// twice. A zip is not unpacked to disk: the first import after it was uploaded reads its
// XML documents straight from the archive through commerceml.Import (entry count,
// uncompressed bytes and entry names bounded and checked there), in upload order, and
// that one import answers for every document in it.
//
// Each session keeps one commerceml.Reader (so prices and rests see the price types
// and warehouses of import.xml) and one cmlevents.Import, whose events go to the Sink;
// a file's import answers success only once its events are published. The
// missing-offer report of full snapshots is made at deactivate or complete, so a
// snapshot split over several files is judged whole, and an interrupted exchange
// zeroes nothing.
//
// Everything is bounded: sessions (least recently used idle one evicted when full),
// bytes and files per session, chunk size, concurrent imports (over the limit import
// answers progress and 1C asks again), concurrent password checks. A session idle for
// SessionIdleTimeout or older than MaxSessionAge is closed, its import cancelled and
// its directory removed; Run sweeps periodically and every request sweeps when due.
//
// Use:
//
//	h, err := exchange.New(exchange.Options{Config: cfg, Sink: sink, Store: store})
//	go h.Run(ctx)          // sweeps expired sessions
//	server.Handler = h.Handle // routed for /1c/exchange and /bitrix/admin/1c_exchange.php
//	defer h.Close(ctx)
package exchange
