package checker_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/checker"
)

func TestPing(t *testing.T) {
	n := newPeerNS(t)
	const timeout = 300 * time.Millisecond
	tests := []struct {
		name   string
		probe  checker.Ping
		target netip.Addr
		drop   string
		up     bool
		reason string
	}{
		{name: "IPv4", target: n.peer, up: true, reason: "echo reply"},
		{name: "IPv6", target: n.peer6, up: true, reason: "echo reply"},
		{name: "connect_ip", probe: checker.Ping{ConnectIP: n.peer6}, target: netip.MustParseAddr("192.0.2.1"), up: true, reason: "echo reply"},
		{name: "bind_to", probe: checker.Ping{BindTo: n.local}, target: n.peer, up: true, reason: "echo reply"},
		{name: "bind_to of another family", probe: checker.Ping{BindTo: n.local6}, target: n.peer, reason: "echo: bind_to " + n.local6.String() + " and " + n.peer.String() + " are of different families"},
		{name: "ICMP dropped", probe: checker.Ping{Timeout: timeout}, target: n.peer, drop: "ip protocol icmp", reason: "echo: timeout after 300ms"},
		{name: "ICMPv6 echo dropped", probe: checker.Ping{Timeout: timeout}, target: n.peer6, drop: "icmpv6 type echo-request", reason: "echo: timeout after 300ms"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.drop != "" {
				n.drop(t, tc.drop)
				defer n.undrop(t)
			}
			require.NoError(t, tc.probe.Validate())
			r := tc.probe.Probe(context.Background(), checker.Target{Addr: netip.AddrPortFrom(tc.target, 0)})
			assert.Equal(t, tc.up, r.Up)
			assert.Equal(t, tc.reason, r.Reason)
			assert.Equal(t, checker.NoWeight, r.Weight)
		})
	}
}

// TestPingRecovers drops ICMP, then lets it through: a probe takes its
// timeout while dropped and answers at once after.
func TestPingRecovers(t *testing.T) {
	n := newPeerNS(t)
	p := &checker.Ping{Timeout: 300 * time.Millisecond}
	target := checker.Target{Addr: netip.AddrPortFrom(n.peer, 0)}
	assert.True(t, p.Probe(context.Background(), target).Up)
	n.drop(t, "ip protocol icmp")
	r := p.Probe(context.Background(), target)
	assert.False(t, r.Up)
	assert.InDelta(t, 300*time.Millisecond, r.Took, float64(100*time.Millisecond))
	n.undrop(t)
	r = p.Probe(context.Background(), target)
	assert.True(t, r.Up, r.Reason)
}

// TestPingSockets: with the process's group outside ping_group_range (the
// default, "1 0"), a probe uses a raw socket; inside it, an unprivileged
// datagram socket, and replies still come back. ping_group_range is the
// namespace's own.
func TestPingSockets(t *testing.T) {
	n := newPeerNS(t)
	for _, v6 := range []bool{false, true} {
		target := n.local
		if v6 {
			target = n.local6
		}
		inNS(t, n.name, func() {
			kind, err := checker.PingSocket(v6, netip.Addr{})
			require.NoError(t, err)
			assert.Equal(t, "raw", kind)
		})
		n.run(t, "sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647")
		inNS(t, n.name, func() {
			kind, err := checker.PingSocket(v6, netip.Addr{})
			require.NoError(t, err)
			assert.Equal(t, "datagram", kind)
			r := (&checker.Ping{Timeout: time.Second}).Probe(context.Background(), checker.Target{Addr: netip.AddrPortFrom(target, 0)})
			assert.True(t, r.Up, "v6 %v: %s", v6, r.Reason)
		})
		n.run(t, "sysctl", "-qw", "net.ipv4.ping_group_range=1 0")
	}
}

// TestPingCanceled: a cancelled context ends the wait at once.
func TestPingCanceled(t *testing.T) {
	n := newPeerNS(t)
	n.drop(t, "ip protocol icmp")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	r := (&checker.Ping{Timeout: 10 * time.Second}).Probe(ctx, checker.Target{Addr: netip.AddrPortFrom(n.peer, 0)})
	assert.False(t, r.Up)
	assert.Equal(t, "canceled", r.Reason)
	assert.Less(t, r.Took, 2*time.Second)
}
