package kaimport

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/vrrp"
)

// static_ipaddress, static_routes and static_rules translate line by line
// into lvsctl's blocks of the same names; what lvsctl leaves out or does
// differently is said at the line.
func TestStaticImport(t *testing.T) {
	tests := []struct {
		name      string
		src       string
		want      vrrp.Static
		wantDiags string
	}{
		{
			name: "address with every option",
			src:  "static_ipaddress {\n    192.168.200.1/24 dev eth1 brd 192.168.200.255 scope link label eth1:st\n}\n",
			want: vrrp.Static{Addresses: []vrrp.VIP{{Prefix: netip.MustParsePrefix("192.168.200.1/24"), Dev: "eth1",
				Broadcast: netip.MustParseAddr("192.168.200.255"), Scope: 253, Label: "eth1:st"}}},
		},
		{
			name: "address without dev: keepalived's default interface",
			src:  "static_ipaddress {\n    192.168.200.1/24\n}\n",
			want: vrrp.Static{Addresses: []vrrp.VIP{{Prefix: netip.MustParsePrefix("192.168.200.1/24"), Dev: "eth0"}}},
			wantDiags: `k.conf:2: note: 192.168.200.1/24: no dev: keepalived puts it on its default interface, eth0, and so does dev = "eth0"
`,
		},
		{
			name: "default_interface",
			src:  "global_defs {\n    default_interface bond0\n}\nstatic_ipaddress {\n    10.1.1.1\n}\n",
			want: vrrp.Static{Addresses: []vrrp.VIP{{Prefix: netip.MustParsePrefix("10.1.1.1/32"), Dev: "bond0"}}},
			wantDiags: `k.conf:2: warning: default_interface: not translated: lvsctl has no default interface: every vrrp_instance sets interface (a static_ipaddress without dev gets it written in)
k.conf:5: note: 10.1.1.1: no dev: keepalived puts it on its default interface, bond0, and so does dev = "bond0"
`,
		},
		{
			name: "IPv6: label and scope ignored as keepalived does",
			src:  "static_ipaddress {\n    2001:db8::1/64 dev eth1 scope link label eth1:x\n}\n",
			want: vrrp.Static{Addresses: []vrrp.VIP{{Prefix: netip.MustParsePrefix("2001:db8::1/64"), Dev: "eth1"}}},
			wantDiags: `k.conf:2: warning: 2001:db8::1/64: translated without label eth1:x (keepalived ignores it on an IPv6 address), scope link (keepalived ignores it on an IPv6 address)
`,
		},
		{
			name: "options lvsctl leaves out",
			src:  "static_ipaddress {\n    10.1.1.1/24 dev eth1 track_group G1 noprefixroute brd +\n}\n",
			want: vrrp.Static{Addresses: []vrrp.VIP{{Prefix: netip.MustParsePrefix("10.1.1.1/24"), Dev: "eth1"}}},
			wantDiags: `k.conf:2: warning: 10.1.1.1/24: translated without track_group G1, noprefixroute, brd +
`,
		},
		{
			name: "not an address",
			src:  "static_ipaddress {\n    10.1.1.300/24 dev eth1\n}\n",
			wantDiags: `k.conf:2: warning: 10.1.1.300/24: not translated: "10.1.1.300/24" is not an address (keepalived skips it too)
`,
		},
		{
			name: "routes",
			src:  "static_routes {\n    10.20.0.0/16 via 192.168.200.254\n    src 192.168.200.1 10.30.0.0/16 dev eth1 table 200 metric 5\n    blackhole 203.0.113.0/24\n}\n",
			want: vrrp.Static{Routes: []vrrp.Route{
				{Dst: netip.MustParsePrefix("10.20.0.0/16"), Gateway: netip.MustParseAddr("192.168.200.254")},
				{Dst: netip.MustParsePrefix("10.30.0.0/16"), Src: netip.MustParseAddr("192.168.200.1"), Dev: "eth1", Table: 200, Metric: 5},
				{Dst: netip.MustParsePrefix("203.0.113.0/24"), Blackhole: true},
			}},
			// Only the route with dev is put back (by lvsctl; keepalived
			// here follows no route deletions).
			wantDiags: `k.conf:3: note: src: lvsctl puts this static route back if someone deletes it; keepalived 2.2.7 would not here: it follows route deletions only when a vrrp_instance has a virtual route with dev (or a static route a track_group) of the same family
`,
		},
		{
			name: "routes keepalived follows: a virtual route with dev of the family",
			src: "static_routes {\n    10.30.0.0/16 dev eth1\n    2001:db8:30::/48 dev eth1\n}\n" +
				"vrrp_instance VI_2 {\n    interface eth0\n    virtual_router_id 52\n    virtual_ipaddress {\n        10.0.0.2/24\n    }\n    virtual_routes {\n        10.40.0.0/16 dev eth0\n        2001:db8:40::/48 via fe80::1 no_track\n    }\n}\n",
			want: vrrp.Static{Routes: []vrrp.Route{
				{Dst: netip.MustParsePrefix("10.30.0.0/16"), Dev: "eth1"},
				{Dst: netip.MustParsePrefix("2001:db8:30::/48"), Dev: "eth1"},
			}},
			wantDiags: `k.conf:3: note: 2001:db8:30::/48: lvsctl puts this static route back if someone deletes it; keepalived 2.2.7 would not here: it follows route deletions only when a vrrp_instance has a virtual route with dev (or a static route a track_group) of the same family
k.conf:13: note: 2001:db8:40::/48: translated without no_track (neither keepalived nor lvsctl watches a virtual route without dev)
`,
		},
		{
			name: "route without a next hop",
			src:  "static_routes {\n    10.20.0.0/16 table 5\n}\n",
			wantDiags: `k.conf:2: warning: 10.20.0.0/16: not translated: lvsctl needs dev, via or blackhole in a static route: it has no default interface to put it on
`,
		},
		{
			name: "multipath route",
			src:  "static_routes {\n    10.20.0.0/16 via 192.168.200.254 or via 192.168.200.253\n}\n",
			wantDiags: `k.conf:2: warning: 10.20.0.0/16: not translated: lvsctl has no multipath routes (or)
`,
		},
		{
			name: "rules",
			src:  "static_rules {\n    from 192.168.200.0/24 table 200 preference 100\n    to 2001:db8:9::/48 oif eth1 lookup 300\n}\n",
			want: vrrp.Static{Rules: []vrrp.Rule{
				{From: netip.MustParsePrefix("192.168.200.0/24"), Table: 200, Priority: 100},
				{To: netip.MustParsePrefix("2001:db8:9::/48"), OIF: "eth1", Table: 300},
			}},
			wantDiags: `k.conf:2: note: from: lvsctl puts this static rule back if someone deletes it; keepalived 2.2.7 would not here: it follows rule deletions only when a vrrp_instance has a virtual rule (or a static rule a track_group) of the same family
k.conf:3: note: to: lvsctl puts this static rule back if someone deletes it; keepalived 2.2.7 would not here: it follows rule deletions only when a vrrp_instance has a virtual rule (or a static rule a track_group) of the same family
`,
		},
		{
			name: "rules keepalived follows: a virtual rule of the family",
			src: "static_rules {\n    from 192.168.200.0/24 table 200\n}\n" +
				"vrrp_instance VI_2 {\n    interface eth0\n    virtual_router_id 52\n    virtual_ipaddress {\n        10.0.0.2/24\n    }\n    virtual_rules {\n        from 10.0.0.2 table 100\n    }\n}\n",
			want: vrrp.Static{Rules: []vrrp.Rule{{From: netip.MustParsePrefix("192.168.200.0/24"), Table: 200}}},
		},
		{
			name: "rule without a table",
			src:  "static_rules {\n    from 192.168.200.0/24\n}\n",
			wantDiags: `k.conf:2: warning: from: not translated: lvsctl needs a table for a rule
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// allow_empty: a file of static entries alone is otherwise empty.
			res, cfg := importSrc(t, tt.src+"vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    virtual_ipaddress {\n        10.0.0.1/24\n    }\n}\n")
			require.NotNil(t, cfg, "%s", res.HCL)
			assert.Equal(t, tt.want, cfg.VRRP.Static, "%s", res.HCL)
			assert.Equal(t, tt.wantDiags, diagLines(res), "%s", res.HCL)
		})
	}
}
