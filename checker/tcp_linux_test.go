package checker_test

import (
	"context"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/checker"
)

// fullBacklog returns a loopback listener that never accepts and whose
// accept queue is full: Linux drops further SYNs, so a connect to it hangs
// until the client gives up. That is a connect timeout without sending a
// packet anywhere but loopback.
func fullBacklog(t *testing.T) netip.AddrPort {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	t.Cleanup(func() { syscall.Close(fd) })
	require.NoError(t, syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	require.NoError(t, syscall.Listen(fd, 0))
	sa, err := syscall.Getsockname(fd)
	require.NoError(t, err)
	addr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(sa.(*syscall.SockaddrInet4).Port))
	for range 16 {
		c, err := net.DialTimeout("tcp", addr.String(), 200*time.Millisecond)
		if err != nil {
			return addr // the queue is full
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Fatal("the accept queue never filled")
	return addr
}

func TestTCP(t *testing.T) {
	open, _ := listen(t, "tcp4", "127.0.0.1:0")
	tests := []struct {
		name   string
		probe  checker.TCP
		target netip.AddrPort
		up     bool
		reason string
	}{
		{name: "open", target: open, up: true, reason: "connected"},
		{name: "refused", target: closedPort(t), reason: "connect: connection refused"},
		{name: "connect_port", probe: checker.TCP{ConnectPort: open.Port()}, target: closedPort(t), up: true, reason: "connected"},
		{
			// Nothing listens on 127.0.0.3 at that port: the listener is bound to 127.0.0.1.
			name: "connect_ip", probe: checker.TCP{ConnectIP: open.Addr()},
			target: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.3"), open.Port()), up: true, reason: "connected",
		},
		{
			name: "bind_to of another family", probe: checker.TCP{BindTo: netip.MustParseAddr("::1")},
			target: open, reason: "connect: bind_to ::1 and 127.0.0.1 are of different families",
		},
		{
			name: "timeout", probe: checker.TCP{Timeout: 300 * time.Millisecond},
			target: fullBacklog(t), reason: "connect: timeout after 300ms",
		},
	}
	for path, probe := range probePaths {
		for _, tc := range tests {
			t.Run(path+"/"+tc.name, func(t *testing.T) {
				start := time.Now()
				r := probe(&tc.probe, checker.Target{Addr: tc.target})
				assert.Equal(t, tc.up, r.Up)
				assert.Equal(t, tc.reason, r.Reason)
				assert.Equal(t, checker.NoWeight, r.Weight)
				assert.InDelta(t, time.Since(start), r.Took, float64(50*time.Millisecond))
			})
		}
	}
}

func TestTCPTimeoutTakesTimeout(t *testing.T) {
	addr := fullBacklog(t)
	start := time.Now()
	r := (&checker.TCP{Timeout: 300 * time.Millisecond}).Probe(context.Background(), checker.Target{Addr: addr})
	assert.False(t, r.Up)
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond)
	assert.Less(t, time.Since(start), 2*time.Second)
}

func TestTCPBindTo(t *testing.T) {
	open, peers := listen(t, "tcp4", "127.0.0.1:0")
	src := netip.MustParseAddr("127.0.0.5")
	for path, probe := range probePaths {
		for range 3 { // the source port is chosen at connect time, each time
			r := probe(&checker.TCP{BindTo: src}, checker.Target{Addr: open})
			require.True(t, r.Up, "%s: %s", path, r.Reason)
			assert.Equal(t, src, (<-peers).Addr(), path)
		}
	}
}

func TestTCPIPv6(t *testing.T) {
	open, _ := listen(t, "tcp6", "[::1]:0")
	for path, probe := range probePaths {
		r := probe(&checker.TCP{}, checker.Target{Addr: open})
		assert.True(t, r.Up, "%s: %s", path, r.Reason)
	}
}

func TestTCPCancel(t *testing.T) {
	addr := fullBacklog(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	r := (&checker.TCP{Timeout: 10 * time.Second}).Probe(ctx, checker.Target{Addr: addr})
	assert.False(t, r.Up)
	assert.Equal(t, "connect: canceled", r.Reason)
	assert.Less(t, time.Since(start), 2*time.Second)
}

func TestTCPValidate(t *testing.T) {
	assert.NoError(t, (&checker.TCP{}).Validate())
	err := (&checker.TCP{Timeout: -1, ConnectIP: netip.MustParseAddr("10.0.0.1"), BindTo: netip.MustParseAddr("::1")}).Validate()
	assert.EqualError(t, err, "negative timeout -1ns\nbind_to ::1 and connect_ip 10.0.0.1 are of different families")
}

// A TCP check closes its connection with a reset, leaving no TIME_WAIT
// socket behind: the server reads ECONNRESET, not EOF.
func TestTCPClosesWithReset(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	addr := ln.Addr().(*net.TCPAddr).AddrPort()
	for path, probe := range probePaths {
		r := probe(&checker.TCP{}, checker.Target{Addr: addr})
		require.True(t, r.Up, "%s: %s", path, r.Reason)
		c, err := ln.Accept()
		require.NoError(t, err)
		_, err = c.Read(make([]byte, 1))
		assert.ErrorIs(t, err, syscall.ECONNRESET, path)
		c.Close()
	}
}
