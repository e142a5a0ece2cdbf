package checker

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// freePort is a TCP port on loopback nobody uses now.
func freePort(t *testing.T) uint16 {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return uint16(ln.Addr().(*net.TCPAddr).Port)
}

// TestSourceTCPAndHTTP: bind_port is the source port the server sees,
// bind_if binds to the interface (lo reaches loopback, an interface that
// does not exist fails the check with the kernel's reason).
func TestSourceTCPAndHTTP(t *testing.T) {
	peers := make(chan string, 4)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			peers <- c.RemoteAddr().String()
			c.Close()
		}
	}()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { peers <- r.RemoteAddr }))
	t.Cleanup(srv.Close)

	tcpTarget := Target{Addr: netip.MustParseAddrPort(ln.Addr().String())}
	httpTarget := Target{Addr: netip.MustParseAddrPort(strings.TrimPrefix(srv.URL, "http://"))}
	port := freePort(t)
	tests := []struct {
		name   string
		prober Prober
		target Target
		up     bool
		peer   string // the source the server saw, if up
		reason string
	}{
		{"tcp bind_port", &TCP{Source: Source{Port: port}, Timeout: time.Second}, tcpTarget, true, "127.0.0.1:" + itoa(port), ""},
		{"tcp bind_if lo", &TCP{Source: Source{Interface: "lo"}, Timeout: time.Second}, tcpTarget, true, "", ""},
		{"tcp bind_if missing", &TCP{Source: Source{Interface: "nosuch0"}, Timeout: time.Second}, tcpTarget, false, "", "connect: no such device"},
		{"http bind_port and bind_if", &HTTP{URLs: []URL{{Path: "/"}}, Source: Source{Port: port, Interface: "lo"}, Timeout: time.Second}, httpTarget, true, "127.0.0.1:" + itoa(port), ""},
		// Again from the same port. (On loopback the kernel reuses a
		// TIME_WAIT pair anyway, tcp_tw_reuse=2: this does not show
		// that http's reset close is needed elsewhere.)
		{"http bind_port again", &HTTP{URLs: []URL{{Path: "/"}}, Source: Source{Port: port}, Timeout: time.Second}, httpTarget, true, "127.0.0.1:" + itoa(port), ""},
		{"tcp bind_port again", &TCP{Source: Source{Port: port}, Timeout: time.Second}, tcpTarget, true, "127.0.0.1:" + itoa(port), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, tc.prober.(Validator).Validate())
			r := tc.prober.Probe(context.Background(), tc.target)
			assert.Equal(t, tc.up, r.Up, r.Reason)
			assert.Contains(t, r.Reason, tc.reason)
			if tc.up {
				got := <-peers
				if tc.peer != "" {
					assert.Equal(t, tc.peer, got)
				}
			}
		})
	}
	bad := &TCP{Source: Source{Interface: "a/b"}}
	assert.ErrorContains(t, bad.Validate(), `bind_if "a/b" is not an interface name`)
}

func itoa(p uint16) string {
	return netip.AddrPortFrom(netip.IPv4Unspecified(), p).String()[len("0.0.0.0:"):]
}
