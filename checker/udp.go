package checker

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// DefaultUDPMaxReply is keepalived's max_reply_length.
const DefaultUDPMaxReply = 255

// UDP is keepalived's UDP_CHECK: it sends one datagram to the real server
// and fails on an ICMP error (port, host or network unreachable). Without
// RequireReply, a server that stays silent for Timeout is up, as in
// keepalived: a UDP service need not answer any datagram, and the check
// then always takes Timeout. With RequireReply, a reply must come within
// Timeout, its length within MinReply..MaxReply, and its first bytes must
// match Reply where Mask is set.
type UDP struct {
	ConnectIP   netip.Addr
	ConnectPort uint16
	BindTo      netip.Addr
	// Timeout bounds the wait (connect_timeout); zero means DefaultTimeout.
	Timeout time.Duration
	// Payload is sent (payload); nil sends 16 random bytes as keepalived
	// does.
	Payload []byte
	// RequireReply makes a reply necessary (require_reply).
	RequireReply bool
	// Reply, if not empty, is what the reply must start with, compared up
	// to the shorter of the two; a bit clear in Mask is not compared (a
	// nibble written x in keepalived's hex). Mask is as long as Reply.
	Reply, Mask []byte
	// MinReply and MaxReply bound the reply's length (min_reply_length,
	// max_reply_length); MaxReply 0 means DefaultUDPMaxReply.
	MinReply, MaxReply int
}

// Probe sends the payload and waits for an error or a reply.
func (p *UDP) Probe(ctx context.Context, t Target) Result {
	start := time.Now()
	timeout := timeoutOr(p.Timeout)
	r := p.probe(ctx, connectAddr(t, p.ConnectIP, p.ConnectPort), timeout)
	r.Took = time.Since(start)
	return r
}

func (p *UDP) probe(ctx context.Context, raddr netip.AddrPort, timeout time.Duration) Result {
	down := Result{Weight: NoWeight}
	d := net.Dialer{}
	if p.BindTo.IsValid() {
		if p.BindTo.Unmap().Is4() != raddr.Addr().Unmap().Is4() {
			down.Reason = fmt.Sprintf("connect: bind_to %s and %s are of different families", p.BindTo, raddr.Addr())
			return down
		}
		d.LocalAddr = net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.BindTo, 0))
	}
	c, err := d.DialContext(ctx, "udp", raddr.String())
	if err != nil {
		down.Reason = errReason("connect", err, timeout)
		return down
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Now()) })
	defer stop()
	_ = c.SetDeadline(time.Now().Add(timeout))
	payload := p.Payload
	if payload == nil {
		payload = make([]byte, 16)
		_, _ = rand.Read(payload)
	}
	if _, err := c.Write(payload); err != nil {
		down.Reason = udpReason("send", err, timeout)
		return down
	}
	maxLen := p.MaxReply
	if maxLen <= 0 {
		maxLen = DefaultUDPMaxReply
	}
	buf := make([]byte, max(maxLen, 512)+1)
	n, err := c.Read(buf)
	var ne net.Error
	switch {
	case err != nil && ctx.Err() != nil:
		down.Reason = "canceled"
		return down
	case err != nil && errors.As(err, &ne) && ne.Timeout() && !p.RequireReply:
		return Result{Up: true, Weight: NoWeight, Reason: "no error within " + timeout.String()}
	case err != nil:
		down.Reason = udpReason("reply", err, timeout)
		return down
	case !p.RequireReply:
		return Result{Up: true, Weight: NoWeight, Reason: fmt.Sprintf("reply of %d bytes", n)}
	case n < p.MinReply || n > maxLen:
		down.Reason = fmt.Sprintf("reply of %d bytes, want %d to %d", n, p.MinReply, maxLen)
		return down
	}
	if i := mismatch(buf[:n], p.Reply, p.Mask); i >= 0 {
		down.Reason = fmt.Sprintf("reply differs at byte %d", i)
		return down
	}
	return Result{Up: true, Weight: NoWeight, Reason: fmt.Sprintf("reply of %d bytes", n)}
}

// udpReason names ECONNREFUSED as what it is on UDP: an ICMP port
// unreachable.
func udpReason(op string, err error, timeout time.Duration) string {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return op + ": port unreachable"
	}
	return errReason(op, err, timeout)
}

// mismatch returns the first byte where got differs from want under mask,
// compared up to the shorter of got and want, or -1.
func mismatch(got, want, mask []byte) int {
	for i := 0; i < len(got) && i < len(want); i++ {
		m := byte(0xff)
		if i < len(mask) {
			m = mask[i]
		}
		if got[i]&m != want[i]&m {
			return i
		}
	}
	return -1
}

// Validate checks the addresses, the timeout and the reply's bounds.
func (p *UDP) Validate() error {
	errs := []error{validateConn(p.ConnectIP, p.BindTo, p.Timeout)}
	maxLen := p.MaxReply
	if maxLen == 0 {
		maxLen = DefaultUDPMaxReply
	}
	if p.MinReply < 0 || maxLen < 0 || p.MinReply > maxLen {
		errs = append(errs, fmt.Errorf("min_reply_length %d and max_reply_length %d: want 0 <= min <= max", p.MinReply, maxLen))
	}
	if len(p.Mask) != 0 && len(p.Mask) != len(p.Reply) {
		errs = append(errs, errors.New("the reply's mask is not as long as the reply"))
	}
	return errors.Join(errs...)
}

// ParseHex parses keepalived's free-form hex (UDP_CHECK's payload and
// require_reply): words of hex digits separated by spaces, each read two
// digits to a byte, a word's odd last digit making a byte of its own
// ("Ab12f 3" is AB 12 0F 03). With wild, a digit x or X matches anything:
// its bits are clear in mask (mask is nil without wild).
func ParseHex(s string, wild bool) (data, mask []byte, err error) {
	for _, w := range strings.Fields(s) {
		for i := 0; i < len(w); i += 2 {
			pair := w[i:min(i+2, len(w))]
			var b, m byte
			for _, c := range []byte(pair) {
				v, vm, ok := hexDigit(c, wild)
				if !ok {
					return nil, nil, fmt.Errorf("%q is not a hex digit", c)
				}
				b, m = b<<4|v, m<<4|vm
			}
			if len(pair) == 1 {
				m |= 0xf0 // "f" is 0F: its high digit is a 0 to compare
			}
			data = append(data, b)
			mask = append(mask, m)
		}
	}
	if !wild {
		mask = nil
	}
	return data, mask, nil
}

func hexDigit(c byte, wild bool) (v, mask byte, ok bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', 0xf, true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, 0xf, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, 0xf, true
	case wild && (c == 'x' || c == 'X'):
		return 0, 0, true
	}
	return 0, 0, false
}
