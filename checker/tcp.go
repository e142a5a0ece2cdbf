package checker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// TCP is keepalived's TCP_CHECK: the real server is up when a TCP connection
// to it completes within Timeout. The connection is closed at once, with a
// reset (SO_LINGER 0) rather than a FIN, as HAProxy's checks do: the check
// then leaves no TIME_WAIT socket behind, which at thousands of checks a
// second would pile up by the hundred thousand and overflow the kernel's table.
type TCP struct {
	// ConnectIP and ConnectPort, when set, replace the target's address and
	// port (connect_ip, connect_port).
	ConnectIP   netip.Addr
	ConnectPort uint16
	// BindTo, when set, is the source address of the connection (bind_to).
	BindTo netip.Addr
	// Source, when set, is the source port and interface (bind_port,
	// bind_if); such a connection takes net.Dialer's slower path.
	Source Source
	// Timeout bounds the connect (connect_timeout); zero means
	// DefaultTimeout.
	Timeout time.Duration
}

// Probe connects to the target.
func (p *TCP) Probe(ctx context.Context, t Target) Result {
	start := time.Now()
	timeout := timeoutOr(p.Timeout)
	var err error
	if p.Source.set() {
		var c *net.TCPConn
		if c, err = dialSource(ctx, connectAddr(t, p.ConnectIP, p.ConnectPort), p.BindTo, p.Source, timeout); err == nil {
			c.SetLinger(0)
			c.Close()
		}
	} else {
		err = tcpConnect(ctx, connectAddr(t, p.ConnectIP, p.ConnectPort), p.BindTo, timeout)
	}
	if err != nil {
		return Result{Weight: NoWeight, Reason: errReason("connect", err, timeout), Took: time.Since(start)}
	}
	return Result{Up: true, Weight: NoWeight, Reason: "connected", Took: time.Since(start)}
}

// Validate checks the addresses and the timeout.
func (p *TCP) Validate() error {
	return errors.Join(validateConn(p.ConnectIP, p.BindTo, p.Timeout), p.Source.validate())
}

func validateConn(connectIP, bindTo netip.Addr, timeout time.Duration) error {
	var errs []error
	if timeout < 0 {
		errs = append(errs, fmt.Errorf("negative timeout %s", timeout))
	}
	if connectIP.IsValid() && bindTo.IsValid() && connectIP.Unmap().Is4() != bindTo.Unmap().Is4() {
		errs = append(errs, fmt.Errorf("bind_to %s and connect_ip %s are of different families", bindTo, connectIP))
	}
	return errors.Join(errs...)
}
