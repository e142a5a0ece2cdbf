package vrrp

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"
)

// use_vmac between namespaces: lvsctl with lvsctl, and with keepalived 2.2.7
// in both directions. The VIP lives on the macvlan vrrp.51 with MAC
// 00:00:5e:00:01:33, and the client's neighbour entry for the VIP carries
// that MAC before and after every failover.

const vmacName = "vrrp.51"

var vmac51 = VirtualMAC(51, false)

// hasVIPOn reports whether host has addr on dev (false if dev is absent).
func (tp *topo) hasVIPOn(host, dev string, addr netip.Addr) bool {
	tp.t.Helper()
	ips, err := tp.lab.addrs(host, dev)
	if err != nil {
		return false
	}
	for _, ip := range ips {
		if a, _ := netip.AddrFromSlice(ip); a.Unmap() == addr {
			return true
		}
	}
	return false
}

func (tp *topo) waitVIPOn(host, dev string, addr netip.Addr, want bool, within time.Duration) {
	tp.t.Helper()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if tp.hasVIPOn(host, dev, addr) == want {
			return
		}
	}
	tp.t.Fatalf("%s: VIP %v on %s present=%v not reached within %v", host, addr, dev, want, within)
}

// clientNeigh is the client's neighbour entry for addr on eth0 (nil if none).
func (tp *topo) clientNeigh(addr netip.Addr) net.HardwareAddr {
	tp.t.Helper()
	var mac net.HardwareAddr
	require.NoError(tp.t, tp.lab.link("cl", "eth0", func(nl *netlink.Handle, link netlink.Link) error {
		ns, err := nl.NeighList(link.Attrs().Index, netlink.FAMILY_V4)
		for _, n := range ns {
			if a, _ := netip.AddrFromSlice(n.IP); a.Unmap() == addr && n.HardwareAddr != nil {
				mac = n.HardwareAddr
			}
		}
		return err
	}))
	return mac
}

func kaVMACConfig(prio uint8, vip netip.Prefix) string {
	return fmt.Sprintf(`global_defs {
  vrrp_version 3
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  use_vmac %s
  virtual_router_id 51
  priority %d
  advert_int 0.1
  virtual_ipaddress {
    %v
  }
}
`, vmacName, prio, vip)
}

func TestVirtualMAC(t *testing.T) {
	for _, tc := range []struct {
		vrid uint8
		v6   bool
		want string
	}{
		{51, false, "00:00:5e:00:01:33"},
		{1, false, "00:00:5e:00:01:01"},
		{255, true, "00:00:5e:00:02:ff"},
	} {
		assert.Equal(t, tc.want, VirtualMAC(tc.vrid, tc.v6).String())
	}
}

// Two lvsctl nodes with use_vmac: the VIP is on the macvlan (not eth0), the
// adverts and announcements come from the virtual MAC, and the client's ARP
// entry is the virtual MAC before and after a failover and a failback.
func TestNetnsVMACFailover(t *testing.T) {
	for _, xmitBase := range []bool{false, true} {
		t.Run(fmt.Sprintf("vmac_xmit_base=%v", xmitBase), func(t *testing.T) { testVMACFailover(t, xmitBase) })
	}
}

func testVMACFailover(t *testing.T, xmitBase bool) {
	tp := newTopo(t)
	snif := tp.sniff()
	vipAddr := vip4.Addr()
	cfg := Config{VRID: 51, Version: 3, AdvertInterval: 100 * time.Millisecond, VIPs: []VIP{{Prefix: vip4}}, UseVMAC: true, VMACXmitBase: xmitBase}
	c1, c2 := cfg, cfg
	c1.Priority, c2.Priority = 200, 100

	n1 := tp.start("r1", c1)
	n1.waitState(StateMaster, 2*time.Second)
	n2 := tp.start("r2", c2)
	n2.waitState(StateBackup, time.Second)
	time.Sleep(500 * time.Millisecond)
	require.Equal(t, StateBackup, n2.in.Status().State, "r2 hears r1's adverts through its macvlan")
	assert.True(t, tp.hasVIPOn("r1", vmacName, vipAddr), "the VIP is on the macvlan")
	assert.False(t, tp.hasVIP("r1", vipAddr), "and not on eth0")
	mac, err := tp.lab.hardwareAddr("r2", vmacName)
	require.NoError(t, err)
	assert.Equal(t, vmac51, mac, "the backup has its macvlan too")
	snif.waitAnnounced(t, vipAddr, vmac51, 5, time.Second)
	tp.whoHasVIP(vipAddr, "r1")
	assert.Equal(t, vmac51, tp.clientNeigh(vipAddr), "the client resolved the VIP to the virtual MAC")

	n1.stop()
	_, err = tp.lab.hardwareAddr("r1", vmacName)
	assert.Error(t, err, "the macvlan is deleted when Run returns")
	n2.waitState(StateMaster, time.Second)
	tp.whoHasVIP(vipAddr, "r2")
	assert.Equal(t, vmac51, tp.clientNeigh(vipAddr), "same MAC after failover")

	n1 = tp.start("r1", c1)
	n1.waitState(StateMaster, 2*time.Second)
	n2.waitState(StateBackup, time.Second)
	tp.waitVIPOn("r2", vmacName, vipAddr, false, time.Second)
	tp.whoHasVIP(vipAddr, "r1")
	assert.Equal(t, vmac51, tp.clientNeigh(vipAddr), "same MAC after failback")
	assert.Empty(t, n2.in.Status().Counters.Dropped)
}

