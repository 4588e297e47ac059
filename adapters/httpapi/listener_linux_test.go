package httpapi

import (
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestPerIPListenerSetsKeepalive: the per-IP limit's connection wrapper
// hides the *net.TCPConn from fasthttp, which then skips its TCPKeepalive;
// the listener sets keep-alive at the API's period itself (Go's own
// default for accepted connections is 15 s).
func TestPerIPListenerSetsKeepalive(t *testing.T) {
	var lc net.ListenConfig
	inner, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := limitPerIP(inner, 4)
	defer ln.Close()
	client, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cc, ok := c.(*countedConn)
	if !ok {
		t.Fatalf("accepted %T, want the per-IP wrapper", c)
	}
	raw, err := cc.Conn.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var on, idle int
	var optErr error
	if err := raw.Control(func(fd uintptr) {
		if on, optErr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_KEEPALIVE); optErr == nil {
			idle, optErr = unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_KEEPIDLE)
		}
	}); err != nil || optErr != nil {
		t.Fatal(err, optErr)
	}
	if on != 1 || time.Duration(idle)*time.Second != tcpKeepalivePeriod {
		t.Fatalf("SO_KEEPALIVE %d, TCP_KEEPIDLE %d s; want on, %v", on, idle, tcpKeepalivePeriod)
	}
}
