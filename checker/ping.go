package checker

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// Ping is keepalived's PING_CHECK: one ICMP (or ICMPv6) echo request to
// the real server, up when the matching echo reply comes within Timeout.
//
// The request goes through an unprivileged ICMP datagram socket when
// net.ipv4.ping_group_range includes the process's group (the kernel
// then keeps the identifier and checksum and hands back only this
// socket's replies); otherwise through a raw socket, which needs
// CAP_NET_RAW and sees every ICMP packet of the host, matched here by
// sequence number and a random payload. keepalived instead widens
// ping_group_range to include root; lvsctl changes no sysctl.
type Ping struct {
	// ConnectIP, when set, is pinged instead of the target (connect_ip).
	ConnectIP netip.Addr
	// BindTo, when set, is the source address (bind_to).
	BindTo netip.Addr
	// Timeout bounds the wait for the reply (connect_timeout); zero means
	// DefaultTimeout.
	Timeout time.Duration
}

// Probe sends one echo request and waits for its reply.
func (p *Ping) Probe(ctx context.Context, t Target) Result {
	start := time.Now()
	timeout := timeoutOr(p.Timeout)
	addr := t.Addr.Addr()
	if p.ConnectIP.IsValid() {
		addr = p.ConnectIP
	}
	r := p.probe(ctx, addr.Unmap(), timeout)
	r.Took = time.Since(start)
	return r
}

// pingConn is an ICMP socket and how to address it.
type pingConn struct {
	*icmp.PacketConn
	dgram bool // a datagram socket: the kernel sets the identifier
	v6    bool
}

// openPing opens a datagram ICMP socket, or a raw one when the kernel
// refuses the first.
func openPing(v6 bool, bindTo netip.Addr) (*pingConn, error) {
	dgram, raw, laddr := "udp4", "ip4:icmp", "0.0.0.0"
	if v6 {
		dgram, raw, laddr = "udp6", "ip6:ipv6-icmp", "::"
	}
	if bindTo.IsValid() {
		laddr = bindTo.String()
	}
	c, derr := icmp.ListenPacket(dgram, laddr)
	if derr == nil {
		return &pingConn{PacketConn: c, dgram: true, v6: v6}, nil
	}
	c, rerr := icmp.ListenPacket(raw, laddr)
	if rerr == nil {
		return &pingConn{PacketConn: c, v6: v6}, nil
	}
	return nil, fmt.Errorf("no ICMP socket: datagram: %w; raw: %w (allow the group in net.ipv4.ping_group_range, or give CAP_NET_RAW)", unwrapOp(derr), unwrapOp(rerr))
}

func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Err
	}
	return err
}

func (p *Ping) probe(ctx context.Context, addr netip.Addr, timeout time.Duration) Result {
	down := Result{Weight: NoWeight}
	if !addr.IsValid() {
		down.Reason = "no address to ping"
		return down
	}
	v6 := !addr.Is4()
	if p.BindTo.IsValid() && p.BindTo.Unmap().Is4() == v6 {
		down.Reason = fmt.Sprintf("echo: bind_to %s and %s are of different families", p.BindTo, addr)
		return down
	}
	c, err := openPing(v6, p.BindTo.Unmap())
	if err != nil {
		down.Reason = err.Error()
		return down
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Now()) })
	defer stop()
	_ = c.SetDeadline(time.Now().Add(timeout))

	var token [16]byte
	_, _ = rand.Read(token[:])
	id, seq := int(binary.BigEndian.Uint16(token[:2])), int(binary.BigEndian.Uint16(token[2:4]))
	var typ, reply icmp.Type = ipv4.ICMPTypeEcho, ipv4.ICMPTypeEchoReply
	proto := 1
	if v6 {
		typ, reply, proto = ipv6.ICMPTypeEchoRequest, ipv6.ICMPTypeEchoReply, 58
	}
	msg := icmp.Message{Type: typ, Body: &icmp.Echo{ID: id, Seq: seq, Data: token[:]}}
	b, err := msg.Marshal(nil) // ICMPv6's checksum is the kernel's
	if err != nil {
		down.Reason = "echo: " + err.Error()
		return down
	}
	var dst net.Addr = &net.IPAddr{IP: addr.AsSlice()}
	if c.dgram {
		dst = &net.UDPAddr{IP: addr.AsSlice()}
	}
	if _, err := c.WriteTo(b, dst); err != nil {
		down.Reason = errReason("echo", err, timeout)
		return down
	}
	buf := make([]byte, 1500)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				down.Reason = "canceled"
			} else {
				down.Reason = errReason("echo", err, timeout)
			}
			return down
		}
		if fromAddr(from) != addr {
			continue // a raw socket sees every host's ICMP
		}
		m, err := icmp.ParseMessage(proto, buf[:n])
		if err != nil {
			continue
		}
		if e, ok := m.Body.(*icmp.Echo); ok && m.Type == reply && e.Seq == seq && bytes.Equal(e.Data, token[:]) &&
			(c.dgram || e.ID == id) {
			return Result{Up: true, Weight: NoWeight, Reason: "echo reply"}
		}
	}
}

func fromAddr(a net.Addr) netip.Addr {
	var ip net.IP
	switch a := a.(type) {
	case *net.IPAddr:
		ip = a.IP
	case *net.UDPAddr:
		ip = a.IP
	}
	x, _ := netip.AddrFromSlice(ip)
	return x.Unmap()
}

// Validate checks the addresses and the timeout.
func (p *Ping) Validate() error {
	return validateConn(p.ConnectIP, p.BindTo, p.Timeout)
}
