package hcl

import (
	"net/netip"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/lvsctl/lvsctl/vrrp"
)

// keepalived's static_ipaddress, static_routes and static_rules: addresses,
// routes and rules `lvsctl run` installs when it starts, whatever the VRRP
// state, changes by difference on reload and removes when it stops.
//
//	static_ipaddress {
//	  address = "192.168.200.1/24"   # brd, scope, label as in vip
//	  dev     = "eth1"               # required
//	}
//	static_routes {                  # as virtual_routes; dev, via or blackhole
//	  to  = "10.20.0.0/16"
//	  via = "192.168.200.254"
//	}
//	static_rules {                   # as virtual_rules
//	  from  = "192.168.200.0/24"
//	  table = 100
//	}
//
// Each is a repeated block, one entry each, with the attributes of the vip,
// virtual_routes and virtual_rules blocks of a vrrp_instance.

const (
	blockStaticAddress = "static_ipaddress"
	blockStaticRoutes  = "static_routes"
	blockStaticRules   = "static_rules"
)

var staticAddressSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "address"}, {Name: "dev"}, {Name: "label"}, {Name: "scope"}, {Name: "brd"}},
}

func (d *decoder) staticAddress(b *hcl.Block) *vipSyntax {
	a := d.vrrpContent(b.Body, staticAddressSchema).Attributes
	return &vipSyntax{
		DefRange: b.DefRange,
		Address:  decodeString(d, a["address"]),
		Label:    decodeString(d, a["label"]),
		Dev:      decodeString(d, a["dev"]),
		Scope:    d.raw(a["scope"]),
		Brd:      decodeString(d, a["brd"]),
	}
}

// static builds the static blocks of v.
func (b *vrrpBuilder) static(v *vrrpSyntax) vrrp.Static {
	var out vrrp.Static
	seen := map[netip.Addr]hcl.Range{}
	for _, s := range v.StaticAddrs {
		if a, ok := b.staticAddress(s); ok {
			if prev, dup := seen[a.Prefix.Addr()]; dup {
				b.errorAt(s.Address.Value, prev.Ptr(), "Duplicate static address",
					"%s is already a static_ipaddress at %s.", a.Prefix.Addr(), posString(prev))
				continue
			}
			seen[a.Prefix.Addr()] = s.Address.Value
			out.Addresses = append(out.Addresses, a)
		}
	}
	var routes []*routeSyntax
	for _, r := range v.StaticRoutes {
		// No instance, so no default interface: a direct route names its
		// device. keepalived would use default_interface (eth0).
		if r.Dev == nil && r.Via == nil && !(r.Blackhole.ok() && r.Blackhole.Val) {
			b.errorAt(r.DefRange, nil, "Static route without a next hop",
				"A static_routes block needs dev, via or blackhole = true: it belongs to no vrrp_instance whose interface it could take (keepalived's default_interface).")
			continue
		}
		routes = append(routes, r)
	}
	out.Routes = b.routes(routes, blockStaticRoutes)
	out.Rules = b.rules(v.StaticRules, blockStaticRules)
	return out
}

// staticAddress builds one static_ipaddress block.
func (b *vrrpBuilder) staticAddress(s *vipSyntax) (vrrp.VIP, bool) {
	ok := true
	if s.Address == nil {
		b.errorAt(s.DefRange, nil, "Missing address",
			"A static_ipaddress block needs address = \"IP[/PREFIX]\", such as \"192.168.200.1/24\" (without a prefix length: /32 or /128).")
		ok = false
	}
	if s.Dev == nil {
		b.errorAt(s.DefRange, nil, "Missing dev",
			"A static_ipaddress block needs dev = \"IFNAME\", the interface the address goes on (keepalived's default_interface, eth0, is not assumed).")
		ok = false
	}
	if !ok || !s.Address.ok() || !s.Dev.ok() {
		return vrrp.VIP{}, false
	}
	var v vrrp.VIP
	p, err := parsePrefix(s.Address.Val)
	if err == nil && strings.Contains(s.Address.Val, "/") {
		// Keep the host bits: parsePrefix masks them.
		p, err = netip.ParsePrefix(s.Address.Val)
	}
	a := p.Addr()
	switch {
	case err != nil:
		b.errorAt(s.Address.Value, nil, "Invalid static address", "%q is not an address: %v.", s.Address.Val, err)
		return v, false
	case a.Zone() != "" || a.Is4In6() || a.IsUnspecified() || a.IsMulticast() || p.Bits() == 0:
		b.errorAt(s.Address.Value, nil, "Invalid static address",
			"%q cannot go on an interface: give a unicast IPv4 or IPv6 address without a zone, with a prefix length of 1 or more.", s.Address.Val)
		return v, false
	}
	v.Prefix = p
	if !b.interfaceName(s.Dev.Val, s.Dev.Value) {
		ok = false
	}
	v.Dev = s.Dev.Val
	if s.Label.ok() {
		if b.vipLabel(s.Label, p, v.Dev) {
			v.Label = s.Label.Val
		} else {
			ok = false
		}
	}
	if s.Scope != nil {
		sc, sok := b.scope(s.Scope)
		v.Scope, ok = sc, ok && sok
	}
	if s.Brd.ok() {
		brd, err := netip.ParseAddr(s.Brd.Val)
		if err != nil || !brd.Is4() || !a.Is4() {
			b.errorAt(s.Brd.Value, nil, "Invalid brd",
				"brd is the IPv4 broadcast address of an IPv4 address, such as \"192.168.200.255\"; got %q.", s.Brd.Val)
			ok = false
		}
		v.Broadcast = brd
	}
	return v, ok
}
