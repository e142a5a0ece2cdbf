//go:build !linux

package checker

import (
	"context"
	"net/netip"
	"syscall"
	"time"
)

// tcpConnect opens a TCP connection to raddr and closes it at once.
func tcpConnect(ctx context.Context, raddr netip.AddrPort, bindTo netip.Addr, timeout time.Duration) error {
	c, err := dial(ctx, raddr, bindTo, timeout)
	if err == nil {
		c.Close()
	}
	return err
}

// bindAddressNoPort is a Linux socket option; elsewhere binding picks the
// port at bind time.
func bindAddressNoPort(_, _ string, _ syscall.RawConn) error { return nil }
