// Package httpapi is stockd's HTTP front door on fasthttp: the checkout's
// reserve API, availability reads, the 1C event intake, health and readiness.
//
// The server never keeps a *fasthttp.RequestCtx or a body slice after a
// handler returns: fasthttp reuses both for the next request on the
// connection, so anything that outlives the handler is copied first.
//
//	srv, err := httpapi.New(httpapi.Options{Backend: eng, Limits: httpapi.DefaultLimits()})
//	go srv.Serve(ln)
//	defer srv.Shutdown(ctx)
package httpapi
