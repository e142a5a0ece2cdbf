package checker_test

import (
	"context"
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/checker"
)

// dnsQuery is a DNS query of id 0x1234 for web.test A, recursion desired.
var dnsQuery = []byte{
	0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
	3, 'w', 'e', 'b', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1,
}

// startDnsmasq runs Debian's dnsmasq in the namespace on the peer's
// addresses, port 53, answering web.test with 10.1.2.3 and 2001:db8::3,
// and waits until it answers.
func startDnsmasq(t testing.TB, n *peerNS) {
	t.Helper()
	dnsmasq := needTool(t, "dnsmasq", "dnsmasq")
	n.start(t, dnsmasq, "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
		"--user=root", "--pid-file=", "--bind-interfaces", "--port=53",
		"--listen-address="+n.peer.String(), "--listen-address="+n.peer6.String(),
		"--host-record=web.test,10.1.2.3,2001:db8::3", "--txt-record=web.test,\"v=up\"",
		"--mx-host=web.test,mail.web.test,10", "--local=/test/")
	waitUDP(t, netip.AddrPortFrom(n.peer, 53), dnsQuery)
}

func TestParseHex(t *testing.T) {
	tests := []struct {
		in         string
		wild       bool
		data, mask []byte
		err        string
	}{
		{in: "Ab12f 3 456 546443123", data: []byte{0xab, 0x12, 0x0f, 0x03, 0x45, 0x06, 0x54, 0x64, 0x43, 0x12, 0x03}},
		{in: "12 3x", wild: true, data: []byte{0x12, 0x30}, mask: []byte{0xff, 0xf0}},
		{in: "x", wild: true, data: []byte{0}, mask: []byte{0xf0}},
		{in: "12 3x", err: `'x' is not a hex digit`},
		{in: "zz", wild: true, err: `'z' is not a hex digit`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			data, mask, err := checker.ParseHex(tc.in, tc.wild)
			if tc.err != "" {
				assert.EqualError(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.data, data)
			assert.Equal(t, tc.mask, mask)
		})
	}
}

