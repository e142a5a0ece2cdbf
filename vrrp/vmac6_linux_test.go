package vrrp

import (
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

// clientNeigh6 is the client's IPv6 neighbour entry for addr on eth0 (nil
// if none).
func (tp *topo) clientNeigh6(addr netip.Addr) net.HardwareAddr {
	tp.t.Helper()
	var mac net.HardwareAddr
	require.NoError(tp.t, tp.lab.link("cl", "eth0", func(nl *netlink.Handle, link netlink.Link) error {
		ns, err := nl.NeighList(link.Attrs().Index, netlink.FAMILY_V6)
		for _, n := range ns {
			if a, _ := netip.AddrFromSlice(n.IP); a == addr && n.HardwareAddr != nil {
				mac = n.HardwareAddr
			}
		}
		return err
	}))
	return mac
}

// use_vmac on an IPv6 instance: the macvlan has 00:00:5e:00:02:VRID, no
// link-local address of its own (the interface's is the adverts' source on
// it), the VIP goes on it, and the client's neighbour entry for the VIP is
// the virtual MAC before and after a failover.
func TestNetnsVMACFailover6(t *testing.T) {
	tp := newTopo(t)
	vipAddr := vip6.Addr()
	vmac := VirtualMAC(51, true)
	cfg := Config{VRID: 51, Version: 3, AdvertInterval: 100 * time.Millisecond, VIPs: []VIP{{Prefix: vip6}}, UseVMAC: true}
	c1, c2 := cfg, cfg
	c1.Priority, c2.Priority = 200, 100

	n1 := tp.start("r1", c1)
	n1.waitState(StateMaster, 3*time.Second)
	n2 := tp.start("r2", c2)
	n2.waitState(StateBackup, 2*time.Second)
	time.Sleep(500 * time.Millisecond)
	require.Equal(t, StateBackup, n2.in.Status().State, "r2 hears r1's adverts through its macvlan")
	tp.waitVIPOn("r1", vmacName, vipAddr, true, time.Second)
	assert.False(t, tp.hasVIP("r1", vipAddr), "the VIP is not on eth0")
	for _, h := range []string{"r1", "r2"} {
		mac, err := tp.lab.hardwareAddr(h, vmacName)
		require.NoError(t, err)
		assert.Equal(t, vmac, mac, h)
		// The only link-local address is eth0's, copied: none made from
		// the shared MAC.
		ips, err := tp.lab.addrs(h, vmacName)
		require.NoError(t, err)
		for _, ip := range ips {
			a, _ := netip.AddrFromSlice(ip)
			if a.IsLinkLocalUnicast() {
				assert.NotEqual(t, "fe80::200:5eff:fe00:233", a.String(), "%s: a link-local address from the virtual MAC", h)
			}
		}
	}
	tp.whoHasVIP(vipAddr, "r1")
	assert.Equal(t, vmac, tp.clientNeigh6(vipAddr), "the client resolved the VIP to the virtual MAC")

	n1.stop()
	n2.waitState(StateMaster, 2*time.Second)
	tp.whoHasVIP(vipAddr, "r2")
	assert.Equal(t, vmac, tp.clientNeigh6(vipAddr), "same MAC after failover")
	assert.Empty(t, n2.in.Status().Counters.Dropped)
}

// keepalived 2.2.7 with use_vmac on IPv6 is master, lvsctl's the backup
// (it hears the adverts on its macvlan); keepalived stops and lvsctl takes
// over with the same MAC. Then the other way round.
func TestKeepalivedVMAC6BothWays(t *testing.T) {
	needKeepalived(t)
	tp := newTopo(t)
	vipAddr := vip6.Addr()
	vmac := VirtualMAC(51, true)
	cfg := Config{VRID: 51, Version: 3, AdvertInterval: 100 * time.Millisecond, VIPs: []VIP{{Prefix: vip6}}, UseVMAC: true}

	ka := tp.keepalived("r1", kaVMACConfig(200, vip6))
	tp.waitVIPOn("r1", vmacName, vipAddr, true, 5*time.Second)
	mac, err := tp.lab.hardwareAddr("r1", vmacName)
	require.NoError(t, err)
	require.Equal(t, vmac, mac, "keepalived's IPv6 VMAC is RFC 5798's, as ours")
	tp.whoHasVIP(vipAddr, "r1")

	c := cfg
	c.Priority = 100
	n := tp.start("r2", c)
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
	assert.Equal(t, vmac, tp.clientNeigh6(vipAddr), "same MAC after failover to lvsctl")

	// keepalived comes back as backup (priority 50) and hears us.
	ka = tp.keepalived("r1", kaVMACConfig(50, vip6))
	ka.waitLog(t, "Entering BACKUP STATE", 3*time.Second)
	time.Sleep(time.Second)
	assert.NotContains(t, ka.out.String(), "Entering MASTER STATE", "keepalived hears our adverts through its macvlan")
	n.stop()
	tp.waitVIPOn("r1", vmacName, vipAddr, true, 2*time.Second)
	tp.whoHasVIP(vipAddr, "r1")
	assert.Equal(t, vmac, tp.clientNeigh6(vipAddr), "same MAC after failover to keepalived")
	for _, c := range ka.complaints() {
		assert.False(t, strings.Contains(c, "VRID 51"), "keepalived complained: %s", c)
	}
}
