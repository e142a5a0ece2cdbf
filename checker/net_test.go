package checker_test

import (
	"context"
	"net"
	"net/netip"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/checker"
)

// listen returns an accepting loopback listener's address; it sends the
// remote address of every connection it accepts on the returned channel.
func listen(t *testing.T, network, addr string) (netip.AddrPort, <-chan netip.AddrPort) {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		skipNoLoopback(t, addr, err)
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

// probePaths are the two ways a TCP or HTTP probe runs: Probe (on a
// worker, as on an injected clock), and on the Pool's event loop (on the
// system clock) when the loop runs it, Probe otherwise.
var probePaths = map[string]func(checker.Prober, checker.Target) checker.Result{
	"probe": func(p checker.Prober, t checker.Target) checker.Result { return p.Probe(context.Background(), t) },
	"loop": func(p checker.Prober, t checker.Target) checker.Result {
		if r, ok := loopProbe(p, t); ok {
			return r
		}
		return p.Probe(context.Background(), t)
	},
}

// skipNoLoopback skips a test that needs a loopback address this host
// lacks (an IPv6-less container), and fails it in CI, whose machines have
// both.
func skipNoLoopback(t *testing.T, addr string, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("no %s loopback here: %v (CI must run this test)", addr, err)
	}
	t.Skipf("no %s loopback here: %v", addr, err)
}
