package vrrp

import "slices"

// Static is keepalived's static_ipaddress, static_routes and static_rules:
// addresses, routes and rules a node has whatever its VRRP state, put in
// when `lvsctl run` starts, changed by difference on reload and taken out
// when it stops (as keepalived 2.2's VRRP process does: vrrp_daemon.c
// adds them before the instances start and deletes them in stop_vrrp,
// after the instances left).
type Static struct {
	// Addresses are static_ipaddress entries; each names its Dev.
	Addresses []VIP
	// Routes are static_routes entries; a direct route names its Dev.
	Routes []Route
	// Rules are static_rules entries.
	Rules []Rule
}

// Empty reports whether s has nothing to install.
func (s Static) Empty() bool {
	return len(s.Addresses)+len(s.Routes)+len(s.Rules) == 0
}

// Equal reports whether s and o hold the same entries in the same order.
func (s Static) Equal(o Static) bool {
	return slices.Equal(s.Addresses, o.Addresses) && slices.Equal(s.Routes, o.Routes) && slices.Equal(s.Rules, o.Rules)
}

// Without returns the entries of s that are not in keep.
func (s Static) Without(keep Static) Static {
	var out Static
	for _, a := range s.Addresses {
		if !slices.Contains(keep.Addresses, a) {
			out.Addresses = append(out.Addresses, a)
		}
	}
	for _, r := range s.Routes {
		if !slices.Contains(keep.Routes, r) {
			out.Routes = append(out.Routes, r)
		}
	}
	for _, r := range s.Rules {
		if !slices.Contains(keep.Rules, r) {
			out.Rules = append(out.Rules, r)
		}
	}
	return out
}
