package vrrp

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// Host network-namespace tests: a bridge namespace "br", routers r1 and r2
// and a client "cl" on 10.99.0.0/24 (fd00:99::/64), the VIP 10.99.0.100
// (fd00:99::100). Each router serves HTTP on :8080 answering its name, so
// the client can tell who holds the VIP.

var (
	vip4 = netip.MustParsePrefix("10.99.0.100/24")
	vip6 = netip.MustParsePrefix("fd00:99::100/64")
)

func needRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("network namespace tests need root, and CI runs as root")
		}
		t.Skip("network namespace tests need root (CI runs them as root)")
	}
}

type topo struct {
	t   testing.TB
	lab *testLab
}

var labSeq struct {
	sync.Mutex
	n int
}

// newTopo builds the lab; everything is removed in Cleanup.
func newTopo(t testing.TB) *topo {
	t.Helper()
	needRoot(t)
	labSeq.Lock()
	labSeq.n++
	prefix := fmt.Sprintf("vrrp%d-%d-", os.Getpid()%100000, labSeq.n)
	labSeq.Unlock()
	l := newTestLab(prefix)
	tp := &topo{t: t, lab: l}
	t.Cleanup(func() { assert.NoError(t, l.close()) })
	require.NoError(t, l.lan("br", map[string][]string{
		"r1": {"10.99.0.1/24", "fd00:99::1/64"},
		"r2": {"10.99.0.2/24", "fd00:99::2/64"},
		"cl": {"10.99.0.10/24", "fd00:99::10/64"},
	}, "r1", "r2", "cl"))
	require.NoError(t, l.serveHTTP("r1", ":8080", "r1"))
	require.NoError(t, l.serveHTTP("r2", ":8080", "r2"))
	return tp
}

// node is an Instance running in a router's namespace.
type node struct {
	t      testing.TB
	in     *Instance
	cancel context.CancelFunc
	done   chan error
	mu     sync.Mutex
	log    []Transition
}

func (tp *topo) start(host string, cfg Config) *node {
	tp.t.Helper()
	n := &node{t: tp.t, done: make(chan error, 1)}
	if cfg.Name == "" {
		cfg.Name = "VI_" + host
	}
	if cfg.Interface == "" {
		cfg.Interface = "eth0"
	}
	cfg.OnTransition = func(tr Transition) {
		n.mu.Lock()
		n.log = append(n.log, tr)
		n.mu.Unlock()
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger(tp.t, host)
	}
	var err error
	n.in, err = New(cfg)
	require.NoError(tp.t, err)
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	go func() { n.done <- tp.lab.do(host, func() error { return n.in.Run(ctx) }) }()
	tp.t.Cleanup(func() { n.stop() })
	return n
}

// stop ends Run (gracefully) and waits for it, at most 5 s.
func (n *node) stop() {
	n.t.Helper()
	n.cancel()
	select {
	case err, ok := <-n.done:
		if ok {
			assert.NoError(n.t, err)
			close(n.done)
		}
	case <-time.After(5 * time.Second):
		n.t.Error("Run did not return within 5 s")
	}
}

// waitState waits until the instance is in state, at most within.
func (n *node) waitState(st State, within time.Duration) time.Duration {
	n.t.Helper()
	start := time.Now()
	for time.Since(start) < within {
		if n.in.Status().State == st {
			return time.Since(start)
		}
		time.Sleep(2 * time.Millisecond)
	}
	n.t.Fatalf("%s: not %v within %v (state %v)", n.in.cfg.Name, st, within, n.in.Status().State)
	return 0
}

// hasVIP reports whether host has addr on eth0.
func (tp *topo) hasVIP(host string, addr netip.Addr) bool {
	tp.t.Helper()
	ips, err := tp.lab.addrs(host, "eth0")
	require.NoError(tp.t, err)
	for _, ip := range ips {
		if a, _ := netip.AddrFromSlice(ip); a.Unmap() == addr {
			return true
		}
	}
	return false
}

