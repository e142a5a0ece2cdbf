package vrrp

import (
	"errors"
	"fmt"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// virtual_routes and virtual_rules: installed on entering MASTER (after
// the VIPs, which a route's src or dev may need), removed on leaving it.

func (s *linuxSystem) route(r Route) (*netlink.Route, error) {
	return netlinkRoute(s.nl, r, s.devLink)
}

// netlinkRoute is r for the kernel; a direct route without dev goes on
// dflt (the instance's interface; nil for static_routes, which name one).
func netlinkRoute(nl *netlink.Handle, r Route, dflt netlink.Link) (*netlink.Route, error) {
	nr := &netlink.Route{Dst: prefixNet(r.Dst), Priority: r.Metric, Table: r.Table, Scope: netlink.Scope(r.Scope)}
	if r.Src.IsValid() {
		nr.Src = r.Src.AsSlice()
	}
	if r.Gateway.IsValid() {
		nr.Gw = r.Gateway.AsSlice()
	}
	switch {
	case r.Blackhole:
		nr.Type = unix.RTN_BLACKHOLE
	case r.Dev != "":
		l, err := nl.LinkByName(r.Dev)
		if err != nil {
			return nil, fmt.Errorf("route %v: interface %s: %w", r.Dst, r.Dev, err)
		}
		nr.LinkIndex = l.Attrs().Index
	case !r.Gateway.IsValid() && dflt != nil:
		nr.LinkIndex = dflt.Attrs().Index
	}
	if !r.Gateway.IsValid() && !r.Blackhole && r.Scope == 0 {
		nr.Scope = netlink.SCOPE_LINK
	}
	return nr, nil
}

func (s *linuxSystem) rule(r Rule) *netlink.Rule { return netlinkRule(r) }

// netlinkRule is r for the kernel.
func netlinkRule(r Rule) *netlink.Rule {
	nr := netlink.NewRule()
	nr.Table = r.Table
	nr.Priority = -1
	if r.Priority > 0 {
		nr.Priority = r.Priority
	}
	nr.Family = unix.AF_INET
	if (r.From.IsValid() && r.From.Addr().Is6()) || (r.To.IsValid() && r.To.Addr().Is6()) {
		nr.Family = unix.AF_INET6
	}
	if r.From.IsValid() {
		nr.Src = prefixNet(r.From)
	}
	if r.To.IsValid() {
		nr.Dst = prefixNet(r.To)
	}
	nr.IifName, nr.OifName = r.IIF, r.OIF
	return nr
}

func (s *linuxSystem) addRoutes() error {
	var errs []error
	for _, r := range s.in.cfg.Routes {
		nr, err := s.route(r)
		if err == nil {
			err = s.nl.RouteReplace(nr)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("virtual_routes: add %v: %w", r.Dst, err))
			continue
		}
		if r.Dev != "" {
			s.watchRoute(r, nr)
		}
	}
	for _, r := range s.in.cfg.Rules {
		nr := s.rule(r)
		_ = s.nl.RuleDel(nr) // no duplicate
		if err := s.nl.RuleAdd(nr); err != nil {
			errs = append(errs, fmt.Errorf("virtual_rules: add %+v: %w", r, err))
			continue
		}
		s.watchRule(r, nr)
	}
	return errors.Join(errs...)
}

// delRoutes removes them; those already gone are no error.
func (s *linuxSystem) delRoutes() error {
	var errs []error
	for _, r := range s.in.cfg.Rules {
		if err := s.nl.RuleDel(s.rule(r)); err != nil && !gone(err) {
			errs = append(errs, fmt.Errorf("virtual_rules: remove %+v: %w", r, err))
		}
	}
	for _, r := range s.in.cfg.Routes {
		nr, err := s.route(r)
		if err != nil {
			continue // no interface, no route
		}
		if err := s.nl.RouteDel(nr); err != nil && !gone(err) {
			errs = append(errs, fmt.Errorf("virtual_routes: remove %v: %w", r.Dst, err))
		}
	}
	return errors.Join(errs...)
}

func gone(err error) bool {
	return errors.Is(err, unix.ESRCH) || errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EADDRNOTAVAIL)
}
