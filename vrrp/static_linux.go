package vrrp

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// Statics keeps a Static in the network namespace it was made in.
type Statics struct {
	mu  sync.Mutex // Apply, Clear and the watch
	nl  *netlink.Handle
	cur Static // what Apply last asked for

	watch *nl.NetlinkSocket // Watch's, nil before
	stop  chan struct{}
	dels  chan uint32 // kinds deleted, to the watch's goroutine
}

// NewStatics returns a Statics for the calling thread's network namespace
// (lvsctl run's: --netns re-executes it there).
func NewStatics() (*Statics, error) {
	nl, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("static entries: netlink: %w", err)
	}
	return &Statics{nl: nl}, nil
}

// Apply makes next the installed set: the entries of the previous Apply
// that next has not are removed (rules, then routes, then addresses), then
// next's addresses, routes and rules are put in (an address or route that
// is there already is replaced in place; a rule is added only when it is
// new to this Statics, after removing an identical one a crashed run may
// have left). It goes on past failures and returns them all; the entries
// that failed still count as installed, so that Clear removes what it
// can.
func (s *Statics) Apply(next Static) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	errs = append(errs, s.remove(s.cur.Without(next)))
	for _, a := range next.Addresses {
		link, err := s.nl.LinkByName(a.Dev)
		if err == nil {
			err = s.nl.AddrReplace(link, netlinkAddr(a))
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("static_ipaddress: add %v to %s: %w", a.Prefix, a.Dev, err))
		}
	}
	for _, r := range next.Routes {
		nr, err := netlinkRoute(s.nl, r, nil)
		if err == nil {
			err = s.nl.RouteReplace(nr)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("static_routes: add %v: %w", r.Dst, err))
		}
	}
	for _, r := range next.Rules {
		if slices.Contains(s.cur.Rules, r) {
			continue
		}
		nr := netlinkRule(r)
		_ = s.nl.RuleDel(nr) // no duplicate
		if err := s.nl.RuleAdd(nr); err != nil {
			errs = append(errs, fmt.Errorf("static_rules: add %+v: %w", r, err))
		}
	}
	s.cur = next
	return errors.Join(errs...)
}

// Clear removes every entry installed; those already gone are no error.
func (s *Statics) Clear() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.remove(s.cur)
	s.cur = Static{}
	return err
}

// Watch puts back, until Close, each entry of the installed set that
// someone else deletes, as keepalived 2.2.7 does (Static.Tracked says
// which), logging it on log at info ("restoring deleted static address",
// with the entry). Entries Apply or Clear removed are not put back. It
// subscribes in the calling thread's network namespace, which must be the
// one NewStatics was called in.
func (s *Statics) Watch(log *slog.Logger) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.watch != nil {
		return nil
	}
	stop, dels := make(chan struct{}), make(chan uint32, 1)
	sock, err := subscribeDeletions(stop, func(kind uint32) {
		for { // merge with a wake-up not yet taken
			select {
			case dels <- kind:
				return
			case k := <-dels:
				kind |= k
			}
		}
	}, log)
	if err != nil {
		return fmt.Errorf("static entries: %w", err)
	}
	s.watch, s.stop, s.dels = sock, stop, dels
	go func() {
		for {
			select {
			case <-stop:
				return
			case kinds := <-dels:
				s.mu.Lock()
				select {
				case <-stop: // closed while waiting
					s.mu.Unlock()
					return
				default:
				}
				reinstate(netlinkStatics{s.nl, newDumps(s.nl)}, s.cur, kinds, log)
				s.mu.Unlock()
			}
		}
	}()
	return nil
}

// Close stops the watch and releases the netlink handle.
func (s *Statics) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.watch != nil {
		close(s.stop)
		s.watch.Close()
		s.watch = nil
	}
	s.nl.Close()
}

// netlinkStatics is the kernel for reinstate: one dump per kind and pass.
type netlinkStatics struct {
	nl *netlink.Handle
	d  *dumps
}

func (k netlinkStatics) hasAddr(a VIP) (bool, error) {
	link, err := k.nl.LinkByName(a.Dev)
	if err != nil {
		return false, fmt.Errorf("interface %s: %w", a.Dev, err)
	}
	return k.d.hasAddr(link, a.Dev, a.Prefix.Addr())
}

func (k netlinkStatics) hasRoute(r Route) (bool, error) { return k.d.hasRoute(r.Dst, r.Table) }

func (k netlinkStatics) hasRule(r Rule) (bool, error) { return k.d.hasRule(netlinkRule(r)) }

func (k netlinkStatics) addAddr(a VIP) error {
	link, err := k.nl.LinkByName(a.Dev)
	if err == nil {
		err = k.nl.AddrReplace(link, netlinkAddr(a))
	}
	if err != nil {
		return fmt.Errorf("static_ipaddress: add %v to %s: %w", a.Prefix, a.Dev, err)
	}
	return nil
}

func (k netlinkStatics) addRoute(r Route) error {
	nr, err := netlinkRoute(k.nl, r, nil)
	if err == nil {
		err = k.nl.RouteReplace(nr)
	}
	if err != nil {
		return fmt.Errorf("static_routes: add %v: %w", r.Dst, err)
	}
	return nil
}

func (k netlinkStatics) addRule(r Rule) error {
	if err := k.nl.RuleAdd(netlinkRule(r)); err != nil {
		return fmt.Errorf("static_rules: add %s: %w", DescribeRule(r), err)
	}
	return nil
}

func (s *Statics) remove(old Static) error {
	var errs []error
	for _, r := range old.Rules {
		if err := s.nl.RuleDel(netlinkRule(r)); err != nil && !gone(err) {
			errs = append(errs, fmt.Errorf("static_rules: remove %+v: %w", r, err))
		}
	}
	for _, r := range old.Routes {
		nr, err := netlinkRoute(s.nl, r, nil)
		if err != nil {
			continue // no interface, no route
		}
		if err := s.nl.RouteDel(nr); err != nil && !gone(err) {
			errs = append(errs, fmt.Errorf("static_routes: remove %v: %w", r.Dst, err))
		}
	}
	for _, a := range old.Addresses {
		link, err := s.nl.LinkByName(a.Dev)
		if err != nil {
			continue // no interface, no address
		}
		if err := s.nl.AddrDel(link, netlinkAddr(a)); err != nil && !gone(err) {
			errs = append(errs, fmt.Errorf("static_ipaddress: remove %v from %s: %w", a.Prefix, a.Dev, err))
		}
	}
	return errors.Join(errs...)
}

// netlinkAddr is v for the kernel (IPv6 without duplicate address
// detection, usable at once, as keepalived adds its addresses).
func netlinkAddr(v VIP) *netlink.Addr {
	a := &netlink.Addr{IPNet: prefixNet(v.Prefix), Label: v.Label, Scope: int(v.Scope)}
	if v.Broadcast.IsValid() {
		a.Broadcast = v.Broadcast.AsSlice()
	}
	if v.Prefix.Addr().Is6() {
		a.Flags = unix.IFA_F_NODAD
	}
	return a
}
