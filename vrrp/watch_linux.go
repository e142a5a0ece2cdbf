package vrrp

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// keepalived 2.2.7 watches what a master installs (core/keepalived_netlink.c):
// when a VIP or excluded VIP (netlink_if_address_filter), a virtual route
// (netlink_route_filter) or a virtual rule (netlink_rule_filter) of a MASTER
// instance is deleted by someone else, and its line does not say no_track,
// set_vrrp_backup takes the instance to BACKUP: a priority-0 advert, the
// rest of its addresses, routes and rules removed (vrrp_state_leave_master),
// and its down timer set to its skew time, so that it is master again, with
// everything re-added, after the skew time unless a higher-priority router
// advertises first. lvsctl does the same (machine.relinquish). It has no
// no_track: every VIP, excluded VIP and rule is watched, and every route
// with a dev (keepalived tracks no route without one: "cannot track route
// ... with no interface specified", vrrp_iproute.c).
//
// One netlink socket on the address, route and rule groups of both families
// wakes the instance on any deletion; the instance then checks what it
// installed (missing), so its own removals, and events read after it took
// the objects back, change nothing.

// installed is an object added on entering MASTER.
type installed struct {
	kind    uint32 // delAddr, delRoute or delRule
	what    string
	present func(*dumps) (bool, error)
}

// dumps reads each link's addresses, each table's routes and each family's
// rules once per missing, however many objects are checked.
type dumps struct {
	nl     *netlink.Handle
	addrs  map[[2]int][]netlink.Addr
	routes map[[2]int][]netlink.Route
	rules  map[int][]netlink.Rule
}

func newDumps(h *netlink.Handle) *dumps {
	return &dumps{nl: h, addrs: map[[2]int][]netlink.Addr{}, routes: map[[2]int][]netlink.Route{}, rules: map[int][]netlink.Rule{}}
}

func (d *dumps) addrList(link netlink.Link, fam int) ([]netlink.Addr, error) {
	key := [2]int{link.Attrs().Index, fam}
	if a, ok := d.addrs[key]; ok {
		return a, nil
	}
	a, err := d.nl.AddrList(link, fam)
	if err == nil {
		d.addrs[key] = a
	}
	return a, err
}

func (d *dumps) routeList(fam, table int) ([]netlink.Route, error) {
	key := [2]int{fam, table}
	if r, ok := d.routes[key]; ok {
		return r, nil
	}
	r, err := d.nl.RouteListFiltered(fam, &netlink.Route{Table: table}, netlink.RT_FILTER_TABLE)
	if err == nil {
		d.routes[key] = r
	}
	return r, err
}

func (d *dumps) ruleList(fam int) ([]netlink.Rule, error) {
	if r, ok := d.rules[fam]; ok {
		return r, nil
	}
	r, err := d.nl.RuleList(fam)
	if err == nil {
		d.rules[fam] = r
	}
	return r, err
}

// watchDeletions opens the socket (in the calling thread's namespace) and
// reads it until close.
func (s *linuxSystem) watchDeletions() error {
	sock, err := subscribeDeletions(s.stop, s.deleted, s.in.log)
	if err != nil {
		return err
	}
	s.watch = sock
	return nil
}

// subscribeDeletions opens a socket on the address, route and rule groups
// of both families (in the calling thread's namespace) and calls deleted
// with the kind of each deletion read (all kinds when events were lost)
// until the socket is closed; stop, closed first, ends it quietly. Both
// an instance's master and Statics use it.
func subscribeDeletions(stop <-chan struct{}, deleted func(kind uint32), log *slog.Logger) (*nl.NetlinkSocket, error) {
	sock, err := nl.Subscribe(unix.NETLINK_ROUTE,
		unix.RTNLGRP_IPV4_IFADDR, unix.RTNLGRP_IPV6_IFADDR,
		unix.RTNLGRP_IPV4_ROUTE, unix.RTNLGRP_IPV6_ROUTE,
		unix.RTNLGRP_IPV4_RULE, unix.RTNLGRP_IPV6_RULE)
	if err != nil {
		return nil, fmt.Errorf("subscribe to address, route and rule changes: %w", err)
	}
	if err := sock.SetReceiveBufferSize(1<<20, false); err != nil {
		sock.Close()
		return nil, fmt.Errorf("subscribe to address, route and rule changes: %w", err)
	}
	go func() {
		for {
			msgs, _, err := sock.Receive()
			select {
			case <-stop:
				return
			default:
			}
			if errors.Is(err, unix.ENOBUFS) {
				deleted(delAddr | delRoute | delRule) // events lost: look again
				continue
			}
			if err != nil {
				log.Warn("cannot follow address, route and rule deletions", "err", err)
				return
			}
			for _, m := range msgs {
				switch m.Header.Type {
				case unix.RTM_DELADDR:
					deleted(delAddr)
				case unix.RTM_DELROUTE:
					deleted(delRoute)
				case unix.RTM_DELRULE:
					deleted(delRule)
				}
			}
		}
	}()
	return sock, nil
}

