package realserver

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"

	"github.com/mdlayher/genetlink"
	mnl "github.com/mdlayher/netlink"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Netns is a System for one network namespace: a netlink socket opened in
// it, and a dedicated OS thread that has entered it for /proc/sys/net,
// which the kernel resolves by the namespace of the thread that opens the
// file.
type Netns struct {
	path string
	nl   *netlink.Handle
	jobs chan func()
	done chan struct{}
}

var _ System = (*Netns)(nil)

// Open opens the namespace at netnsPath (/run/netns/NAME, /proc/PID/ns/net;
// "" is the caller's own). Entering another namespace needs root
// (CAP_SYS_ADMIN); changing it needs CAP_NET_ADMIN.
func Open(netnsPath string) (*Netns, error) {
	n := &Netns{path: netnsPath, jobs: make(chan func()), done: make(chan struct{})}
	var target netns.NsHandle = -1
	if netnsPath != "" {
		h, err := netns.GetFromPath(netnsPath)
		if err != nil {
			return nil, fmt.Errorf("open network namespace %s: %w", netnsPath, permission(err))
		}
		defer h.Close()
		target = h
		if n.nl, err = netlink.NewHandleAt(h, unix.NETLINK_ROUTE); err != nil {
			return nil, fmt.Errorf("netlink in network namespace %s: %w", netnsPath, permission(err))
		}
	} else {
		var err error
		if n.nl, err = netlink.NewHandle(unix.NETLINK_ROUTE); err != nil {
			return nil, fmt.Errorf("netlink: %w", err)
		}
	}
	started := make(chan error, 1)
	go n.thread(target, started)
	if err := <-started; err != nil {
		n.nl.Close()
		return nil, err
	}
	return n, nil
}

// thread runs jobs on one OS thread inside the namespace. It never leaves
// the namespace: when it returns, still locked, the runtime discards the
// thread, so no other goroutine ever runs in the wrong namespace.
func (n *Netns) thread(target netns.NsHandle, started chan<- error) {
	runtime.LockOSThread()
	if target >= 0 {
		if err := netns.Set(target); err != nil {
			started <- fmt.Errorf("enter network namespace %s: %w", n.path, permission(err))
			return
		}
	}
	started <- nil
	for job := range n.jobs {
		job()
	}
	close(n.done)
}

// inside runs fn on the namespace's thread.
func (n *Netns) inside(fn func() error) error {
	errc := make(chan error, 1)
	n.jobs <- func() { errc <- fn() }
	return <-errc
}

// Close releases the namespace and its thread.
func (n *Netns) Close() error {
	close(n.jobs)
	<-n.done
	n.nl.Close()
	return nil
}

// Links lists the interfaces with their addresses.
func (n *Netns) Links() ([]Link, error) {
	ls, err := n.nl.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	addrs, err := n.nl.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	byIndex := make(map[int][]netip.Prefix)
	for _, a := range addrs {
		if a.IPNet == nil {
			continue
		}
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			continue
		}
		if ip.Is4In6() || len(a.IP) == net.IPv4len {
			ip = ip.Unmap()
		}
		ones, _ := a.Mask.Size()
		byIndex[a.LinkIndex] = append(byIndex[a.LinkIndex], netip.PrefixFrom(ip, ones))
	}
	out := make([]Link, 0, len(ls))
	for _, l := range ls {
		at := l.Attrs()
		out = append(out, Link{
			Name:     at.Name,
			Up:       at.RawFlags&unix.IFF_UP != 0,
			Loopback: at.RawFlags&unix.IFF_LOOPBACK != 0,
			NoARP:    at.RawFlags&unix.IFF_NOARP != 0,
			Addrs:    byIndex[at.Index],
		})
	}
	return out, nil
}

