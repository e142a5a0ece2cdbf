package checker_test

import (
	"net"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

// listen returns an accepting loopback listener's address; it sends the
// remote address of every connection it accepts on the returned channel.
func listen(t *testing.T, network, addr string) (netip.AddrPort, <-chan netip.AddrPort) {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Skipf("no %s loopback here: %v", addr, err)
	}
	t.Cleanup(func() { ln.Close() })
	peers := make(chan netip.AddrPort, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			select {
			case peers <- c.RemoteAddr().(*net.TCPAddr).AddrPort():
			default:
			}
			c.Close()
		}
	}()
	return ln.Addr().(*net.TCPAddr).AddrPort(), peers
}

// closedPort returns a loopback address where nothing listens.
func closedPort(t *testing.T) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	a := ln.Addr().(*net.TCPAddr).AddrPort()
	ln.Close()
	return a
}
