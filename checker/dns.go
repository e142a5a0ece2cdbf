package checker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// DNS is keepalived's DNS_CHECK: one query over UDP for Name and Type; the
// real server is up when it answers NOERROR with at least one record of
// Type for the name in the answer section. Like keepalived, it asks for
// recursion. A reply whose ID or question differs is ignored (it does not
// belong to this query), as by the library.
type DNS struct {
	ConnectIP   netip.Addr
	ConnectPort uint16
	BindTo      netip.Addr
	// Timeout bounds the query (connect_timeout); zero means
	// DefaultTimeout.
	Timeout time.Duration
	// Type is the query's type (type), dns.TypeSOA when zero as in
	// keepalived.
	Type uint16
	// Name is the name queried (name), "." when empty as in keepalived.
	Name string
}

// DefaultDNSRetry is keepalived's retry default for DNS_CHECK.
const DefaultDNSRetry = 3

// ParseDNSType returns the type named s ("A", "aaaa", "SOA"...).
func ParseDNSType(s string) (uint16, error) {
	t, ok := dns.StringToType[strings.ToUpper(s)]
	if !ok || t == dns.TypeNone || t == dns.TypeANY || t == dns.TypeOPT {
		return 0, fmt.Errorf("%q is not a DNS query type (A, AAAA, NS, CNAME, SOA, MX, TXT, ...)", s)
	}
	return t, nil
}

// Probe sends the query and reads the reply.
func (p *DNS) Probe(ctx context.Context, t Target) Result {
	start := time.Now()
	timeout := timeoutOr(p.Timeout)
	r := p.probe(ctx, connectAddr(t, p.ConnectIP, p.ConnectPort), timeout)
	r.Took = time.Since(start)
	return r
}

func (p *DNS) probe(ctx context.Context, raddr netip.AddrPort, timeout time.Duration) Result {
	down := Result{Weight: NoWeight}
	typ, name := p.Type, p.Name
	if typ == 0 {
		typ = dns.TypeSOA
	}
	if name == "" {
		name = "."
	}
	name = dns.Fqdn(name)
	d := net.Dialer{}
	if p.BindTo.IsValid() {
		if p.BindTo.Unmap().Is4() != raddr.Addr().Unmap().Is4() {
			down.Reason = fmt.Sprintf("query: bind_to %s and %s are of different families", p.BindTo, raddr.Addr())
			return down
		}
		d.LocalAddr = net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.BindTo, 0))
	}
	m, err := p.exchange(ctx, &d, raddr, name, typ, timeout)
	switch {
	case err != nil && ctx.Err() != nil:
		down.Reason = "canceled"
		return down
	case err != nil:
		down.Reason = udpReason("query", err, timeout)
		return down
	case m.Rcode != dns.RcodeSuccess:
		down.Reason = "rcode " + dns.RcodeToString[m.Rcode]
		return down
	}
	n := 0
	for _, rr := range m.Answer {
		if h := rr.Header(); h.Rrtype == typ && strings.EqualFold(h.Name, name) {
			n++
		}
	}
	tname := dns.TypeToString[typ]
	if n == 0 {
		down.Reason = fmt.Sprintf("no %s record for %s in the reply", tname, name)
		return down
	}
	return Result{Up: true, Weight: NoWeight, Reason: fmt.Sprintf("%d %s record(s)", n, tname)}
}

// exchange sends the query and returns its reply: the first datagram with
// the query's ID and question (others are read past, as a stray or late
// reply). A cancelled ctx ends the wait at once.
func (p *DNS) exchange(ctx context.Context, d *net.Dialer, raddr netip.AddrPort, name string, typ uint16, timeout time.Duration) (*dns.Msg, error) {
	nc, err := d.DialContext(ctx, "udp", raddr.String())
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Now()) })
	defer stop()
	_ = nc.SetDeadline(time.Now().Add(timeout))
	c := &dns.Conn{Conn: nc, UDPSize: dns.DefaultMsgSize}
	q := new(dns.Msg)
	q.SetQuestion(name, typ)
	if err := c.WriteMsg(q); err != nil {
		return nil, err
	}
	for {
		m, err := c.ReadMsg()
		if err != nil {
			var perr *net.OpError
			if errors.As(err, &perr) || errors.Is(err, context.Canceled) || isTimeout(err) {
				return nil, err
			}
			continue // not a DNS message: a stray datagram
		}
		if m.Id == q.Id && len(m.Question) == 1 && m.Question[0].Qtype == typ && strings.EqualFold(m.Question[0].Name, name) {
			return m, nil
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Validate checks the addresses, the timeout, the type and the name.
func (p *DNS) Validate() error {
	errs := []error{validateConn(p.ConnectIP, p.BindTo, p.Timeout)}
	if p.Type != 0 {
		if _, ok := dns.TypeToString[p.Type]; !ok {
			errs = append(errs, fmt.Errorf("unknown DNS type %d", p.Type))
		}
	}
	if p.Name != "" {
		if _, ok := dns.IsDomainName(p.Name); !ok {
			errs = append(errs, fmt.Errorf("%q is not a domain name", p.Name))
		}
	}
	return errors.Join(errs...)
}
