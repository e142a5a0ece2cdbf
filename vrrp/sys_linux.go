package vrrp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// linuxSystem is the instance's I/O on Linux: a raw IP socket for protocol
// 112 bound to the interface (joined to the VRRP group unless unicast), TOS
// 0xc0 and TTL 255 like keepalived; a packet socket for gratuitous ARPs and
// unsolicited NAs; netlink for the VIPs and the link state. Everything is
// opened in the network namespace of the thread calling openSystem.
type linuxSystem struct {
	in   *Instance
	ifi  *net.Interface // Interface: link state, source address
	nl   *netlink.Handle
	link netlink.Link
	// dev holds the VIPs and sends the announcements: Interface, or the
	// use_vmac macvlan. sock is where the adverts go: dev, or Interface
	// with vmac_xmit_base.
	dev     *net.Interface
	devLink netlink.Link
	sock    *net.Interface
	vmac    bool        // we created dev and delete it on close
	restore []sysctlVal // sysctls to put back on close
	src     netip.Addr
	p4      *ipv4.PacketConn
	p6      *ipv6.PacketConn
	conn    net.PacketConn
	pkt     *os.File // AF_PACKET, SOCK_DGRAM
	up      bool
	ns      netns.NsHandle
	links   chan bool
	stop    chan struct{}
	// Deletions of what a master installed (watch_linux.go).
	watch     *nl.NetlinkSocket
	dels      chan struct{}
	pending   atomic.Uint32 // kinds of deletion seen (delAddr...)
	installed []installed
}

func openSystem(in *Instance) (system, error) {
	s := &linuxSystem{in: in, ns: -1, links: make(chan bool, 1), dels: make(chan struct{}, 1), stop: make(chan struct{})}
	if err := s.open(); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *linuxSystem) open() error {
	c := &s.in.cfg
	var err error
	if s.nl, err = netlink.NewHandle(unix.NETLINK_ROUTE); err != nil {
		return fmt.Errorf("netlink: %w", err)
	}
	if s.link, err = s.nl.LinkByName(c.Interface); err != nil {
		return fmt.Errorf("interface %s: %w", c.Interface, err)
	}
	attrs := s.link.Attrs()
	s.ifi = &net.Interface{Index: attrs.Index, Name: attrs.Name, HardwareAddr: attrs.HardwareAddr, MTU: attrs.MTU, Flags: attrs.Flags}
	if err := s.subscribe(); err != nil {
		return err
	}
	if err := s.watchDeletions(); err != nil {
		return err
	}
	// Read the state after subscribing, so that no change falls between.
	if s.link, err = s.nl.LinkByIndex(attrs.Index); err != nil {
		return fmt.Errorf("interface %s: %w", c.Interface, err)
	}
	s.up = linkRunning(s.link.Attrs().RawFlags)
	// A link that just came up gets its IPv6 link-local address once it
	// has a carrier, and holds it as tentative while duplicate address
	// detection runs (about a second, up to two with the kernel's random
	// delay): wait for it rather than fail an instance started with its
	// link.
	for deadline := time.Now().Add(dadWait); ; {
		s.src, err = s.sourceAddr()
		if err == nil || !errors.Is(err, errNoLinkLocal) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	s.dev, s.devLink, s.sock = s.ifi, s.link, s.ifi
	if c.UseVMAC {
		if err := s.openVMAC(); err != nil {
			return err
		}
		if !c.VMACXmitBase {
			s.sock = s.dev
		}
	}
	if err := s.openVRRP(); err != nil {
		return err
	}
	return s.openPacket()
}

func linkRunning(flags uint32) bool {
	return flags&unix.IFF_UP != 0 && flags&unix.IFF_RUNNING != 0
}

// sourceAddr picks the adverts' source: unicast_src_ip, else the
// interface's primary IPv4 address or IPv6 link-local address that is not
// one of our VIPs.
func (s *linuxSystem) sourceAddr() (netip.Addr, error) {
	c := &s.in.cfg
	if c.SourceAddr.IsValid() {
		return c.SourceAddr, nil
	}
	fam := netlink.FAMILY_V4
	if s.in.is6 {
		fam = netlink.FAMILY_V6
	}
	addrs, err := s.nl.AddrList(s.link, fam)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("addresses of %s: %w", c.Interface, err)
	}
	tentative := false
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			continue
		}
		ip = ip.Unmap()
		switch {
		case s.in.isVIP(ip):
		case s.in.is6 && ip.IsLinkLocalUnicast() && a.Flags&unix.IFA_F_TENTATIVE != 0:
			tentative = true
		case s.in.is6 && (!ip.IsLinkLocalUnicast() || a.Flags&unix.IFA_F_TENTATIVE != 0):
		case !s.in.is6 && a.Flags&unix.IFA_F_SECONDARY != 0:
		default:
			return ip, nil
		}
	}
	if s.in.is6 {
		if tentative {
			return netip.Addr{}, fmt.Errorf("interface %s: its IPv6 link-local address is still tentative (duplicate address detection did not end): %w", c.Interface, errNoLinkLocal)
		}
		return netip.Addr{}, fmt.Errorf("interface %s has no IPv6 link-local address to send adverts from: %w", c.Interface, errNoLinkLocal)
	}
	return netip.Addr{}, fmt.Errorf("interface %s has no IPv4 address to send adverts from; add one or set unicast_src_ip", c.Interface)
}

