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

func TestDNS(t *testing.T) {
	n := newPeerNS(t)
	startDnsmasq(t, n)
	const timeout = 300 * time.Millisecond
	typ := func(s string) uint16 {
		v, err := checker.ParseDNSType(s)
		require.NoError(t, err)
		return v
	}
	dns := netip.AddrPortFrom(n.peer, 53)
	tests := []struct {
		name   string
		probe  checker.DNS
		target netip.AddrPort
		drop   string
		up     bool
		reason string
	}{
		{name: "A", probe: checker.DNS{Type: typ("A"), Name: "web.test"}, target: dns, up: true, reason: "1 A record(s)"},
		{name: "aaaa over IPv6", probe: checker.DNS{Type: typ("aaaa"), Name: "web.test.", ConnectIP: n.peer6}, target: dns, up: true, reason: "1 AAAA record(s)"},
		{name: "TXT", probe: checker.DNS{Type: typ("TXT"), Name: "WEB.test"}, target: dns, up: true, reason: "1 TXT record(s)"},
		{name: "MX", probe: checker.DNS{Type: typ("MX"), Name: "web.test"}, target: dns, up: true, reason: "1 MX record(s)"},
		{name: "no record of the type", probe: checker.DNS{Type: typ("NS"), Name: "web.test"}, target: dns, reason: "no NS record for web.test. in the reply"},
		{name: "NXDOMAIN", probe: checker.DNS{Type: typ("A"), Name: "nothere.test"}, target: dns, reason: "rcode NXDOMAIN"},
		{name: "defaults: SOA of the root, refused", target: dns, reason: "rcode REFUSED"},
		{name: "port unreachable", probe: checker.DNS{Timeout: 2 * time.Second}, target: netip.AddrPortFrom(n.peer, 9), reason: "query: port unreachable"},
		{name: "connect_port", probe: checker.DNS{Type: typ("A"), Name: "web.test", ConnectPort: 53}, target: netip.AddrPortFrom(n.peer, 9), up: true, reason: "1 A record(s)"},
		{name: "bind_to", probe: checker.DNS{Type: typ("A"), Name: "web.test", BindTo: n.local}, target: dns, up: true, reason: "1 A record(s)"},
		{name: "timeout", probe: checker.DNS{Type: typ("A"), Name: "web.test", Timeout: timeout}, target: dns, drop: "udp dport 53", reason: "query: timeout after 300ms"},
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

// TestDNSRecovers drops the queries, then lets them through.
func TestDNSRecovers(t *testing.T) {
	n := newPeerNS(t)
	startDnsmasq(t, n)
	typ, err := checker.ParseDNSType("A")
	require.NoError(t, err)
	p := &checker.DNS{Type: typ, Name: "web.test", Timeout: 300 * time.Millisecond}
	target := checker.Target{Addr: netip.AddrPortFrom(n.peer, 53)}
	assert.True(t, p.Probe(context.Background(), target).Up)
	n.drop(t, "udp dport 53")
	r := p.Probe(context.Background(), target)
	assert.False(t, r.Up)
	assert.InDelta(t, 300*time.Millisecond, r.Took, float64(100*time.Millisecond))
	n.undrop(t)
	r = p.Probe(context.Background(), target)
	assert.True(t, r.Up, r.Reason)
}

func TestDNSCanceled(t *testing.T) {
	n := newPeerNS(t)
	n.drop(t, "udp dport 53")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	r := (&checker.DNS{Timeout: 10 * time.Second}).Probe(ctx, checker.Target{Addr: netip.AddrPortFrom(n.peer, 53)})
	assert.False(t, r.Up)
	assert.Equal(t, "canceled", r.Reason)
	assert.Less(t, r.Took, 2*time.Second)
}

func TestDNSValidate(t *testing.T) {
	_, err := checker.ParseDNSType("BOGUS")
	assert.EqualError(t, err, `"BOGUS" is not a DNS query type (A, AAAA, NS, CNAME, SOA, MX, TXT, ...)`)
	assert.EqualError(t, (&checker.DNS{Name: "a..b"}).Validate(), `"a..b" is not a domain name`)
	assert.NoError(t, (&checker.DNS{Name: "web.test"}).Validate())
}