// deleted wakes the instance (one pending wake-up is enough).
func (s *linuxSystem) deleted(kind uint32) {
	s.pending.Or(kind)
	select {
	case s.dels <- struct{}{}:
	default:
	}
}

func (s *linuxSystem) deletions() <-chan struct{} { return s.dels }

// missing names the first object installed as master that is no longer
// there ("" if all are).
func (s *linuxSystem) missing() string {
	kinds := s.pending.Swap(0)
	d := newDumps(s.nl)
	for _, o := range s.installed {
		if o.kind&kinds == 0 {
			continue
		}
		ok, err := o.present(d)
		if err != nil {
			s.in.log.Warn("cannot check what the master installed", "object", o.what, "err", err)
			continue
		}
		if !ok {
			return o.what + " deleted"
		}
	}
	return ""
}

func (s *linuxSystem) watchAddr(link netlink.Link, name string, p netip.Prefix) {
	addr := p.Addr()
	s.installed = append(s.installed, installed{
		kind: delAddr,
		what: fmt.Sprintf("VIP %v on %s", p, name),
		present: func(d *dumps) (bool, error) {
			return d.hasAddr(link, name, addr)
		},
	})
}

// hasAddr reports whether link (called name) has addr.
func (d *dumps) hasAddr(link netlink.Link, name string, addr netip.Addr) (bool, error) {
	fam := netlink.FAMILY_V4
	if addr.Is6() {
		fam = netlink.FAMILY_V6
	}
	addrs, err := d.addrList(link, fam)
	if err != nil {
		return false, fmt.Errorf("addresses of %s: %w", name, err)
	}
	for _, a := range addrs {
		if ip, ok := netip.AddrFromSlice(a.IP); ok && ip.Unmap() == addr {
			return true, nil
		}
	}
	return false, nil
}

func (s *linuxSystem) watchRoute(r Route, nr *netlink.Route) {
	s.installed = append(s.installed, installed{
		kind: delRoute,
		what: fmt.Sprintf("virtual route %v", r.Dst),
		present: func(d *dumps) (bool, error) {
			return d.hasRoute(r.Dst, nr.Table)
		},
	})
}

// hasRoute reports whether table (0: main) has a route to dst.
func (d *dumps) hasRoute(dst netip.Prefix, table int) (bool, error) {
	fam := netlink.FAMILY_V4
	if dst.Addr().Is6() {
		fam = netlink.FAMILY_V6
	}
	if table == 0 {
		table = unix.RT_TABLE_MAIN
	}
	rs, err := d.routeList(fam, table)
	if err != nil {
		return false, fmt.Errorf("routes of table %d: %w", table, err)
	}
	for _, x := range rs {
		if netPrefix(x.Dst, fam) == dst.Masked() {
			return true, nil
		}
	}
	return false, nil
}

func (s *linuxSystem) watchRule(r Rule, nr *netlink.Rule) {
	s.installed = append(s.installed, installed{
		kind: delRule,
		what: fmt.Sprintf("virtual rule %+v", r),
		present: func(d *dumps) (bool, error) {
			return d.hasRule(nr)
		},
	})
}

// hasRule reports whether the kernel has rule nr.
func (d *dumps) hasRule(nr *netlink.Rule) (bool, error) {
	rs, err := d.ruleList(nr.Family)
	if err != nil {
		return false, fmt.Errorf("rules: %w", err)
	}
	for _, x := range rs {
		if x.Table == nr.Table && (nr.Priority < 0 || x.Priority == nr.Priority) &&
			netPrefix(x.Src, nr.Family) == netPrefix(nr.Src, nr.Family) &&
			netPrefix(x.Dst, nr.Family) == netPrefix(nr.Dst, nr.Family) &&
			x.IifName == nr.IifName && x.OifName == nr.OifName {
			return true, nil
		}
	}
	return false, nil
}

// netPrefix is n as a prefix; nil is the family's default (/0).
func netPrefix(n *net.IPNet, fam int) netip.Prefix {
	if n == nil {
		if fam == netlink.FAMILY_V6 {
			return netip.PrefixFrom(netip.IPv6Unspecified(), 0)
		}
		return netip.PrefixFrom(netip.IPv4Unspecified(), 0)
	}
	ip, _ := netip.AddrFromSlice(n.IP)
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(ip.Unmap(), ones).Masked()
}