// errNoLinkLocal: the interface has no usable IPv6 link-local address
// yet; dadWait is how long open waits for one.
var errNoLinkLocal = errors.New("no usable IPv6 link-local address")

const dadWait = 3 * time.Second

func (in *Instance) isVIP(ip netip.Addr) bool {
	for _, v := range in.recv.vips {
		if v == ip {
			return true
		}
	}
	return false
}

// subscribe follows the interface's link state (up and running = not
// FAULT). If the subscription fails (say the socket overflowed), it is made
// again, in the namespace the instance was opened in, and the state is
// read afresh.
func (s *linuxSystem) subscribe() error {
	var err error
	if s.ns, err = netns.Get(); err != nil {
		return fmt.Errorf("network namespace: %w", err)
	}
	updates, err := s.linkUpdates()
	if err != nil {
		return fmt.Errorf("subscribe to link state: %w", err)
	}
	go func() {
		for delay := 10 * time.Millisecond; ; delay = min(2*delay, 5*time.Second) {
			for u := range updates {
				if int(u.Index) == s.ifi.Index {
					s.linkState(u.Header.Type != unix.RTM_DELLINK && linkRunning(u.Flags))
				}
			}
			select {
			case <-s.stop:
				return
			case <-time.After(delay):
			}
			if updates, err = s.linkUpdates(); err != nil {
				s.in.log.Warn("cannot follow the link state", "interface", s.ifi.Name, "err", err)
				updates = nil
				continue
			}
			if l, err := s.nl.LinkByIndex(s.ifi.Index); err == nil {
				s.linkState(linkRunning(l.Attrs().RawFlags))
			} else {
				s.linkState(false)
			}
		}
	}()
	return nil
}

func (s *linuxSystem) linkUpdates() (chan netlink.LinkUpdate, error) {
	updates := make(chan netlink.LinkUpdate, 64)
	opts := netlink.LinkSubscribeOptions{
		ReceiveBufferSize: 1 << 20,
		ErrorCallback: func(err error) {
			select {
			case <-s.stop: // closing
			default:
				s.in.log.Warn("link state subscription failed, subscribing again", "err", err)
			}
		},
	}
	// Entering s.ns (setns) needs CAP_SYS_ADMIN, which the packaged unit
	// does not grant: do it only from a thread that is elsewhere (an
	// in-process test), never when the process lives in s.ns.
	if !threadIn(s.ns) {
		opts.Namespace = &s.ns
	}
	err := netlink.LinkSubscribeWithOptions(updates, s.stop, opts)
	return updates, err
}

// threadIn reports whether the calling thread is in network namespace ns.
func threadIn(ns netns.NsHandle) bool {
	cur, err := netns.Get()
	if err != nil {
		return false
	}
	defer cur.Close()
	return cur.Equal(ns)
}

// linkState passes the latest link state on (only the latest is kept).
func (s *linuxSystem) linkState(up bool) {
	select {
	case <-s.links:
	default:
	}
	s.links <- up
}

// sockopts binds the raw socket to the interface and, for IPv4, stops it
// receiving groups joined by other sockets (IP_MULTICAST_ALL), as keepalived
// does.
func (s *linuxSystem) sockopts(network, address string, rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		if serr = unix.SetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE, s.sock.Name); serr != nil {
			return
		}
		if !s.in.is6 {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, 0)
		}
	})
	return errors.Join(err, serr)
}

