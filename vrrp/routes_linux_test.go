package vrrp

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// routeTo reports whether host has a route to dst in table (0: main).
func (tp *topo) routeTo(host string, dst netip.Prefix, table int) bool {
	tp.t.Helper()
	found := false
	require.NoError(tp.t, tp.lab.handle(host, func(nl *netlink.Handle) error {
		fam := netlink.FAMILY_V4
		if dst.Addr().Is6() {
			fam = netlink.FAMILY_V6
		}
		filter := &netlink.Route{Table: table}
		mask := netlink.RT_FILTER_TABLE
		if table == 0 {
			filter.Table = unix.RT_TABLE_MAIN
		}
		rs, err := nl.RouteListFiltered(fam, filter, mask)
		for _, r := range rs {
			if r.Dst != nil && r.Dst.String() == dst.String() {
				found = true
			}
		}
		return err
	}))
	return found
}

func (tp *topo) ruleTo(host string, table int) bool {
	tp.t.Helper()
	found := false
	require.NoError(tp.t, tp.lab.handle(host, func(nl *netlink.Handle) error {
		rs, err := nl.RuleList(netlink.FAMILY_V4)
		for _, r := range rs {
			if r.Table == table {
				found = true
			}
		}
		return err
	}))
	return found
}

// virtual_routes, virtual_rules and virtual_ipaddress_excluded follow
// MASTER: on the master only, moved at failover, gone after a graceful
// stop. A VIP with scope and brd gets them.
func TestNetnsVirtualRoutes(t *testing.T) {
	tp := newTopo(t)
	dst := netip.MustParsePrefix("192.0.2.0/24")
	blackhole := netip.MustParsePrefix("198.51.100.0/24")
	// A scope other than the interface's address in the same subnet is
	// EINVAL (the kernel's rule for secondaries): another subnet.
	excl := netip.MustParsePrefix("172.16.0.1/24")
	cfg := Config{VRID: 51, Version: 3, AdvertInterval: 100 * time.Millisecond,
		VIPs:         []VIP{{Prefix: vip4, Broadcast: netip.MustParseAddr("10.99.0.127")}},
		ExcludedVIPs: []VIP{{Prefix: excl, Scope: unix.RT_SCOPE_LINK}},
		Routes: []Route{
			{Dst: dst, Gateway: netip.MustParseAddr("10.99.0.10"), Src: vip4.Addr()},
			{Dst: blackhole, Blackhole: true, Table: 100},
		},
		Rules: []Rule{{From: netip.MustParsePrefix("10.99.0.100/32"), Table: 100, Priority: 1000}},
	}
	c1, c2 := cfg, cfg
	c1.Priority, c2.Priority = 200, 100
	n1 := tp.start("r1", c1)
	n1.waitState(StateMaster, 2*time.Second)
	n2 := tp.start("r2", c2)
	n2.waitState(StateBackup, time.Second)

	check := func(master, backup string) {
		t.Helper()
		assert.True(t, tp.routeTo(master, dst, 0), "%s (master) has the virtual route", master)
		assert.True(t, tp.routeTo(master, blackhole, 100), "%s (master) has the route in table 100", master)
		assert.True(t, tp.ruleTo(master, 100), "%s (master) has the rule", master)
		assert.True(t, tp.hasVIP(master, excl.Addr()), "%s (master) has the excluded VIP", master)
		assert.False(t, tp.routeTo(backup, dst, 0), "%s (backup) has no virtual route", backup)
		assert.False(t, tp.routeTo(backup, blackhole, 100), "%s (backup)", backup)
		assert.False(t, tp.ruleTo(backup, 100), "%s (backup) has no rule", backup)
		assert.False(t, tp.hasVIP(backup, excl.Addr()), "%s (backup) has no excluded VIP", backup)
	}
	check("r1", "r2")
	require.NoError(t, tp.lab.link("r1", "eth0", func(nl *netlink.Handle, link netlink.Link) error {
		addrs, err := nl.AddrList(link, netlink.FAMILY_V4)
		for _, a := range addrs {
			if a.IP.Equal(vip4.Addr().AsSlice()) {
				assert.Equal(t, "10.99.0.127", a.Broadcast.String(), "brd")
			}
			if a.IP.Equal(excl.Addr().AsSlice()) {
				assert.Equal(t, unix.RT_SCOPE_LINK, a.Scope, "scope")
			}
		}
		return err
	}))

	n1.stop()
	n2.waitState(StateMaster, time.Second)
	check("r2", "r1")
	n2.stop()
	assert.False(t, tp.routeTo("r2", dst, 0), "removed on stop")
	assert.False(t, tp.ruleTo("r2", 100), "removed on stop")
}