// waitVIP waits until host has (or has not) addr.
func (tp *topo) waitVIP(host string, addr netip.Addr, want bool, within time.Duration) {
	tp.t.Helper()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if tp.hasVIP(host, addr) == want {
			return
		}
	}
	tp.t.Fatalf("%s: VIP %v present=%v not reached within %v", host, addr, want, within)
}

// whoHasVIP asks the VIP's HTTP server from the client, retrying for a
// bounded time until it answers want.
func (tp *topo) whoHasVIP(addr netip.Addr, want string) {
	tp.t.Helper()
	url := "http://" + netip.AddrPortFrom(addr, 8080).String() + "/"
	var got string
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		got, err = tp.lab.get(ctx, "cl", url)
		cancel()
		if err == nil && got == want {
			return
		}
	}
	tp.t.Fatalf("client: %s answered by %q (%v), want %q", url, got, err, want)
}

func (tp *topo) mac(host string) net.HardwareAddr {
	tp.t.Helper()
	mac, err := tp.lab.hardwareAddr(host, "eth0")
	require.NoError(tp.t, err)
	return mac
}

// cable pulls (or plugs back) host's cable: its bridge port goes down and
// its eth0 loses carrier.
func (tp *topo) cable(host string, connected bool) {
	tp.t.Helper()
	require.NoError(tp.t, tp.lab.setLinkUp("br", host, connected))
}

// sniffer counts announcements seen on the client's eth0.
type sniffer struct {
	mu     sync.Mutex
	garps  []arpPacket
	nas    []neighborAdvert
	stop   chan struct{}
	done   chan struct{}
	closed bool
}

// sniff opens a packet socket in the client namespace and records every
// gratuitous ARP and neighbour advertisement until Cleanup (at most 2 min).
func (tp *topo) sniff() *sniffer {
	tp.t.Helper()
	var fd int
	require.NoError(tp.t, tp.lab.do("cl", func() error {
		var err error
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
		if err != nil {
			return err
		}
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}); err != nil {
			return err
		}
		return unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 50000})
	}))
	s := &sniffer{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer unix.Close(fd)
		buf := make([]byte, 2048)
		for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); {
			select {
			case <-s.stop:
				return
			default:
			}
			n, _, err := unix.Recvfrom(fd, buf, 0)
			if err != nil || n < 14 {
				continue
			}
			s.record(buf[:n])
		}
	}()
	tp.t.Cleanup(s.close)
	return s
}

func (s *sniffer) record(f []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch binary.BigEndian.Uint16(f[12:]) {
	case etherTypeARP:
		var p arpPacket
		if p.UnmarshalBinary(f[14:]) == nil && p.SenderIP == p.TargetIP && p.Operation == arpRequest {
			s.garps = append(s.garps, p)
		}
	case etherTypeIPv6:
		var na neighborAdvert
		if na.UnmarshalBinary(f[14:]) == nil {
			s.nas = append(s.nas, na)
		}
	}
}

func (s *sniffer) close() {
	if !s.closed {
		s.closed = true
		close(s.stop)
		<-s.done
	}
}

// announced counts the announcements of ip from mac seen so far.
func (s *sniffer) announced(ip netip.Addr, mac net.HardwareAddr) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, p := range s.garps {
		if p.SenderIP == ip && p.SenderMAC.String() == mac.String() {
			n++
		}
	}
	for _, na := range s.nas {
		if na.Target == ip && na.TargetLink.String() == mac.String() && na.Override && na.Src == ip {
			n++
		}
	}
	return n
}

func (s *sniffer) waitAnnounced(t testing.TB, ip netip.Addr, mac net.HardwareAddr, atLeast int, within time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if s.announced(ip, mac) >= atLeast {
			return
		}
	}
	t.Fatalf("saw %d announcements of %v from %v, want at least %d", s.announced(ip, mac), ip, mac, atLeast)
}

// testLogger logs through t, so that the log of a failed test shows what the
// instances did.
func testLogger(t testing.TB, host string) *slog.Logger {
	return slog.New(slog.NewTextHandler(tlogWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo})).With("host", host)
}

// quietLogger logs warnings and errors only (benchmarks).
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tlogWriter struct{ t testing.TB }