func (s *linuxSystem) openVRRP() error {
	lc := net.ListenConfig{Control: s.sockopts}
	unicast := len(s.in.cfg.UnicastPeers) > 0
	var err error
	if !s.in.is6 {
		if s.conn, err = lc.ListenPacket(context.Background(), "ip4:112", "0.0.0.0"); err != nil {
			return fmt.Errorf("raw IPv4 socket for VRRP: %w", err)
		}
		p := ipv4.NewPacketConn(s.conn)
		s.p4 = p
		err = errors.Join(
			p.SetControlMessage(ipv4.FlagTTL|ipv4.FlagDst|ipv4.FlagInterface, true),
			p.SetTOS(0xc0),
			p.SetTTL(255),
			p.SetMulticastTTL(255),
			p.SetMulticastInterface(s.sock),
			p.SetMulticastLoopback(false),
		)
		if err == nil && !unicast {
			err = p.JoinGroup(s.sock, &net.IPAddr{IP: GroupIPv4.AsSlice()})
		}
	} else {
		if s.conn, err = lc.ListenPacket(context.Background(), "ip6:112", "::"); err != nil {
			return fmt.Errorf("raw IPv6 socket for VRRP: %w", err)
		}
		p := ipv6.NewPacketConn(s.conn)
		s.p6 = p
		err = errors.Join(
			p.SetControlMessage(ipv6.FlagHopLimit|ipv6.FlagDst|ipv6.FlagInterface, true),
			p.SetTrafficClass(0xc0),
			p.SetHopLimit(255),
			p.SetMulticastHopLimit(255),
			p.SetMulticastInterface(s.sock),
			p.SetMulticastLoopback(false),
		)
		if err == nil && !unicast {
			err = p.JoinGroup(s.sock, &net.IPAddr{IP: GroupIPv6.AsSlice()})
		}
	}
	if err != nil {
		return fmt.Errorf("set up the VRRP socket on %s: %w", s.sock.Name, err)
	}
	return nil
}

func (s *linuxSystem) openPacket() error {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return fmt.Errorf("packet socket for gratuitous ARP: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Ifindex: s.dev.Index}); err != nil {
		unix.Close(fd)
		return fmt.Errorf("bind packet socket to %s: %w", s.dev.Name, err)
	}
	s.pkt = os.NewFile(uintptr(fd), "packet:"+s.dev.Name)
	return nil
}

func (s *linuxSystem) primary() netip.Addr      { return s.src }
func (s *linuxSystem) linkUp() bool             { return s.up }
func (s *linuxSystem) linkChanges() <-chan bool { return s.links }

func (s *linuxSystem) recv(buf []byte) (packet, error) {
	p := packet{ttl: -1}
	var n int
	var src net.Addr
	var err error
	if s.p4 != nil {
		var cm *ipv4.ControlMessage
		n, cm, src, err = s.p4.ReadFrom(buf)
		if cm != nil {
			p.ttl = cm.TTL
			p.dst, _ = netip.AddrFromSlice(cm.Dst.To4())
		}
	} else {
		var cm *ipv6.ControlMessage
		n, cm, src, err = s.p6.ReadFrom(buf)
		if cm != nil {
			p.ttl = cm.HopLimit
			p.dst, _ = netip.AddrFromSlice(cm.Dst)
		}
	}
	if err != nil {
		return p, err
	}
	if ia, ok := src.(*net.IPAddr); ok {
		p.src, _ = netip.AddrFromSlice(ia.IP)
		p.src = p.src.Unmap()
	}
	p.dst = p.dst.Unmap()
	p.b = append([]byte(nil), buf[:n]...)
	return p, nil
}

func (s *linuxSystem) send(b []byte, dst netip.Addr) error {
	to := &net.IPAddr{IP: dst.AsSlice()}
	var err error
	if s.p4 != nil {
		_, err = s.p4.WriteTo(b, &ipv4.ControlMessage{Src: s.src.AsSlice(), IfIndex: s.sock.Index}, to)
	} else {
		_, err = s.p6.WriteTo(b, &ipv6.ControlMessage{Src: s.src.AsSlice(), IfIndex: s.sock.Index, HopLimit: 255, TrafficClass: 0xc0}, to)
	}
	return err
}

func (s *linuxSystem) addVIPs() error {
	var errs []error
	s.installed = nil
	if s.in.dropsVIPTraffic() {
		// Before the addresses, so that nothing reaches them meanwhile.
		errs = append(errs, s.dropVIPTraffic())
	}
	for _, v := range s.in.allVIPs() {
		link, name, err := s.vipLink(v)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		a := &netlink.Addr{IPNet: prefixNet(v.Prefix), Label: v.Label, Scope: int(v.Scope)}
		if v.Broadcast.IsValid() {
			a.Broadcast = v.Broadcast.AsSlice()
		}
		if v.Prefix.Addr().Is6() {
			a.Flags = unix.IFA_F_NODAD // usable at once, as keepalived adds them
		}
		if err := s.nl.AddrReplace(link, a); err != nil {
			errs = append(errs, fmt.Errorf("add %v to %s: %w", v.Prefix, name, err))
			continue
		}
		s.watchAddr(link, name, v.Prefix)
	}
	errs = append(errs, s.addRoutes())
	return errors.Join(errs...)
}

