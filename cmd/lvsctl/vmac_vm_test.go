package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/lvsctl/lvsctl/cmd/internal/lab"
	"github.com/lvsctl/lvsctl/vrrp"
)

// vmacRunConf is one director of the use_vmac and virtual_routes VM tests:
// VRRP only (no virtual_server, so no IPVS), the VIP on a macvlan with the
// virtual router MAC, routes and a rule that follow MASTER, and a
// track_file through which the test takes mastership away from a running
// director (its number times -100 lowers the priority).
const vmacRunConf = `
vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  version           = 3
  priority          = %d
  advert_interval   = 0.1
  garp_master_delay = 0
  use_vmac          = true
  virtual_ipaddress = ["10.0.5.100/24"]
  track {
    file   = %q
    weight = -100
  }
  virtual_routes {
    to  = "192.0.2.0/24"
    via = "10.0.5.2"
  }
  virtual_routes {
    to        = "198.51.100.0/24"
    blackhole = true
    table     = 100
  }
  virtual_rules {
    from     = "10.0.5.100/32"
    table    = 100
    priority = 1000
  }
}
`

var (
	vmacVIP   = netip.MustParseAddr("10.0.5.100")
	vmacRoute = netip.MustParsePrefix("192.0.2.0/24")
	vmacTable = netip.MustParsePrefix("198.51.100.0/24")
)

// vmacPair is two directors running vmacRunConf on syncLab's LAN (d1
// priority 150, d2 100), each with its track file at 0.
type vmacPair struct {
	t      *testing.T
	l      *lab.Lab
	d1, d2 *daemonProc
	track  map[string]string // host -> its track file
}

func startVMACPair(t *testing.T) *vmacPair {
	t.Helper()
	l := syncLab(t)
	dir := t.TempDir()
	p := &vmacPair{t: t, l: l, track: map[string]string{}}
	start := func(host string, prio int) *daemonProc {
		p.track[host] = filepath.Join(dir, host+".track")
		require.NoError(t, os.WriteFile(p.track[host], []byte("0\n"), 0o644))
		cfg := filepath.Join(dir, host+".hcl")
		require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(vmacRunConf, prio, p.track[host])), 0o644))
		return startDaemon(t, "-f", cfg, "--netns", l.NSPath(host), "--state", filepath.Join(dir, host+".json"))
	}
	p.d1 = start("d1", 150)
	p.d2 = start("d2", 100)
	p.waitMaster("d1", 20*time.Second)
	return p
}

// holdsVIP reports whether host has the VIP on its macvlan vrrp.51 (no
// macvlan: false).
func (p *vmacPair) holdsVIP(host string) bool {
	p.t.Helper()
	found := false
	require.NoError(p.t, p.withHandle(host, func(nl *netlink.Handle) error {
		link, err := nl.LinkByName("vrrp.51")
		if err != nil {
			return nil
		}
		addrs, err := nl.AddrList(link, netlink.FAMILY_V4)
		for _, a := range addrs {
			found = found || a.IP.Equal(vmacVIP.AsSlice())
		}
		return err
	}))
	return found
}

// waitMaster waits until host, and only host, holds the VIP.
func (p *vmacPair) waitMaster(host string, within time.Duration) {
	p.t.Helper()
	other := map[string]string{"d1": "d2", "d2": "d1"}[host]
	waitUntil(p.t, within, host+" master, "+other+" not", func() bool { return p.holdsVIP(host) && !p.holdsVIP(other) })
}

func (p *vmacPair) withHandle(host string, fn func(*netlink.Handle) error) error {
	ns, err := netns.GetFromPath(p.l.NSPath(host))
	if err != nil {
		return err
	}
	defer ns.Close()
	nl, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("%s: netlink: %w", host, err)
	}
	defer nl.Close()
	return fn(nl)
}