// keepalived with use_vmac is master, lvsctl with use_vmac the backup; then
// keepalived stops and lvsctl takes over, and the client's entry is the
// virtual MAC.
func TestKeepalivedVMACMasterLvsctlBackup(t *testing.T) {
	needKeepalived(t)
	tp := newTopo(t)
	vipAddr := vip4.Addr()
	ka := tp.keepalived("r1", kaVMACConfig(200, vip4))
	tp.waitVIPOn("r1", vmacName, vipAddr, true, 5*time.Second)
	mac, err := tp.lab.hardwareAddr("r1", vmacName)
	require.NoError(t, err)
	require.Equal(t, vmac51, mac, "keepalived's VMAC is RFC 5798's, as ours")
	tp.whoHasVIP(vipAddr, "r1")
	// keepalived 2.2.7 leaves arp_announce alone: its ARP request for the
	// client (to answer it from the VIP) names the VIP with eth0's MAC, and
	// the client's entry follows. lvsctl sets arp_announce=2 on eth0.
	t.Logf("client's entry for the VIP held by keepalived: %v (r1's eth0 is %v)", tp.clientNeigh(vipAddr), tp.mac("r1"))

	n := tp.start("r2", Config{VRID: 51, Version: 3, Priority: 100, AdvertInterval: 100 * time.Millisecond,
		VIPs: []VIP{{Prefix: vip4}}, UseVMAC: true})
	n.waitState(StateBackup, time.Second)
	time.Sleep(time.Second)
	st := n.in.Status()
	require.Equal(t, StateBackup, st.State, "we hear keepalived's adverts on our macvlan")
	assert.Equal(t, uint8(200), st.MasterPriority)
	assert.Empty(t, st.Counters.Dropped)

	ka.stop(syscall.SIGTERM)
	n.waitState(StateMaster, time.Second)
	tp.waitVIPOn("r2", vmacName, vipAddr, true, time.Second)
	tp.whoHasVIP(vipAddr, "r2")
	assert.Equal(t, vmac51, tp.clientNeigh(vipAddr), "same MAC after failover to lvsctl")
}

// lvsctl with use_vmac is master, keepalived with use_vmac the backup; we
// stop and keepalived takes over with the same MAC.
func TestLvsctlVMACMasterKeepalivedBackup(t *testing.T) {
	needKeepalived(t)
	tp := newTopo(t)
	vipAddr := vip4.Addr()
	n := tp.start("r1", Config{VRID: 51, Version: 3, Priority: 200, AdvertInterval: 100 * time.Millisecond,
		VIPs: []VIP{{Prefix: vip4}}, UseVMAC: true})
	n.waitState(StateMaster, 2*time.Second)
	tp.whoHasVIP(vipAddr, "r1")
	assert.Equal(t, vmac51, tp.clientNeigh(vipAddr))

	ka := tp.keepalived("r2", kaVMACConfig(100, vip4))
	ka.waitLog(t, "Entering BACKUP STATE", 3*time.Second)
	time.Sleep(time.Second)
	assert.NotContains(t, ka.out.String(), "Entering MASTER STATE", "keepalived hears our adverts through its macvlan")
	assert.False(t, tp.hasVIPOn("r2", vmacName, vipAddr))

	n.stop()
	tp.waitVIPOn("r2", vmacName, vipAddr, true, time.Second)
	tp.whoHasVIP(vipAddr, "r2")
	// See TestKeepalivedVMACMasterLvsctlBackup: keepalived's ARP requests
	// teach the client its eth0's MAC.
	t.Logf("client's entry for the VIP held by keepalived: %v (r2's eth0 is %v)", tp.clientNeigh(vipAddr), tp.mac("r2"))
	for _, c := range ka.complaints() {
		assert.False(t, strings.Contains(c, "VRID 51"), "keepalived complained: %s", c)
	}
}
