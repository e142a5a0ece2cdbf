package hcl_test

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/vrrp"
)

func TestStatic(t *testing.T) {
	cfg, files, diags := lvshcl.Parse([]byte(`
vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ipaddress = ["10.0.0.100/24"]
}

static_ipaddress {
  address = "192.168.200.1/24"
  dev     = "eth1"
  label   = "eth1:st"
  scope   = "global"
  brd     = "192.168.200.255"
}
static_ipaddress {
  address = "2001:db8:5::1"
  dev     = "eth1"
  scope   = 253
}
static_routes {
  to  = "10.20.0.0/16"
  via = "192.168.200.254"
}
static_routes {
  to     = "10.30.0.0/16"
  dev    = "eth1"
  src    = "192.168.200.1"
  metric = 10
  table  = 200
}
static_routes {
  to        = "203.0.113.0/24"
  blackhole = true
}
static_rules {
  from     = "192.168.200.0/24"
  table    = 200
  priority = 100
}
static_rules {
  to    = "2001:db8:9::/48"
  oif   = "eth1"
  table = 300
}
`), "static.hcl")
	require.Empty(t, diags, "%s", render(t, files, diags))
	assert.Equal(t, vrrp.Static{
		Addresses: []vrrp.VIP{
			{Prefix: netip.MustParsePrefix("192.168.200.1/24"), Dev: "eth1", Label: "eth1:st", Broadcast: netip.MustParseAddr("192.168.200.255")},
			{Prefix: netip.MustParsePrefix("2001:db8:5::1/128"), Dev: "eth1", Scope: 253},
		},
		Routes: []vrrp.Route{
			{Dst: netip.MustParsePrefix("10.20.0.0/16"), Gateway: netip.MustParseAddr("192.168.200.254")},
			{Dst: netip.MustParsePrefix("10.30.0.0/16"), Dev: "eth1", Src: netip.MustParseAddr("192.168.200.1"), Metric: 10, Table: 200},
			{Dst: netip.MustParsePrefix("203.0.113.0/24"), Blackhole: true},
		},
		Rules: []vrrp.Rule{
			{From: netip.MustParsePrefix("192.168.200.0/24"), Table: 200, Priority: 100},
			{To: netip.MustParsePrefix("2001:db8:9::/48"), OIF: "eth1", Table: 300},
		},
	}, cfg.VRRP.Static)
	// Not the instance's.
	assert.Empty(t, cfg.VRRP.Instances[0].Config.Routes)
	assert.Empty(t, cfg.VRRP.Instances[0].Config.Rules)
}

// The address keeps its host bits, as ip addr add does.
func TestStaticAddressHostBits(t *testing.T) {
	cfg, files, diags := lvshcl.Parse([]byte(`allow_empty = true
static_ipaddress {
  address = "10.1.2.3/8"
  dev     = "eth0"
}`), "static.hcl")
	require.Empty(t, diags, "%s", render(t, files, diags))
	assert.Equal(t, []vrrp.VIP{{Prefix: netip.MustParsePrefix("10.1.2.3/8"), Dev: "eth0"}}, cfg.VRRP.Static.Addresses)
}

func TestStaticRejects(t *testing.T) {
	runRejections(t, []rejection{
		{
			name: "address without dev",
			src: `allow_empty = true
static_ipaddress {
  address = "192.168.200.1/24"
}`,
			summary: "Missing dev", detail: "default_interface",
			line: 2, col: 1,
		},
		{
			name: "dev without address",
			src: `allow_empty = true
static_ipaddress {
  dev = "eth0"
}`,
			summary: "Missing address", detail: "address = ",
			line: 2, col: 1,
		},
		{
			name: "not an address",
			src: `allow_empty = true
static_ipaddress {
  address = "192.168.200.300"
  dev     = "eth0"
}`,
			summary: "Invalid static address", detail: "is not an address",
			line: 3, col: 13,
		},
		{
			name: "multicast address",
			src: `allow_empty = true
static_ipaddress {
  address = "224.0.0.1"
  dev     = "eth0"
}`,
			summary: "Invalid static address", detail: "unicast",
			line: 3, col: 13,
		},
		{
			name: "label of another interface",
			src: `allow_empty = true
static_ipaddress {
  address = "192.168.200.1/24"
  dev     = "eth1"
  label   = "eth0:x"
}`,
			summary: "Invalid label", detail: `does not start with "eth1"`,
			line: 5, col: 13,
		},
		{
			name: "brd of an IPv6 address",
			src: `allow_empty = true
static_ipaddress {
  address = "2001:db8::1/64"
  dev     = "eth1"
  brd     = "2001:db8::ffff"
}`,
			summary: "Invalid brd", detail: "IPv4 broadcast",
			line: 5, col: 13,
		},
		{
			name: "bad dev",
			src: `allow_empty = true
static_ipaddress {
  address = "192.168.200.1/24"
  dev     = "eth0:1"
}`,
			summary: "Invalid interface name", detail: "1 to 15 characters",
			line: 4, col: 13,
		},
		{
			name: "duplicate address",
			src: `allow_empty = true
static_ipaddress {
  address = "192.168.200.1/24"
  dev     = "eth1"
}
static_ipaddress {
  address = "192.168.200.1/32"
  dev     = "eth2"
}`,
			summary: "Duplicate static address", detail: "test.hcl:3:13",
			line: 7, col: 13, ctxLine: 3,
		},
		{
			name: "unknown attribute",
			src: `allow_empty = true
static_ipaddress {
  address = "192.168.200.1/24"
  dev     = "eth1"
  peer    = "192.168.200.2"
}`,
			summary: "Unsupported argument", detail: `"peer"`,
			line: 5, col: 3,
		},
		{
			name: "direct route without dev",
			src: `allow_empty = true
static_routes {
  to = "10.20.0.0/16"
}`,
			summary: "Static route without a next hop", detail: "dev, via or blackhole",
			line: 2, col: 1,
		},
		{
			name: "route via another family",
			src: `allow_empty = true
static_routes {
  to  = "10.20.0.0/16"
  via = "2001:db8::1"
}`,
			summary: "Invalid via", detail: "destination's family",
			line: 4, col: 9,
		},
		{
			name: "blackhole with a next hop",
			src: `allow_empty = true
static_routes {
  to        = "10.20.0.0/16"
  dev       = "eth0"
  blackhole = true
}`,
			summary: "Blackhole route with a next hop", detail: "no via or dev",
			line: 2, col: 1,
		},
		{
			name: "rule without from or to",
			src: `allow_empty = true
static_rules {
  table = 100
}`,
			summary: "Rule without from or to", detail: "A static_rules block needs from or to",
			line: 2, col: 1,
		},
		{
			name: "rule without table",
			src: `allow_empty = true
static_rules {
  from = "10.0.0.0/8"
}`,
			summary: "Missing required argument", detail: `"table"`,
			line: 2, col: 14,
		},
	})
}
