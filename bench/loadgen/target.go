package loadgen

import (
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// loopbackAddr checks that target names a port on the loopback interface
// and returns it as a dialable host:port. "localhost" becomes 127.0.0.1 so
// that no resolver is consulted.
func loopbackAddr(target string) (string, error) {
	hostPort, hadScheme := strings.CutPrefix(target, "http://")
	if hadScheme {
		hostPort = strings.TrimSuffix(hostPort, "/")
	}
	if strings.ContainsAny(hostPort, "/?#@") {
		return "", fmt.Errorf("%w: %q: want host:port", ErrNotLoopback, target)
	}
	host, port, err := net.SplitHostPort(hostPort)
	if err != nil || port == "" {
		return "", fmt.Errorf("%w: %q: want host:port", ErrNotLoopback, target)
	}
	if strings.EqualFold(host, "localhost") {
		return net.JoinHostPort("127.0.0.1", port), nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return "", fmt.Errorf("%w: %q (only 127.0.0.0/8, ::1 and localhost)", ErrNotLoopback, target)
	}
	return net.JoinHostPort(ip.String(), port), nil
}

// dialLoopback dials only loopback addresses, whatever address fasthttp
// passes: a second check that no connection leaves the machine.
func dialLoopback(timeout time.Duration) fasthttp.DialFunc {
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	return func(addr string) (net.Conn, error) {
		checked, err := loopbackAddr(addr)
		if err != nil {
			return nil, err
		}
		return dialer.Dial("tcp", checked)
	}
}

// newHostClient sets every fasthttp client option: keep-alive connections,
// no retries (a POST is not idempotent), bounded buffers and timeouts.
func newHostClient(addr string, cfg Config) *fasthttp.HostClient {
	return &fasthttp.HostClient{
		Addr:                          addr,
		Name:                          "stockd-loadgen",
		NoDefaultUserAgentHeader:      false,
		Dial:                          dialLoopback(cfg.DialTimeout),
		DialTimeout:                   nil, // Dial above carries the timeout
		DialDualStack:                 false,
		IsTLS:                         false,
		TLSConfig:                     nil,
		Transport:                     nil,
		MaxConns:                      cfg.Connections,
		MaxConnDuration:               0, // keep connections for the whole run
		MaxIdleConnDuration:           MaxIdleConnTime,
		MaxIdemponentCallAttempts:     1,
		RetryIf:                       nil,
		RetryIfErr:                    nil,
		RetryIfErrUpstream:            nil,
		ReadBufferSize:                ReadBufferBytes,
		WriteBufferSize:               WriteBufferBytes,
		ReadTimeout:                   cfg.RequestTimeout,
		WriteTimeout:                  cfg.RequestTimeout,
		MaxResponseBodySize:           MaxResponseBytes,
		MaxConnWaitTimeout:            cfg.RequestTimeout,
		ConnPoolStrategy:              fasthttp.LIFO,
		DisableHeaderNamesNormalizing: false,
		DisablePathNormalizing:        false,
		SecureErrorLogMessage:         true,
		StreamResponseBody:            false,
	}
}
