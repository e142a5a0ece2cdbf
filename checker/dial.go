package checker

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
)

// connectAddr is where a probe of t connects: the target, or the
// connect_ip / connect_port overrides.
func connectAddr(t Target, ip netip.Addr, port uint16) netip.AddrPort {
	a, p := t.Addr.Addr(), t.Addr.Port()
	if ip.IsValid() {
		a = ip
	}
	if port != 0 {
		p = port
	}
	return netip.AddrPortFrom(a, p)
}

// dial opens a TCP connection to raddr, from bindTo when it is valid. No
// keep-alive probes are enabled: a probe's connection lives for one probe.
func dial(ctx context.Context, raddr netip.AddrPort, bindTo netip.Addr, timeout time.Duration) (*net.TCPConn, error) {
	d := net.Dialer{Timeout: timeout, KeepAlive: -1}
	if bindTo.IsValid() {
		if bindTo.Unmap().Is4() != raddr.Addr().Unmap().Is4() {
			return nil, fmt.Errorf("bind_to %s and %s are of different families", bindTo, raddr.Addr())
		}
		d.Control = bindAddressNoPort // see bindNoPort
		return d.DialTCP(ctx, "tcp", netip.AddrPortFrom(bindTo, 0), raddr)
	}
	c, err := d.DialContext(ctx, "tcp", raddr.String())
	if err != nil {
		return nil, err
	}
	return c.(*net.TCPConn), nil
}

// Source is where a check's connection comes from beyond bind_to:
// keepalived's bind_port (a fixed source port) and bind_if (the interface,
// SO_BINDTODEVICE). The zero Source leaves both to the kernel.
type Source struct {
	Port      uint16
	Interface string
}

// set says whether s asks for anything.
func (s Source) set() bool { return s.Port != 0 || s.Interface != "" }

// validate checks the interface name as the kernel takes it.
func (s Source) validate() error {
	if n := s.Interface; n != "" && (len(n) > 15 || n == "." || n == ".." || strings.ContainsAny(n, "/: \t\n")) {
		return fmt.Errorf("bind_if %q is not an interface name (1 to 15 characters, no '/', ':' or spaces)", n)
	}
	return nil
}

// dialSource is dial for a connection with a Source: from bindTo (or any
// address) and src.Port, on src.Interface. The port is bound before the
// connect (SO_REUSEADDR, as keepalived binds it), so two checks with one
// bind_port to the same destination collide, and one whose previous
// connection is still in TIME_WAIT fails to connect (EADDRNOTAVAIL) until
// it ends.
func dialSource(ctx context.Context, raddr netip.AddrPort, bindTo netip.Addr, src Source, timeout time.Duration) (*net.TCPConn, error) {
	ra := raddr.Addr().Unmap()
	local := bindTo
	if !local.IsValid() {
		local = netip.IPv6Unspecified()
		if ra.Is4() {
			local = netip.IPv4Unspecified()
		}
	} else if local.Unmap().Is4() != ra.Is4() {
		return nil, fmt.Errorf("bind_to %s and %s are of different families", bindTo, raddr.Addr())
	}
	d := net.Dialer{Timeout: timeout, KeepAlive: -1, Control: sourceControl(src)}
	return d.DialTCP(ctx, "tcp", netip.AddrPortFrom(local, src.Port), raddr)
}