func (w tlogWriter) Write(b []byte) (int, error) {
	defer func() { _ = recover() }() // logging after the test ended
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

var _ io.Writer = tlogWriter{}

// Two lvsctl instances fail over both ways: graceful stop (priority 0, the
// backup takes over after its skew time), preemption when the higher
// priority returns, cable pull (FAULT on the master, takeover after
// Master_Down_Interval) and back.
func TestNetnsFailover(t *testing.T) {
	t.Parallel() // its own namespaces; waits on VRRP timers, not the CPU
	for _, tc := range []struct {
		name     string
		version  int
		interval time.Duration
		vip      netip.Prefix
	}{
		{"v2-1s", 2, time.Second, vip4},
		{"v3-100ms", 3, 100 * time.Millisecond, vip4},
		{"v3-ipv6-100ms", 3, 100 * time.Millisecond, vip6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp := newTopo(t)
			snif := tp.sniff()
			vipAddr := tc.vip.Addr()
			cfg := Config{VRID: 51, Version: tc.version, AdvertInterval: tc.interval, VIPs: []VIP{{Prefix: tc.vip}}}
			if tc.version == 2 {
				cfg.Password = "s3cret"
			}
			c1, c2 := cfg, cfg
			c1.Priority, c2.Priority = 200, 100
			downHigh := downInterval(tc.interval, 200)
			downLow := downInterval(tc.interval, 100)

			n1 := tp.start("r1", c1)
			n1.waitState(StateMaster, downHigh+2*time.Second)
			n2 := tp.start("r2", c2)
			n2.waitState(StateBackup, time.Second)
			time.Sleep(3 * tc.interval)
			assert.Equal(t, StateBackup, n2.in.Status().State)
			st := n2.in.Status()
			assert.Equal(t, uint8(200), st.MasterPriority)
			assert.Empty(t, st.Counters.Dropped, "nothing dropped between two lvsctl instances")
			assert.True(t, tp.hasVIP("r1", vipAddr))
			assert.False(t, tp.hasVIP("r2", vipAddr))
			tp.whoHasVIP(vipAddr, "r1")
			snif.waitAnnounced(t, vipAddr, tp.mac("r1"), 5, time.Second)

			// Graceful stop of the master: handover after the skew time.
			n1.stop()
			assert.False(t, tp.hasVIP("r1", vipAddr), "VIP removed on stop")
			took := n2.waitState(StateMaster, downLow)
			skew := time.Duration(156) * tc.interval / 256
			t.Logf("graceful handover took %v (skew time %v)", took, skew)
			assert.Less(t, took, skew+300*time.Millisecond)
			tp.waitVIP("r2", vipAddr, true, time.Second)
			snif.waitAnnounced(t, vipAddr, tp.mac("r2"), 5, time.Second)
			tp.whoHasVIP(vipAddr, "r2")

			// r1 comes back with the higher priority and preempts.
			n1 = tp.start("r1", c1)
			n1.waitState(StateMaster, downHigh+2*time.Second)
			n2.waitState(StateBackup, time.Second)
			tp.waitVIP("r2", vipAddr, false, time.Second)
			tp.whoHasVIP(vipAddr, "r1")

			// Cable pull on the master: it goes FAULT, the backup takes over
			// after Master_Down_Interval.
			tp.cable("r1", false)
			n1.waitState(StateFault, time.Second)
			assert.False(t, tp.hasVIP("r1", vipAddr), "a FAULT master drops the VIP")
			took = n2.waitState(StateMaster, downLow+time.Second)
			t.Logf("takeover after cable pull took %v (Master_Down_Interval %v)", took, downLow)
			tp.whoHasVIP(vipAddr, "r2")

			// Cable back: r1 leaves FAULT and preempts again.
			tp.cable("r1", true)
			n1.waitState(StateMaster, downHigh+2*time.Second)
			n2.waitState(StateBackup, time.Second)
			tp.whoHasVIP(vipAddr, "r1")
			assert.Equal(t, "interface eth0 down", faultReason(n1))
		})
	}
}