// Sysctl reads k from inside the namespace.
func (n *Netns) Sysctl(k Sysctl) (string, error) {
	if err := k.check(); err != nil {
		return "", err
	}
	var b []byte
	err := n.inside(func() error {
		var err error
		b, err = os.ReadFile(k.Path())
		return err
	})
	if err != nil {
		return "", fmt.Errorf("read %s: %w", k, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// SetSysctl writes k from inside the namespace.
func (n *Netns) SetSysctl(k Sysctl, value string) error {
	if err := k.check(); err != nil {
		return err
	}
	return n.inside(func() error {
		f, err := os.OpenFile(k.Path(), os.O_WRONLY, 0)
		if err != nil {
			return permission(err)
		}
		_, err = f.WriteString(value)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return permission(err)
	})
}

func (n *Netns) link(name string) (netlink.Link, error) {
	l, err := n.nl.LinkByName(name)
	if err != nil {
		return nil, fmt.Errorf("link %s: %w", name, err)
	}
	return l, nil
}

func nlAddr(p netip.Prefix) *netlink.Addr {
	return &netlink.Addr{IPNet: &net.IPNet{
		IP:   p.Addr().AsSlice(),
		Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen()),
	}}
}

// AddAddress adds p to link.
func (n *Netns) AddAddress(link string, p netip.Prefix) error {
	l, err := n.link(link)
	if err != nil {
		return err
	}
	a := nlAddr(p)
	a.Flags = unix.IFA_F_NODAD // usable at once; lo and tunl0 do no DAD anyway
	return permission(n.nl.AddrAdd(l, a))
}

// DeleteAddress removes p from link.
func (n *Netns) DeleteAddress(link string, p netip.Prefix) error {
	l, err := n.link(link)
	if err != nil {
		return err
	}
	return permission(n.nl.AddrDel(l, nlAddr(p)))
}

// SetLinkUp brings link up or down.
func (n *Netns) SetLinkUp(link string, up bool) error {
	l, err := n.link(link)
	if err != nil {
		return err
	}
	if up {
		return permission(n.nl.LinkSetUp(l))
	}
	return permission(n.nl.LinkSetDown(l))
}

// DeleteLink deletes link.
func (n *Netns) DeleteLink(link string) error {
	l, err := n.link(link)
	if err != nil {
		return err
	}
	return permission(n.nl.LinkDel(l))
}

// EnsureTunnel makes dev, tunl0 or gre0, exist. Asking netlink for an
// ipip (gre) link makes the kernel load the ipip (ip_gre) module through
// kernel.modprobe; loading it creates tunl0 (gre0) in every namespace, so
// the request itself then fails with EEXIST and the device is there. Only
// where the module does not create it (see
// net.core.fb_tunnels_only_for_init_net) is the requested device, a link
// with any local and any remote address and so the same catch-all, created
// here. If the kernel knows no such links, /sbin/modprobe is tried once
// before giving up with ErrNoIPIP (ErrNoGRE).
func (n *Netns) EnsureTunnel(dev string) (bool, error) {
	if _, err := n.nl.LinkByName(dev); err == nil {
		return false, nil
	}
	module, missing := "ipip", ErrNoIPIP
	if dev == GREDevice {
		module, missing = "ip_gre", ErrNoGRE
	}
	created, err := n.addTunnel(dev)
	if errors.Is(err, unix.EOPNOTSUPP) {
		out, merr := exec.Command("/sbin/modprobe", module).CombinedOutput()
		if merr != nil {
			return false, fmt.Errorf("%w (/sbin/modprobe %s: %v: %s)", missing, module, merr, bytes.TrimSpace(out))
		}
		created, err = n.addTunnel(dev)
		if errors.Is(err, unix.EOPNOTSUPP) {
			return false, fmt.Errorf("%w: %s links are unknown even after modprobe %s", missing, module, module)
		}
	}
	if err != nil {
		return false, fmt.Errorf("create %s: %w", dev, permission(err))
	}
	return created, nil
}

func (n *Netns) addTunnel(dev string) (bool, error) {
	var l netlink.Link = &netlink.Iptun{LinkAttrs: netlink.LinkAttrs{Name: dev}}
	if dev == GREDevice {
		l = &netlink.Gretun{LinkAttrs: netlink.LinkAttrs{Name: dev}}
	}
	err := n.nl.LinkAdd(l)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, unix.EEXIST) {
		if _, lerr := n.nl.LinkByName(dev); lerr == nil {
			return false, nil
		}
		return false, fmt.Errorf("%w: a catch-all tunnel device (any local and any remote address) exists under another name; lvsctl expects it to be %s", err, dev)
	}
	return false, err
}

// The fou generic netlink family (linux/fou.h), spoken from the
// namespace's thread so that the socket is in the namespace.
const (
	fouCmdAdd   = 1
	fouCmdDel   = 2
	fouCmdGet   = 3
	fouAttrPort = 1
	fouAttrAF   = 2
	fouAttrType = 4
	fouEncapGUE = 2
)

// fou runs one fou request with the attributes enc adds and returns the
// answers (dump for a get).
func (n *Netns) fou(cmd uint8, enc func(*mnl.AttributeEncoder)) ([]genetlink.Message, error) {
	var out []genetlink.Message
	err := n.inside(func() error {
		c, err := genetlink.Dial(nil)
		if err != nil {
			return err
		}
		defer c.Close()
		fam, err := c.GetFamily("fou") // the kernel loads the module if it can
		if err != nil {
			return err
		}
		ae := mnl.NewAttributeEncoder()
		if enc != nil {
			enc(ae)
		}
		data, err := ae.Encode()
		if err != nil {
			return err
		}
		flags := mnl.Request | mnl.Acknowledge
		if cmd == fouCmdGet {
			flags = mnl.Request | mnl.Dump
		}
		out, err = c.Execute(genetlink.Message{Header: genetlink.Header{Command: cmd, Version: fam.Version}, Data: data}, fam.ID, flags)
		return err
	})
	return out, err
}

func fouPort(port uint16) func(*mnl.AttributeEncoder) {
	return func(ae *mnl.AttributeEncoder) {
		ae.Bytes(fouAttrPort, []byte{byte(port >> 8), byte(port)}) // network order
		ae.Uint8(fouAttrAF, unix.AF_INET)
	}
}

// FOUPorts lists the IPv4 fou ports. Without the fou module there are
// none.
func (n *Netns) FOUPorts() ([]uint16, error) {
	msgs, err := n.fou(fouCmdGet, func(ae *mnl.AttributeEncoder) { ae.Uint8(fouAttrAF, unix.AF_INET) })
	if err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, os.ErrNotExist) {
			return nil, nil // no fou family: no module, no ports
		}
		return nil, fmt.Errorf("list fou ports: %w", permission(err))
	}
	var out []uint16
	for _, m := range msgs {
		ad, err := mnl.NewAttributeDecoder(m.Data)
		if err != nil {
			return nil, fmt.Errorf("list fou ports: %w", err)
		}
		for ad.Next() {
			if ad.Type() == fouAttrPort {
				if b := ad.Bytes(); len(b) == 2 {
					out = append(out, uint16(b[0])<<8|uint16(b[1]))
				}
			}
		}
		if err := ad.Err(); err != nil {
			return nil, fmt.Errorf("list fou ports: %w", err)
		}
	}
	return out, nil
}

