//go:build !linux

package checker

import (
	"context"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// tcpConnect opens a TCP connection to raddr and closes it at once, with a
// reset (see TCP).
func tcpConnect(ctx context.Context, raddr netip.AddrPort, bindTo netip.Addr, timeout time.Duration) error {
	c, err := dial(ctx, raddr, bindTo, timeout)
	if err == nil {
		c.SetLinger(0)
		c.Close()
	}
	return err
}

// bindAddressNoPort is a Linux socket option; elsewhere binding picks the
// port at bind time.
func bindAddressNoPort(_, _ string, _ syscall.RawConn) error { return nil }

// dialConn is dial, as a net.Conn.
func dialConn(ctx context.Context, raddr netip.AddrPort, bindTo netip.Addr, timeout time.Duration) (net.Conn, error) {
	c, err := dial(ctx, raddr, bindTo, timeout)
	if err != nil {
		return nil, err
	}
	return c, nil
}
