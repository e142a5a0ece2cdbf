package vrrp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// use_vmac, as keepalived 2.2 sets it up: a private-mode macvlan on the
// interface with the virtual router MAC (00:00:5e:00:01:VRID, IPv6
// 00:00:5e:00:02:VRID). Only the master's copy ever sends
// from that MAC (adverts, gratuitous ARPs, ARP replies for the VIPs), so a
// client's neighbour entry for a VIP never changes. So that nobody else
// answers ARP with another MAC:
//   - the interface gets arp_ignore=1 (answer only for addresses on it;
//     the VIPs are on the macvlan), arp_filter=1, and arp_announce=2: its
//     own ARP requests (say for a client the master answers from a VIP)
//     give its own address, never a VIP, which would teach the client
//     the interface's MAC for the VIP;
//   - the macvlan gets arp_ignore=1 too (a backup's macvlan answers for
//     nothing), rp_filter=0 (it has no address of the adverts' subnet
//     while backup) and no IPv6 (no link-local address, neighbour
//     discovery or MLD from the shared MAC).
// The previous values are put back when Run returns.

type sysctlVal struct{ path, old string }

func (s *linuxSystem) openVMAC() error {
	c := &s.in.cfg
	mac := VirtualMAC(c.VRID, s.in.is6)
	if old, err := s.nl.LinkByName(c.VMACName); err == nil {
		// A crashed run's, or keepalived's: take it over afresh.
		if _, ok := old.(*netlink.Macvlan); !ok || old.Attrs().ParentIndex != s.ifi.Index {
			return fmt.Errorf("use_vmac: %s exists and is not a macvlan on %s", c.VMACName, s.ifi.Name)
		}
		if err := s.nl.LinkDel(old); err != nil {
			return fmt.Errorf("use_vmac: remove the stale %s: %w", c.VMACName, err)
		}
	}
	mv := &netlink.Macvlan{
		LinkAttrs: netlink.LinkAttrs{Name: c.VMACName, ParentIndex: s.ifi.Index, HardwareAddr: mac},
		Mode:      netlink.MACVLAN_MODE_PRIVATE,
	}
	if err := s.nl.LinkAdd(mv); err != nil {
		return fmt.Errorf("use_vmac: create macvlan %s on %s with %v: %w", c.VMACName, s.ifi.Name, mac, err)
	}
	s.vmac = true
	link, err := s.nl.LinkByName(c.VMACName)
	if err != nil {
		return fmt.Errorf("use_vmac: %s: %w", c.VMACName, err)
	}
	var errs []error
	set := func(family, dev, key, val string) {
		errs = append(errs, s.setSysctl(family, dev, key, val))
	}
	if s.in.is6 {
		errs = append(errs, s.vmac6(link))
	} else {
		set("ipv6", c.VMACName, "disable_ipv6", "1")
		set("ipv4", c.VMACName, "arp_ignore", "1")
		set("ipv4", c.VMACName, "rp_filter", "0")
		set("ipv4", s.ifi.Name, "arp_ignore", "1")
		set("ipv4", s.ifi.Name, "arp_filter", "1")
		set("ipv4", s.ifi.Name, "arp_announce", "2")
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("use_vmac: %w", err)
	}
	if b, err := os.ReadFile("/proc/sys/net/ipv4/conf/all/rp_filter"); err == nil && strings.TrimSpace(string(b)) != "0" && !s.in.is6 {
		s.in.log.Warn("net.ipv4.conf.all.rp_filter is set: adverts arriving on the macvlan may be dropped by reverse path filtering (keepalived sets it to 0)",
			"rp_filter", strings.TrimSpace(string(b)))
	}
	if err := s.nl.LinkSetUp(link); err != nil {
		return fmt.Errorf("use_vmac: bring %s up: %w", c.VMACName, err)
	}
	if s.in.is6 {
		// The adverts' source, so that they leave the macvlan from a
		// non-VIP address with the virtual MAC (keepalived adds the same).
		a := &netlink.Addr{IPNet: prefixNet(netip.PrefixFrom(s.src, 64)), Flags: unix.IFA_F_NODAD}
		if err := s.nl.AddrReplace(link, a); err != nil {
			return fmt.Errorf("use_vmac: add %v to %s: %w", a.IPNet, c.VMACName, err)
		}
	}
	if link, err = s.nl.LinkByName(c.VMACName); err != nil {
		return fmt.Errorf("use_vmac: %s: %w", c.VMACName, err)
	}
	a := link.Attrs()
	s.devLink = link
	s.dev = &net.Interface{Index: a.Index, Name: a.Name, HardwareAddr: a.HardwareAddr, MTU: a.MTU, Flags: a.Flags}
	return nil
}

// vmac6 prepares the macvlan of an IPv6 instance, as keepalived 2.2 does:
// no link-local address derived from the virtual MAC (every router would
// have the same one, RFC 5798 7.4: addr_gen_mode none), and no router
// solicitations from the shared MAC.
func (s *linuxSystem) vmac6(link netlink.Link) error {
	name := s.in.cfg.VMACName
	if err := s.nl.LinkSetIP6AddrGenMode(link, nl.IN6_ADDR_GEN_MODE_NONE); err != nil {
		return fmt.Errorf("addr_gen_mode none on %s: %w", name, err)
	}
	return errors.Join(
		s.setSysctl("ipv6", name, "disable_ipv6", "0"),
		s.setSysctl("ipv6", name, "router_solicitations", "0"),
		s.setSysctl("ipv6", name, "accept_ra", "0"),
	)
}

// setSysctl sets net.FAMILY.conf.DEV.KEY in the calling thread's network
// namespace and remembers the old value for closeVMAC.
func (s *linuxSystem) setSysctl(family, dev, key, val string) error {
	path := filepath.Join("/proc/sys/net", family, "conf", dev, key)
	old, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if strings.TrimSpace(string(old)) == val {
		return nil
	}
	if err := os.WriteFile(path, []byte(val), 0o644); err != nil {
		return fmt.Errorf("set %s to %s: %w", path, val, err)
	}
	s.restore = append(s.restore, sysctlVal{path: path, old: strings.TrimSpace(string(old))})
	return nil
}

// closeVMAC deletes the macvlan (and so its VIPs) and puts the sysctls
// back.
func (s *linuxSystem) closeVMAC() error {
	var errs []error
	if s.vmac && s.devLink != nil && s.nl != nil {
		name := s.in.cfg.VMACName
		if l, err := s.nl.LinkByName(name); err == nil {
			if err := s.nl.LinkDel(l); err != nil {
				errs = append(errs, fmt.Errorf("use_vmac: delete %s: %w", name, err))
			}
		}
		s.vmac = false
	}
	for i := len(s.restore) - 1; i >= 0; i-- {
		r := s.restore[i]
		if _, err := os.Stat(r.path); err != nil {
			continue // the macvlan's own, gone with it
		}
		if err := os.WriteFile(r.path, []byte(r.old), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("restore %s to %s: %w", r.path, r.old, err))
		}
	}
	s.restore = nil
	return errors.Join(errs...)
}
