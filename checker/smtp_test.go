package checker_test

import (
	"bufio"
	"context"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/checker"
)

// aiosmtpdPython returns a python3 that has aiosmtpd (Debian's
// python3-aiosmtpd is for /usr/bin/python3, which may not be first in PATH).
func aiosmtpdPython(t testing.TB) string {
	t.Helper()
	candidates := []string{"/usr/bin/python3"}
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, p)
	}
	for _, py := range candidates {
		if exec.Command(py, "-c", "import aiosmtpd").Run() == nil {
			return py
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI is set and no python3 has aiosmtpd (install python3-aiosmtpd; make host-deps does)")
	}
	t.Skip("no python3 has aiosmtpd (install python3-aiosmtpd; make host-deps does)")
	return ""
}

// startAiosmtpd runs aiosmtpd in the namespace on addr and waits for it.
func startAiosmtpd(t testing.TB, n *peerNS, addr netip.AddrPort) {
	t.Helper()
	py := aiosmtpdPython(t)
	// aiosmtpd splits HOST:PORT at the last colon: no brackets for IPv6.
	n.start(t, py, "-m", "aiosmtpd", "-n", "-l", addr.Addr().String()+":"+strconv.Itoa(int(addr.Port())))
	waitTCP(t, addr)
}

// fakeSMTP is a loopback server that writes lines: a greeting, then one
// line per command read. An empty greeting says nothing at all.
func fakeSMTP(t *testing.T, greeting string, replies ...string) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if greeting == "" {
					_, _ = c.Read(make([]byte, 1))
					return
				}
				_, _ = c.Write([]byte(greeting + "\r\n"))
				r := bufio.NewReader(c)
				for _, line := range replies {
					if _, err := r.ReadString('\n'); err != nil {
						return
					}
					_, _ = c.Write([]byte(line + "\r\n"))
				}
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).AddrPort()
}

func TestSMTP(t *testing.T) {
	n := newPeerNS(t)
	smtp := netip.AddrPortFrom(n.peer, 2525)
	smtp6 := netip.AddrPortFrom(n.peer6, 2526)
	startAiosmtpd(t, n, smtp)
	startAiosmtpd(t, n, smtp6)
	const timeout = 300 * time.Millisecond
	tests := []struct {
		name   string
		probe  checker.SMTP
		target netip.AddrPort
		drop   string
		up     bool
		reason string
	}{
		{name: "aiosmtpd", target: smtp, up: true, reason: "HELO answered 250"},
		{name: "aiosmtpd over IPv6, helo_name", probe: checker.SMTP{HeloName: "lb1.example.com"}, target: smtp6, up: true, reason: "HELO answered 250"},
		{name: "connect_ip and connect_port", probe: checker.SMTP{ConnectIP: n.peer, ConnectPort: 2525}, target: netip.MustParseAddrPort("192.0.2.1:25"), up: true, reason: "HELO answered 250"},
		{name: "refused", target: netip.AddrPortFrom(n.peer, 26), reason: "connect: connection refused"},
		{name: "connect timeout", probe: checker.SMTP{Timeout: timeout}, target: smtp, drop: "tcp dport 2525", reason: "connect: timeout after 300ms"},
		{name: "no greeting", probe: checker.SMTP{Timeout: timeout}, target: fakeSMTP(t, ""), reason: "greeting: timeout after 300ms"},
		{name: "greeting not 220", target: fakeSMTP(t, "554 5.3.2 not now"), reason: "greeting: 554 5.3.2 not now"},
		{name: "HELO refused", target: fakeSMTP(t, "220 hi", "501 5.5.4 syntax"), reason: "HELO: 501 5.5.4 syntax"},
		{name: "multi-line greeting and HELO", target: fakeSMTP(t, "220-hi\r\n220 there", "250-one\r\n250 two"), up: true, reason: "HELO answered 250"},
		{name: "closed after greeting", target: fakeSMTP(t, "220 hi"), reason: "HELO: connection closed by peer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.drop != "" {
				n.drop(t, tc.drop)
				defer n.undrop(t)
			}
			require.NoError(t, tc.probe.Validate())
			r := tc.probe.Probe(context.Background(), checker.Target{Addr: tc.target})
			assert.Equal(t, tc.up, r.Up)
			assert.Equal(t, tc.reason, r.Reason)
			assert.Equal(t, checker.NoWeight, r.Weight)
		})
	}
}

// TestSMTPRecovers stops the server and starts it again.
func TestSMTPRecovers(t *testing.T) {
	n := newPeerNS(t)
	addr := netip.AddrPortFrom(n.peer, 2525)
	py := aiosmtpdPython(t)
	cmd := n.start(t, py, "-m", "aiosmtpd", "-n", "-l", addr.String())
	waitTCP(t, addr)
	p := &checker.SMTP{Timeout: time.Second}
	target := checker.Target{Addr: addr}
	assert.True(t, p.Probe(context.Background(), target).Up)
	require.NoError(t, cmd.Process.Kill())
	require.Eventually(t, func() bool { return !p.Probe(context.Background(), target).Up }, 5*time.Second, 50*time.Millisecond)
	assert.Equal(t, "connect: connection refused", p.Probe(context.Background(), target).Reason)
	startAiosmtpd(t, n, addr)
	r := p.Probe(context.Background(), target)
	assert.True(t, r.Up, r.Reason)
}

func TestSMTPCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	r := (&checker.SMTP{Timeout: 10 * time.Second}).Probe(ctx, checker.Target{Addr: fakeSMTP(t, "")})
	assert.False(t, r.Up)
	assert.Equal(t, "canceled", r.Reason)
	assert.Less(t, r.Took, 2*time.Second)
}

func TestSMTPValidate(t *testing.T) {
	assert.EqualError(t, (&checker.SMTP{HeloName: "a\r\nMAIL FROM:<x>"}).Validate(), `helo_name "a\r\nMAIL FROM:<x>" has a line break`)
}
