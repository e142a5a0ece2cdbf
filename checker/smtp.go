package checker

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/textproto"
	"strings"
	"time"
)

// DefaultHeloName is keepalived's helo_name.
const DefaultHeloName = "smtpchecker.keepalived.org"

// DefaultSMTPPort is where an SMTP check connects when neither the real
// server nor connect_port has a port.
const DefaultSMTPPort = 25

// SMTP is keepalived's SMTP_CHECK: the real server is up when it greets
// with 220 and answers "HELO name" with 250, all within Timeout. The check
// then says QUIT and closes without waiting. keepalived's several hosts per
// SMTP_CHECK are several smtp checks of one real server here.
type SMTP struct {
	ConnectIP   netip.Addr
	ConnectPort uint16
	BindTo      netip.Addr
	// Timeout bounds the whole conversation (connect_timeout); zero means
	// DefaultTimeout.
	Timeout time.Duration
	// HeloName is the name sent with HELO (helo_name); empty means
	// DefaultHeloName.
	HeloName string
}

// Probe talks to the target.
func (p *SMTP) Probe(ctx context.Context, t Target) Result {
	start := time.Now()
	timeout := timeoutOr(p.Timeout)
	addr := connectAddr(t, p.ConnectIP, p.ConnectPort)
	if addr.Port() == 0 {
		addr = netip.AddrPortFrom(addr.Addr(), DefaultSMTPPort)
	}
	r := p.probe(ctx, addr, timeout)
	r.Took = time.Since(start)
	return r
}

func (p *SMTP) probe(ctx context.Context, addr netip.AddrPort, timeout time.Duration) Result {
	down := Result{Weight: NoWeight}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	nc, err := dial(ctx, addr, p.BindTo, timeout)
	if err != nil {
		down.Reason = errReason("connect", err, timeout)
		return down
	}
	defer nc.Close()
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Now()) })
	defer stop()
	_ = nc.SetDeadline(time.Now().Add(timeout))
	c := textproto.NewConn(nc)
	fail := func(step string, err error) Result {
		var pe *textproto.Error
		switch {
		case errors.As(err, &pe):
			down.Reason = fmt.Sprintf("%s: %d %s", step, pe.Code, oneLineText(pe.Msg))
		case ctx.Err() == context.Canceled:
			down.Reason = "canceled"
		default:
			down.Reason = errReason(step, err, timeout)
		}
		return down
	}
	if _, _, err := c.ReadResponse(220); err != nil {
		return fail("greeting", err)
	}
	helo := p.HeloName
	if helo == "" {
		helo = DefaultHeloName
	}
	id, err := c.Cmd("HELO %s", helo)
	if err != nil {
		return fail("HELO", err)
	}
	c.StartResponse(id)
	_, _, err = c.ReadResponse(250)
	c.EndResponse(id)
	if err != nil {
		return fail("HELO", err)
	}
	_, _ = c.Cmd("QUIT")
	return Result{Up: true, Weight: NoWeight, Reason: "HELO answered 250"}
}

// oneLineText keeps a server's message short and on one line.
func oneLineText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return s
}

// Validate checks the addresses, the timeout and the HELO name.
func (p *SMTP) Validate() error {
	errs := []error{validateConn(p.ConnectIP, p.BindTo, p.Timeout)}
	if strings.ContainsAny(p.HeloName, "\r\n") {
		errs = append(errs, fmt.Errorf("helo_name %q has a line break", p.HeloName))
	}
	return errors.Join(errs...)
}
