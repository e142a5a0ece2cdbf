package vrrp

import (
	"fmt"
	"log/slog"
	"slices"
)

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

// Tracked returns the entries of s that are put back when someone else
// deletes them, as keepalived 2.2.7 does (core/keepalived_netlink.c:
// reinstate_static_address, reinstate_static_route, reinstate_static_rule):
// every address and rule, and every route that names its Dev; keepalived
// tracks no route without one ("cannot track route ... with no interface
// specified", vrrp_iproute.c), so a static route given only by via or
// blackhole stays deleted, as a virtual route without dev does.
func (s Static) Tracked() Static {
	out := Static{Addresses: s.Addresses, Rules: s.Rules}
	for _, r := range s.Routes {
		if r.Dev != "" {
			out.Routes = append(out.Routes, r)
		}
	}
	return out
}

// staticKernel is what putting static entries back needs of the kernel:
// static_linux.go's is netlink, tests fake it.
type staticKernel interface {
	hasAddr(VIP) (bool, error)
	hasRoute(Route) (bool, error)
	hasRule(Rule) (bool, error)
	addAddr(VIP) error
	addRoute(Route) error
	addRule(Rule) error
}

// reinstate puts back the tracked entries of cur of the kinds deleted
// (delAddr, delRoute, delRule) that k no longer has, logging each at info
// as keepalived logs "Restoring deleted static address ...", and returns
// them. Entries lvsctl removed itself are no longer in cur, so they stay
// removed.
func reinstate(k staticKernel, cur Static, kinds uint32, log *slog.Logger) Static {
	var back Static
	t := cur.Tracked()
	restore := func(kind, what string, has func() (bool, error), add func() error) bool {
		ok, err := has()
		if err != nil {
			log.Warn("cannot check a static entry", "kind", kind, "entry", what, "err", err)
			return false
		}
		if ok {
			return false
		}
		log.Info("restoring deleted static "+kind, "entry", what)
		if err := add(); err != nil {
			log.Error("cannot restore deleted static "+kind, "entry", what, "err", err)
		}
		return true
	}
	if kinds&delAddr != 0 {
		for _, a := range t.Addresses {
			if restore("address", DescribeAddress(a), func() (bool, error) { return k.hasAddr(a) }, func() error { return k.addAddr(a) }) {
				back.Addresses = append(back.Addresses, a)
			}
		}
	}
	// A deleted address takes the routes through it along: look at them too.
	if kinds&(delAddr|delRoute) != 0 {
		for _, r := range t.Routes {
			if restore("route", DescribeRoute(r), func() (bool, error) { return k.hasRoute(r) }, func() error { return k.addRoute(r) }) {
				back.Routes = append(back.Routes, r)
			}
		}
	}
	if kinds&delRule != 0 {
		for _, r := range t.Rules {
			if restore("rule", DescribeRule(r), func() (bool, error) { return k.hasRule(r) }, func() error { return k.addRule(r) }) {
				back.Rules = append(back.Rules, r)
			}
		}
	}
	return back
}

// DescribeAddress is a for logs, in ip(8)'s words: "10.0.0.5/24 dev eth1".
func DescribeAddress(a VIP) string {
	s := a.Prefix.String()
	if a.Broadcast.IsValid() {
		s += " brd " + a.Broadcast.String()
	}
	if a.Dev != "" {
		s += " dev " + a.Dev
	}
	if a.Scope != 0 {
		s += fmt.Sprintf(" scope %d", a.Scope)
	}
	if a.Label != "" {
		s += " label " + a.Label
	}
	return s
}

// DescribeRoute is r for logs, in ip(8)'s words.
func DescribeRoute(r Route) string {
	s := r.Dst.String()
	if r.Blackhole {
		s = "blackhole " + s
	}
	if r.Src.IsValid() {
		s += " src " + r.Src.String()
	}
	if r.Gateway.IsValid() {
		s += " via " + r.Gateway.String()
	}
	if r.Dev != "" {
		s += " dev " + r.Dev
	}
	if r.Metric != 0 {
		s += fmt.Sprintf(" metric %d", r.Metric)
	}
	if r.Table != 0 {
		s += fmt.Sprintf(" table %d", r.Table)
	}
	if r.Scope != 0 {
		s += fmt.Sprintf(" scope %d", r.Scope)
	}
	return s
}

// DescribeRule is r for logs, in ip(8)'s words.
func DescribeRule(r Rule) string {
	s := ""
	if r.From.IsValid() {
		s += "from " + r.From.String() + " "
	}
	if r.To.IsValid() {
		s += "to " + r.To.String() + " "
	}
	if r.IIF != "" {
		s += "iif " + r.IIF + " "
	}
	if r.OIF != "" {
		s += "oif " + r.OIF + " "
	}
	if r.Priority != 0 {
		s += fmt.Sprintf("priority %d ", r.Priority)
	}
	return s + fmt.Sprintf("table %d", r.Table)
}
