package checker

import (
	"context"
	"fmt"
	"net"
	"net/netip"
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
