package checker_test

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/checker"
)

// The CPU cost of the checks of issue 17 at 1,000 real servers, delay_loop
// 1s, measured as BenchmarkPoolTCP does (benchPool). The servers are real:
// the kernel of a namespace the benchmark creates (ping), dnsmasq (udp,
// dns) and aiosmtpd (smtp) in it, whose CPU is not counted, and files
// (file).

// BenchmarkPoolPing pings 1,000 servers: the 1,000 addresses of a /22 on
// the namespace's loopback, routed through its veth.
func BenchmarkPoolPing(b *testing.B) {
	n := newPeerNS(b)
	n.ip(b, "addr", "add", "198.19.252.0/22", "dev", "lo")
	ip(b, "route", "add", "198.19.252.0/22", "via", n.peer.String())
	b.Cleanup(func() { ip(b, "route", "del", "198.19.252.0/22") })
	addrs := make([]netip.AddrPort, 1000)
	a := netip.MustParseAddr("198.19.252.1")
	for i := range addrs {
		addrs[i] = netip.AddrPortFrom(a, 0)
		a = a.Next()
	}
	benchPool(b, len(addrs), 0, addrs, &checker.Ping{Timeout: time.Second})
}

// BenchmarkPoolUDP sends a DNS query to dnsmasq and requires its reply.
func BenchmarkPoolUDP(b *testing.B) {
	n := newPeerNS(b)
	startDnsmasq(b, n)
	benchPool(b, 1000, 0, []netip.AddrPort{netip.AddrPortFrom(n.peer, 53)},
		&checker.UDP{Payload: dnsQuery, RequireReply: true, Timeout: time.Second})
}

// BenchmarkPoolDNS queries dnsmasq for web.test A.
func BenchmarkPoolDNS(b *testing.B) {
	n := newPeerNS(b)
	startDnsmasq(b, n)
	typ, _ := checker.ParseDNSType("A")
	benchPool(b, 1000, 0, []netip.AddrPort{netip.AddrPortFrom(n.peer, 53)},
		&checker.DNS{Type: typ, Name: "web.test", Timeout: time.Second})
}

// BenchmarkPoolSMTP says HELO to four aiosmtpd servers.
func BenchmarkPoolSMTP(b *testing.B) {
	n := newPeerNS(b)
	var addrs []netip.AddrPort
	for p := range 4 {
		a := netip.AddrPortFrom(n.peer, uint16(2525+p))
		startAiosmtpd(b, n, a)
		addrs = append(addrs, a)
	}
	benchPool(b, 1000, 0, addrs, &checker.SMTP{Timeout: 2 * time.Second})
}

// BenchmarkPoolFile reads 1,000 files.
func BenchmarkPoolFile(b *testing.B) {
	dir := b.TempDir()
	probers := make([]checker.Prober, 1000)
	for i := range probers {
		path := filepath.Join(dir, strconv.Itoa(i))
		if err := os.WriteFile(path, []byte("1\n"), 0o600); err != nil {
			b.Fatal(err)
		}
		probers[i] = &checker.File{Path: path, Weight: 1}
	}
	// One prober per server: the target's port picks it.
	addrs := make([]netip.AddrPort, len(probers))
	for i := range addrs {
		addrs[i] = netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), uint16(i+1))
	}
	byPort := checker.ProberFunc(func(ctx context.Context, t checker.Target) checker.Result {
		return probers[t.Addr.Port()-1].Probe(ctx, t)
	})
	benchPool(b, len(probers), 0, addrs, byPort)
}