func TestUDP(t *testing.T) {
	n := newPeerNS(t)
	startDnsmasq(t, n)
	const timeout = 300 * time.Millisecond
	dns := netip.AddrPortFrom(n.peer, 53)
	hex := func(s string) ([]byte, []byte) {
		d, m, err := checker.ParseHex(s, true)
		require.NoError(t, err)
		return d, m
	}
	id, idMask := hex("12 34")
	other, otherMask := hex("12 35")
	wild, wildMask := hex("1x 3X 8x")
	tests := []struct {
		name   string
		probe  checker.UDP
		target netip.AddrPort
		drop   string // an nftables match the namespace drops
		up     bool
		reason string
	}{
		{name: "reply", probe: checker.UDP{Payload: dnsQuery}, target: dns, up: true, reason: "reply of 42 bytes"},
		{name: "require_reply", probe: checker.UDP{Payload: dnsQuery, RequireReply: true}, target: dns, up: true, reason: "reply of 42 bytes"},
		{name: "require_reply matches", probe: checker.UDP{Payload: dnsQuery, RequireReply: true, Reply: id, Mask: idMask}, target: dns, up: true, reason: "reply of 42 bytes"},
		{name: "require_reply with x", probe: checker.UDP{Payload: dnsQuery, RequireReply: true, Reply: wild, Mask: wildMask}, target: dns, up: true, reason: "reply of 42 bytes"},
		{name: "require_reply differs", probe: checker.UDP{Payload: dnsQuery, RequireReply: true, Reply: other, Mask: otherMask}, target: dns, reason: "reply differs at byte 1"},
		{name: "reply too long", probe: checker.UDP{Payload: dnsQuery, RequireReply: true, MaxReply: 20}, target: dns, reason: "reply of 42 bytes, want 0 to 20"},
		{name: "reply too short", probe: checker.UDP{Payload: dnsQuery, RequireReply: true, MinReply: 100}, target: dns, reason: "reply of 42 bytes, want 100 to 255"},
		{name: "IPv6", probe: checker.UDP{Payload: dnsQuery, RequireReply: true, ConnectIP: n.peer6}, target: dns, up: true, reason: "reply of 42 bytes"},
		{name: "port unreachable", probe: checker.UDP{Timeout: 2 * time.Second}, target: netip.AddrPortFrom(n.peer, 9), reason: "reply: port unreachable"},
		{name: "connect_port", probe: checker.UDP{Payload: dnsQuery, RequireReply: true, ConnectPort: 53}, target: netip.AddrPortFrom(n.peer, 9), up: true, reason: "reply of 42 bytes"},
		{name: "silent is up", probe: checker.UDP{Payload: dnsQuery, Timeout: timeout}, target: dns, drop: "udp dport 53", up: true, reason: "no error within 300ms"},
		{name: "silent with require_reply", probe: checker.UDP{Payload: dnsQuery, Timeout: timeout, RequireReply: true}, target: dns, drop: "udp dport 53", reason: "reply: timeout after 300ms"},
		{name: "bind_to", probe: checker.UDP{Payload: dnsQuery, RequireReply: true, BindTo: n.local}, target: dns, up: true, reason: "reply of 42 bytes"},
		{name: "bind_to of another family", probe: checker.UDP{BindTo: n.local6}, target: dns, reason: "connect: bind_to " + n.local6.String() + " and " + n.peer.String() + " are of different families"},
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

// TestUDPRecovers fails a check by dropping its datagrams, then lets them
// through again.
func TestUDPRecovers(t *testing.T) {
	n := newPeerNS(t)
	startDnsmasq(t, n)
	p := &checker.UDP{Payload: dnsQuery, RequireReply: true, Timeout: 300 * time.Millisecond}
	target := checker.Target{Addr: netip.AddrPortFrom(n.peer, 53)}
	assert.True(t, p.Probe(context.Background(), target).Up)
	n.drop(t, "udp dport 53")
	r := p.Probe(context.Background(), target)
	assert.False(t, r.Up)
	assert.Equal(t, "reply: timeout after 300ms", r.Reason)
	assert.InDelta(t, 300*time.Millisecond, r.Took, float64(100*time.Millisecond))
	n.undrop(t)
	assert.True(t, p.Probe(context.Background(), target).Up)
}

// TestUDPCanceled: a cancelled context ends the wait at once.
func TestUDPCanceled(t *testing.T) {
	n := newPeerNS(t)
	n.drop(t, "udp dport 53")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	p := &checker.UDP{RequireReply: true, Timeout: 10 * time.Second}
	r := p.Probe(ctx, checker.Target{Addr: netip.AddrPortFrom(n.peer, 53)})
	assert.False(t, r.Up)
	assert.Equal(t, "canceled", r.Reason)
	assert.Less(t, r.Took, 2*time.Second)
}

func TestUDPValidate(t *testing.T) {
	assert.EqualError(t, (&checker.UDP{MinReply: 300}).Validate(), "min_reply_length 300 and max_reply_length 255: want 0 <= min <= max")
	assert.EqualError(t, (&checker.UDP{Reply: []byte{1, 2}, Mask: []byte{1}}).Validate(), "the reply's mask is not as long as the reply")
	assert.NoError(t, (&checker.UDP{MinReply: 10, MaxReply: 10}).Validate())
}

// FuzzParseHex: any input parses or fails without panicking; the hex of
// any bytes, written in pairs, parses back to them with a full mask.
func FuzzParseHex(f *testing.F) {
	for _, s := range []string{"Ab12f 3 456 546443123", "12 3x", "x", "", "zz", " \t\n"} {
		f.Add(s, []byte(s))
	}
	f.Fuzz(func(t *testing.T, s string, raw []byte) {
		if data, mask, err := checker.ParseHex(s, true); err == nil {
			require.Len(t, mask, len(data))
		}
		data, mask, err := checker.ParseHex(hex.EncodeToString(raw)+" "+strings.ToUpper(hex.EncodeToString(raw)), true)
		require.NoError(t, err)
		require.Equal(t, append(append([]byte{}, raw...), raw...), append([]byte{}, data...))
		for _, m := range mask {
			require.Equal(t, byte(0xff), m)
		}
	})
}