// allVIPs are the VIPs and the excluded ones.
func (in *Instance) allVIPs() []VIP {
	return append(append([]VIP(nil), in.cfg.VIPs...), in.cfg.ExcludedVIPs...)
}

// vipLink is the interface v goes on: its dev, else the instance's (or the
// use_vmac macvlan).
func (s *linuxSystem) vipLink(v VIP) (netlink.Link, string, error) {
	if v.Dev == "" {
		return s.devLink, s.dev.Name, nil
	}
	l, err := s.nl.LinkByName(v.Dev)
	if err != nil {
		return nil, v.Dev, fmt.Errorf("interface %s of %v: %w", v.Dev, v.Prefix, err)
	}
	return l, v.Dev, nil
}

// delVIPs removes the routes and rules, and every address of the VIPs'
// interfaces that is one of our VIPs, whatever its prefix length (a
// crashed run may have left them).
func (s *linuxSystem) delVIPs() error {
	var errs []error
	s.installed = nil
	errs = append(errs, s.delRoutes())
	if s.in.dropsVIPTraffic() {
		errs = append(errs, s.acceptVIPTraffic())
	}
	byLink := map[string][]netip.Addr{}
	links := map[string]netlink.Link{}
	for _, v := range s.in.allVIPs() {
		link, name, err := s.vipLink(v)
		if err != nil {
			continue // no interface, no address
		}
		links[name] = link
		byLink[name] = append(byLink[name], v.Prefix.Addr())
	}
	for name, vips := range byLink {
		addrs, err := s.nl.AddrList(links[name], netlink.FAMILY_ALL)
		if err != nil {
			errs = append(errs, fmt.Errorf("addresses of %s: %w", name, err))
			continue
		}
		for _, a := range addrs {
			ip, ok := netip.AddrFromSlice(a.IP)
			if !ok || !slices.Contains(vips, ip.Unmap()) || ip.Unmap() == s.src {
				continue
			}
			if err := s.nl.AddrDel(links[name], &a); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) && !errors.Is(err, unix.ENOENT) {
				errs = append(errs, fmt.Errorf("remove %v from %s: %w", a.IPNet, name, err))
			}
		}
	}
	return errors.Join(errs...)
}

func prefixNet(p netip.Prefix) *net.IPNet {
	bits := 32
	if p.Addr().Is6() {
		bits = 128
	}
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), bits)}
}

// announce sends one gratuitous ARP (IPv4) or unsolicited neighbour
// advertisement (IPv6) per VIP.
func (s *linuxSystem) announce() error {
	rc, err := s.pkt.SyscallConn()
	if err != nil {
		return err
	}
	var errs []error
	for _, v := range s.in.allVIPs() {
		ip := v.Prefix.Addr()
		link, _, err := s.vipLink(v)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if link.Attrs().Index == s.dev.Index {
			// Read afresh: the MAC may have changed.
			if l, err := s.nl.LinkByIndex(s.dev.Index); err == nil {
				link = l
			}
		}
		mac := link.Attrs().HardwareAddr
		if len(mac) != 6 {
			continue // not Ethernet (dummy, tunnel): nobody to tell
		}
		var frame []byte
		to := &unix.SockaddrLinklayer{Ifindex: link.Attrs().Index, Halen: 6}
		if ip.Is4() {
			frame, err = gratuitousARP(mac, ip).MarshalBinary()
			to.Protocol = htons(etherTypeARP)
			copy(to.Addr[:], broadcastMAC)
		} else {
			frame, err = unsolicitedNA(mac, ip).MarshalBinary()
			to.Protocol = htons(etherTypeIPv6)
			copy(to.Addr[:], allNodesMAC)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var serr error
		if err := rc.Write(func(fd uintptr) bool {
			serr = unix.Sendto(int(fd), frame, 0, to)
			return serr != unix.EAGAIN
		}); err != nil {
			serr = err
		}
		if serr != nil {
			errs = append(errs, fmt.Errorf("announce %v on %s: %w", ip, s.dev.Name, serr))
		}
	}
	return errors.Join(errs...)
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func (s *linuxSystem) close() error {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	var errs []error
	if s.conn != nil {
		errs = append(errs, s.conn.Close())
	}
	if s.pkt != nil {
		errs = append(errs, s.pkt.Close())
	}
	errs = append(errs, s.closeVMAC())
	if s.watch != nil {
		s.watch.Close()
	}
	if s.nl != nil {
		s.nl.Close()
	}
	if s.ns.IsOpen() {
		s.ns.Close()
	}
	return errors.Join(errs...)
}