// routed reports which of the master-only objects host has: the
// virtual_routes route in main, the blackhole in table 100, the rule to
// table 100.
func (p *vmacPair) routed(host string) (route, blackhole, rule bool) {
	p.t.Helper()
	require.NoError(p.t, p.withHandle(host, func(nl *netlink.Handle) error {
		has := func(table int, dst netip.Prefix) (bool, error) {
			rs, err := nl.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: table}, netlink.RT_FILTER_TABLE)
			for _, r := range rs {
				if r.Dst != nil && r.Dst.String() == dst.String() {
					return true, err
				}
			}
			return false, err
		}
		var err1, err2, err3 error
		route, err1 = has(unix.RT_TABLE_MAIN, vmacRoute)
		blackhole, err2 = has(100, vmacTable)
		rules, err3 := nl.RuleList(netlink.FAMILY_V4)
		for _, r := range rules {
			rule = rule || (r.Table == 100 && r.Priority == 1000 && r.Src != nil && r.Src.String() == "10.0.5.100/32")
		}
		return errors.Join(err1, err2, err3)
	}))
	return route, blackhole, rule
}

// neighWatch records every neighbour update the client's kernel makes for
// the VIP.
type neighWatch struct {
	mu   sync.Mutex
	seen []netlink.Neigh
	stop chan struct{}
}

func watchNeigh(t *testing.T, l *lab.Lab, host string, ip netip.Addr) *neighWatch {
	ns, err := netns.GetFromPath(l.NSPath(host))
	require.NoError(t, err)
	t.Cleanup(func() { ns.Close() })
	w := &neighWatch{stop: make(chan struct{})}
	ch := make(chan netlink.NeighUpdate, 256)
	require.NoError(t, netlink.NeighSubscribeAt(ns, ch, w.stop))
	t.Cleanup(func() { close(w.stop) })
	go func() {
		for u := range ch {
			if u.IP.Equal(ip.AsSlice()) {
				w.mu.Lock()
				w.seen = append(w.seen, u.Neigh)
				w.mu.Unlock()
			}
		}
	}()
	return w
}

func (w *neighWatch) updates() []netlink.Neigh {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]netlink.Neigh(nil), w.seen...)
}

// neighMAC is host's neighbour entry for ip (nil: none).
func (p *vmacPair) neighMAC(host string, ip netip.Addr) (mac net.HardwareAddr, state int) {
	p.t.Helper()
	require.NoError(p.t, p.withHandle(host, func(nl *netlink.Handle) error {
		ns, err := nl.NeighList(0, netlink.FAMILY_V4)
		for _, n := range ns {
			if n.IP.Equal(ip.AsSlice()) {
				mac, state = n.HardwareAddr, n.State
			}
		}
		return err
	}))
	return mac, state
}

// udpEcho answers every datagram to the VIP on :7000 with its payload, on
// host (ip_nonlocal_bind: a backup binds the VIP it does not hold yet).
func udpEcho(t *testing.T, l *lab.Lab, host string) {
	require.NoError(t, l.Sysctl(host, "net.ipv4.ip_nonlocal_bind", "1"))
	var pc net.PacketConn
	require.NoError(t, l.Do(host, func() (err error) {
		pc, err = net.ListenPacket("udp4", netip.AddrPortFrom(vmacVIP, 7000).String())
		return err
	}))
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			reply := append([]byte(host+" "), buf[:n]...)
			if _, err := pc.WriteTo(reply, from); err != nil {
				return
			}
		}
	}()
}

