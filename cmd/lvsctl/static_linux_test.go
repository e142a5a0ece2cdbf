package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/lvsctl/lvsctl/cmd/internal/lab"
)

// staticRunConf is a VRRP-only node with keepalived's static entries: the
// address on eth1 before the route through it (the gateway is reachable
// only through that address's subnet), a blackhole in table 200 and a
// rule to it. %s is where the reload puts its changes.
const staticRunConf = `
vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 61
  version           = 3
  priority          = 100
  advert_interval   = 0.1
  virtual_ipaddress = ["10.97.0.100/24"]
}

static_ipaddress {
  address = "192.168.200.1/24"
  dev     = "eth1"
  label   = "eth1:st"
}
static_routes {
  to        = "203.0.113.0/24"
  blackhole = true
  table     = 200
}
%s
`

const staticFirst = `
static_routes {
  to  = "10.20.0.0/16"
  via = "192.168.200.254"
}
static_rules {
  from     = "192.168.200.0/24"
  table    = 200
  priority = 100
}`

const staticSecond = `
static_routes {
  to  = "10.30.0.0/16"
  dev = "eth1"
}
static_rules {
  from     = "192.168.200.0/24"
  table    = 200
  priority = 101
}`

// staticState lists host's static-looking entries: addresses of eth1,
// routes of main and table 200 outside the link's own, rules to table 200
// (as "PRIORITY from SRC").
func staticState(t *testing.T, l *lab.Lab, host string) (addrs, routes, rules []string) {
	t.Helper()
	ns, err := netns.GetFromPath(l.NSPath(host))
	require.NoError(t, err)
	defer ns.Close()
	nl, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	require.NoError(t, err)
	defer nl.Close()
	link, err := nl.LinkByName("eth1")
	require.NoError(t, err)
	as, err := nl.AddrList(link, netlink.FAMILY_V4)
	require.NoError(t, err)
	for _, a := range as {
		addrs = append(addrs, a.IPNet.String()+" "+a.Label)
	}
	for _, table := range []int{unix.RT_TABLE_MAIN, 200} {
		rs, err := nl.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: table}, netlink.RT_FILTER_TABLE)
		require.NoError(t, err)
		for _, r := range rs {
			if r.Dst != nil && r.Protocol != unix.RTPROT_KERNEL {
				routes = append(routes, fmt.Sprintf("%d %v", table, r.Dst))
			}
		}
	}
	us, err := nl.RuleList(netlink.FAMILY_V4)
	require.NoError(t, err)
	for _, u := range us {
		if u.Table == 200 && u.Src != nil {
			rules = append(rules, fmt.Sprintf("%d from %v", u.Priority, u.Src))
		}
	}
	slices.Sort(routes)
	return addrs, routes, rules
}

// TestRunStatic: lvsctl run installs static_ipaddress, static_routes and
// static_rules at start, changes them by difference on SIGHUP, puts back
// what someone else deletes (not what the reload removed), and removes
// them when it stops, in a network namespace on the host's kernel.
func TestRunStatic(t *testing.T) {
	requireRoot(t)
	l := lab.New(fmt.Sprintf("lvst%d-", os.Getpid()%100000))
	t.Cleanup(func() { assert.NoError(t, l.Close()) })
	for _, h := range []string{"d1", "gw"} {
		require.NoError(t, l.AddHost(h))
	}
	require.NoError(t, l.Link("d1", "eth0", "10.97.0.1/24", "gw", "eth0", "10.97.0.254/24"))
	require.NoError(t, l.Link("d1", "eth1", "", "gw", "eth1", "192.168.200.254/24"))

	dir := t.TempDir()
	cfg := filepath.Join(dir, "lvsctl.hcl")
	require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(staticRunConf, staticFirst)), 0o644))
	d := startDaemon(t, "-f", cfg, "--netns", l.NSPath("d1"), "--state", filepath.Join(dir, "state.json"))

	type state struct{ addrs, routes, rules []string }
	get := func() state { a, r, u := staticState(t, l, "d1"); return state{a, r, u} }
	first := state{
		addrs:  []string{"192.168.200.1/24 eth1:st"},
		routes: []string{"200 203.0.113.0/24", "254 10.20.0.0/16"},
		rules:  []string{"100 from 192.168.200.0/24"},
	}
	waitUntil(t, 10*time.Second, "the static entries", func() bool { return assert.ObjectsAreEqual(first, get()) })
	// (The kernel takes the route via 192.168.200.254 only once the
	// address is there: addresses go in first.)

	// A reload replaces the route through the gateway and the rule; the
	// address and the blackhole stay.
	require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(staticRunConf, staticSecond)), 0o644))
	d.signal(t, syscall.SIGHUP)
	second := state{
		addrs:  first.addrs,
		routes: []string{"200 203.0.113.0/24", "254 10.30.0.0/16"},
		rules:  []string{"101 from 192.168.200.0/24"},
	}
	waitUntil(t, 10*time.Second, "the reloaded static entries", func() bool { return assert.ObjectsAreEqual(second, get()) })
	assert.Contains(t, d.logText(), `removed="[route 10.20.0.0/16 rule from 192.168.200.0/24 table 200]"`)

	// Someone deletes the address, the route with dev and the rule: lvsctl
	// puts them back, as keepalived does, and says so.
	for _, del := range [][]string{
		{"addr", "del", "192.168.200.1/24", "dev", "eth1"},
		{"route", "del", "10.30.0.0/16", "dev", "eth1"},
		{"rule", "del", "priority", "101"},
	} {
		out, err := exec.Command("ip", append([]string{"-n", l.NSName("d1")}, del...)...).CombinedOutput()
		require.NoError(t, err, "ip %v: %s", del, out)
		waitUntil(t, 5*time.Second, "the static entry back after ip "+strings.Join(del, " "), func() bool { return assert.ObjectsAreEqual(second, get()) })
	}
	for _, want := range []string{
		`msg="restoring deleted static address" entry="192.168.200.1/24 dev eth1 label eth1:st"`,
		`msg="restoring deleted static route" entry="10.30.0.0/16 dev eth1"`,
		`msg="restoring deleted static rule" entry="from 192.168.200.0/24 priority 101 table 200"`,
	} {
		assert.Contains(t, d.logText(), want)
	}

	// Stopped: all gone, as keepalived's stop_vrrp leaves it.
	d.signal(t, syscall.SIGTERM)
	require.NoError(t, d.wait(t))
	assert.Equal(t, state{}, get())
	assert.True(t, strings.Contains(d.logText(), `msg="static addresses, routes and rules removed"`), "the stop's log line")
}