// AddFOU opens port in GUE mode, loading the fou module with
// /sbin/modprobe if the kernel did not.
func (n *Netns) AddFOU(port uint16) error {
	add := func() error {
		_, err := n.fou(fouCmdAdd, func(ae *mnl.AttributeEncoder) {
			fouPort(port)(ae)
			ae.Uint8(fouAttrType, fouEncapGUE)
		})
		return err
	}
	err := add()
	if errors.Is(err, unix.ENOENT) || errors.Is(err, os.ErrNotExist) {
		if out, merr := exec.Command("/sbin/modprobe", "fou").CombinedOutput(); merr != nil {
			return fmt.Errorf("%w (/sbin/modprobe fou: %v: %s)", ErrNoFOU, merr, bytes.TrimSpace(out))
		}
		err = add()
	}
	return permission(err)
}

// DeleteFOU closes port.
func (n *Netns) DeleteFOU(port uint16) error {
	_, err := n.fou(fouCmdDel, fouPort(port))
	return permission(err)
}

// Identity returns the boot and the namespace's cookie (or inode).
func (n *Netns) Identity() (Identity, error) {
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return Identity{}, fmt.Errorf("boot id: %w", err)
	}
	id := Identity{BootID: strings.TrimSpace(string(boot))}
	err = n.inside(func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err == nil {
			cookie, cerr := unix.GetsockoptUint64(fd, unix.SOL_SOCKET, unix.SO_NETNS_COOKIE)
			unix.Close(fd)
			if cerr == nil {
				id.Netns = "cookie:" + strconv.FormatUint(cookie, 10)
				return nil
			}
		}
		var st unix.Stat_t
		if err := unix.Stat("/proc/thread-self/ns/net", &st); err != nil {
			return err
		}
		id.Netns = "inode:" + strconv.FormatUint(st.Ino, 10)
		return nil
	})
	return id, err
}

func permission(err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return fmt.Errorf("%w (%v)", ErrPermission, err)
	}
	return err
}