func faultReason(n *node) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, tr := range n.log {
		if tr.To == StateFault {
			return tr.Reason
		}
	}
	return ""
}

// Split the segment without any carrier change (r2's port moves to another
// bridge): both become master; heal: the lower priority yields and the
// client reaches the winner.
func TestNetnsSplitAndHeal(t *testing.T) {
	tp := newTopo(t)
	require.NoError(t, tp.lab.addBridge("br", "br1"))
	cfg := Config{VRID: 7, Version: 3, AdvertInterval: 100 * time.Millisecond, VIPs: []VIP{{Prefix: vip4}}}
	c1, c2 := cfg, cfg
	c1.Priority, c2.Priority = 200, 100
	n1 := tp.start("r1", c1)
	n1.waitState(StateMaster, 2*time.Second)
	n2 := tp.start("r2", c2)
	n2.waitState(StateBackup, time.Second)
	time.Sleep(300 * time.Millisecond)
	require.Equal(t, StateBackup, n2.in.Status().State)

	require.NoError(t, tp.lab.setMaster("br", "r2", "br1"))
	n2.waitState(StateMaster, 2*time.Second)
	assert.Equal(t, StateMaster, n1.in.Status().State, "split brain: both are master")
	assert.True(t, tp.hasVIP("r1", vip4.Addr()) && tp.hasVIP("r2", vip4.Addr()))

	require.NoError(t, tp.lab.setMaster("br", "r2", "br0"))
	n2.waitState(StateBackup, 2*time.Second)
	assert.Equal(t, StateMaster, n1.in.Status().State)
	tp.waitVIP("r2", vip4.Addr(), false, time.Second)
	tp.whoHasVIP(vip4.Addr(), "r1")
}

// Unicast mode: adverts go to the peer, not the group.
func TestNetnsUnicast(t *testing.T) {
	tp := newTopo(t)
	r1a, r2a := netip.MustParseAddr("10.99.0.1"), netip.MustParseAddr("10.99.0.2")
	cfg := Config{VRID: 9, Version: 3, AdvertInterval: 100 * time.Millisecond, VIPs: []VIP{{Prefix: vip4, Label: "eth0:vip"}}}
	c1, c2 := cfg, cfg
	c1.Priority, c1.SourceAddr, c1.UnicastPeers = 200, r1a, []netip.Addr{r2a}
	c2.Priority, c2.SourceAddr, c2.UnicastPeers = 100, r2a, []netip.Addr{r1a}
	n1 := tp.start("r1", c1)
	n2 := tp.start("r2", c2)
	n1.waitState(StateMaster, 2*time.Second)
	n2.waitState(StateBackup, time.Second)
	time.Sleep(300 * time.Millisecond)
	st := n2.in.Status()
	assert.Equal(t, StateBackup, st.State)
	assert.Equal(t, r1a, st.Master)
	assert.Greater(t, st.Counters.AdvertsReceived, uint64(2))
	tp.whoHasVIP(vip4.Addr(), "r1")

	n1.stop()
	n2.waitState(StateMaster, time.Second)
	tp.whoHasVIP(vip4.Addr(), "r2")
}

// A crashed master leaves its VIP behind; the next start removes it.
func TestNetnsStaleVIPRemovedAtStart(t *testing.T) {
	tp := newTopo(t)
	require.NoError(t, tp.lab.addAddr("r2", "eth0", vip4.String()))
	require.True(t, tp.hasVIP("r2", vip4.Addr()))
	n := tp.start("r2", Config{VRID: 3, Priority: 100, Version: 3, AdvertInterval: time.Second, VIPs: []VIP{{Prefix: vip4}}})
	n.waitState(StateBackup, time.Second)
	assert.False(t, tp.hasVIP("r2", vip4.Addr()))
}

// Run reports a missing interface instead of running.
func TestNetnsNoInterface(t *testing.T) {
	tp := newTopo(t)
	in, err := New(Config{Name: "x", Interface: "nope0", VRID: 1})
	require.NoError(t, err)
	err = tp.lab.do("r1", func() error { return in.Run(context.Background()) })
	assert.ErrorContains(t, err, "interface nope0")
}
