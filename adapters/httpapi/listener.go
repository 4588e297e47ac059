package httpapi

import (
	"net"
	"sync"
	"time"
)

// tcpKeepalivePeriod is the TCP keep-alive probe period of the API's
// connections.
const tcpKeepalivePeriod = 30 * time.Second

// perIPListener refuses a connection from an address that already has
// max open ones: the connection is closed at once, before any byte is
// read. fasthttp has its own MaxConnsPerIP, but its connection wrapper
// races with ShutdownWithContext (seen under -race), so the limit lives
// here and fasthttp's is left at 0. fasthttp sets TCP keep-alive only on a
// bare *net.TCPConn, which the wrapper hides, so Accept sets it.
type perIPListener struct {
	net.Listener
	max   int
	mu    sync.Mutex
	count map[string]int
}

func limitPerIP(ln net.Listener, max int) net.Listener {
	if max <= 0 {
		return ln
	}
	return &perIPListener{Listener: ln, max: max, count: make(map[string]int)}
}

func (l *perIPListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := remoteIP(c)
		l.mu.Lock()
		if l.count[ip] >= l.max {
			l.mu.Unlock()
			c.Close()
			continue
		}
		l.count[ip]++
		l.mu.Unlock()
		if tc, ok := c.(*net.TCPConn); ok {
			// errors here leave the connection as the OS made it, as
			// fasthttp's own setting does
			_ = tc.SetKeepAlive(true)
			_ = tc.SetKeepAlivePeriod(tcpKeepalivePeriod)
		}
		return &countedConn{Conn: c, ip: ip, l: l}, nil
	}
}

func (l *perIPListener) release(ip string) {
	l.mu.Lock()
	if l.count[ip]--; l.count[ip] <= 0 {
		delete(l.count, ip)
	}
	l.mu.Unlock()
}

type countedConn struct {
	net.Conn
	ip   string
	l    *perIPListener
	once sync.Once
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.ip) })
	return err
}

func remoteIP(c net.Conn) string {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.IP.String()
	}
	host, _, err := net.SplitHostPort(c.RemoteAddr().String())
	if err != nil {
		return c.RemoteAddr().String()
	}
	return host
}