// TestVMVMACFailover: with use_vmac the client's ARP entry for the VIP is
// the virtual router MAC 00:00:5e:00:01:51 whoever is master. The master
// stops (graceful: priority-0 advert), the backup takes over, and one UDP
// flow from the client goes on to the new master without the client's
// kernel ever learning another MAC for the VIP: every neighbour update for
// it carries the virtual MAC. Without the macvlan the VIP would be on eth0
// and the client would learn d1's, then d2's own MAC.
func TestVMVMACFailover(t *testing.T) {
	requireVM(t)
	p := startVMACPair(t)
	vmac := vrrp.VirtualMAC(51, false)
	for _, h := range []string{"d1", "d2"} {
		udpEcho(t, p.l, h)
	}
	w := watchNeigh(t, p.l, "client", vmacVIP)

	var conn net.Conn
	require.NoError(t, p.l.Do("client", func() (err error) {
		conn, err = net.Dial("udp4", netip.AddrPortFrom(vmacVIP, 7000).String())
		return err
	}))
	t.Cleanup(func() { conn.Close() })
	seq := 0
	// ask sends one datagram and returns who answered ("" on timeout).
	ask := func(timeout time.Duration) string {
		seq++
		msg := fmt.Sprintf("ping %d", seq)
		require.NoError(t, conn.SetDeadline(time.Now().Add(timeout)))
		if _, err := conn.Write([]byte(msg)); err != nil {
			return ""
		}
		buf := make([]byte, 1500)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return ""
			}
			if who, got, ok := strings.Cut(string(buf[:n]), " "); ok && got == msg {
				return who
			}
			// an answer to an earlier, timed-out datagram: read on
		}
	}
	waitUntil(t, 10*time.Second, "d1 answers on the VIP", func() bool { return ask(200*time.Millisecond) == "d1" })
	mac, _ := p.neighMAC("client", vmacVIP)
	require.Equal(t, vmac.String(), mac.String(), "the client's ARP entry for the VIP before failover")

	// The master stops; the flow goes on to d2.
	stopped := time.Now()
	p.d1.signal(t, syscall.SIGTERM)
	lost, answered := 0, ""
	for answered != "d2" {
		require.Less(t, time.Since(stopped), 15*time.Second, "d2 never answered on the VIP")
		if answered = ask(200 * time.Millisecond); answered == "" {
			lost++
		}
	}
	t.Logf("d2 answered %v after d1's stop; %d datagrams unanswered meanwhile", time.Since(stopped).Round(time.Millisecond), lost)
	require.NoError(t, p.d1.wait(t))
	assert.True(t, p.holdsVIP("d2"))
	for i := 0; i < 5; i++ {
		assert.Equal(t, "d2", ask(2*time.Second), "after failover")
	}

	mac, state := p.neighMAC("client", vmacVIP)
	assert.Equal(t, vmac.String(), mac.String(), "the client's ARP entry for the VIP after failover (state %#x)", state)
	ups := w.updates()
	require.NotEmpty(t, ups, "no neighbour update for the VIP at all")
	var b bytes.Buffer
	for _, n := range ups {
		fmt.Fprintf(&b, " %v/%#x", n.HardwareAddr, n.State)
		if len(n.HardwareAddr) > 0 {
			assert.Equal(t, vmac.String(), n.HardwareAddr.String(), "a neighbour update for the VIP with another MAC")
		}
	}
	t.Logf("the client's neighbour updates for %v (MAC/state):%s", vmacVIP, b.String())
}

// TestVMVirtualRoutesMasterOnly: virtual_routes (one in main, a blackhole
// in table 100) and a virtual_rules entry are on the master only; when the
// master's priority drops under the backup's (its track file), they move
// to the new master and leave the old one, which keeps running as backup.
func TestVMVirtualRoutesMasterOnly(t *testing.T) {
	requireVM(t)
	p := startVMACPair(t)
	all := func(host string) bool { r, b, u := p.routed(host); return r && b && u }
	none := func(host string) bool { r, b, u := p.routed(host); return !r && !b && !u }
	waitUntil(t, 5*time.Second, "routes and rule on d1 only", func() bool { return all("d1") && none("d2") })

	// d1: 150 - 100 = 50 < 100: d2 preempts, d1 stays up as backup.
	require.NoError(t, os.WriteFile(p.track["d1"], []byte("1\n"), 0o644))
	p.waitMaster("d2", 10*time.Second)
	waitUntil(t, 5*time.Second, "routes and rule moved to d2", func() bool { return all("d2") && none("d1") })
	assert.Nil(t, p.d1.cmd.ProcessState, "d1 still runs")

	// And back.
	require.NoError(t, os.WriteFile(p.track["d1"], []byte("0\n"), 0o644))
	p.waitMaster("d1", 10*time.Second)
	waitUntil(t, 5*time.Second, "routes and rule back on d1", func() bool { return all("d1") && none("d2") })
}
