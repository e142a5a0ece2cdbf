//go:build linux

package director

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// NetlinkVIPLink is the VIPLink of the host (of the namespace the daemon
// runs in), by rtnetlink.
type NetlinkVIPLink struct{}

// Ensure implements VIPLink.
func (NetlinkVIPLink) Ensure(name string) (bool, error) {
	l, err := netlink.LinkByName(name)
	if err == nil {
		if l.Attrs().Flags&net.FlagUp == 0 {
			if err := netlink.LinkSetUp(l); err != nil {
				return false, fmt.Errorf("set link %s up: %w", name, err)
			}
		}
		return l.Type() == "dummy" && l.Attrs().Alias == vipLinkAlias, nil
	}
	var nf netlink.LinkNotFoundError
	if !errors.As(err, &nf) {
		return false, fmt.Errorf("link %s: %w", name, err)
	}
	if err := netlink.LinkAdd(&netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Name: name}}); err != nil {
		return false, fmt.Errorf("create dummy link %s: %w (without the kernel's dummy module, set vip_interface = \"lo\" or an existing link)", name, err)
	}
	l, err = netlink.LinkByName(name)
	if err == nil {
		err = netlink.LinkSetAlias(l, vipLinkAlias)
	}
	if err == nil {
		err = netlink.LinkSetUp(l)
	}
	if err != nil {
		if l != nil {
			_ = netlink.LinkDel(l)
		}
		return false, fmt.Errorf("set up dummy link %s: %w", name, err)
	}
	return true, nil
}

func vipAddr(p netip.Prefix) *netlink.Addr {
	a := &netlink.Addr{IPNet: &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}}
	if p.Addr().Is6() {
		a.Flags = unix.IFA_F_NODAD // usable at once, no duplicate detection
	}
	return a
}

// AddAddr implements VIPLink.
func (NetlinkVIPLink) AddAddr(name string, p netip.Prefix) error {
	l, err := netlink.LinkByName(name)
	if err != nil {
		return fmt.Errorf("link %s: %w", name, err)
	}
	if err := netlink.AddrAdd(l, vipAddr(p)); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("add %s to %s: %w", p, name, err)
	}
	return nil
}

// DelAddr implements VIPLink.
func (NetlinkVIPLink) DelAddr(name string, p netip.Prefix) error {
	l, err := netlink.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil
		}
		return fmt.Errorf("link %s: %w", name, err)
	}
	if err := netlink.AddrDel(l, vipAddr(p)); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove %s from %s: %w", p, name, err)
	}
	return nil
}

// Delete implements VIPLink.
func (NetlinkVIPLink) Delete(name string) error {
	l, err := netlink.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil
		}
		return fmt.Errorf("link %s: %w", name, err)
	}
	if err := netlink.LinkDel(l); err != nil {
		return fmt.Errorf("delete link %s: %w", name, err)
	}
	return nil
}
