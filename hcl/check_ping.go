package hcl

import (
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/lvsctl/lvsctl/checker"
)

// This file is the ping check, keepalived's PING_CHECK, in both layers:
//
//	check "ping" { connect_ip bind_to + timing }
//
// An echo has no port: connect_port is refused, and a real server without
// a port needs none.

var pingAttributes = []hcl.AttributeSchema{
	{Name: "connect_ip"},
	{Name: "bind_to"},
}

// pingSyntax is what a ping check sets besides the timing.
type pingSyntax struct {
	ConnectIP *attr[string]
	BindTo    *attr[string]
}

func decodePingCheck(d *decoder, a hcl.Attributes) any {
	return &pingSyntax{ConnectIP: decodeString(d, a["connect_ip"]), BindTo: decodeString(d, a["bind_to"])}
}

// buildPingCheck builds a ping check.
func buildPingCheck(b *builder, c *checkSyntax, bc *builtCheck, timeout time.Duration) checker.Prober {
	p := &checker.Ping{Timeout: timeout}
	s, _ := c.More.(*pingSyntax)
	if s == nil {
		return p
	}
	if s.ConnectIP != nil {
		p.ConnectIP, _ = b.ip(s.ConnectIP, "connect_ip")
	}
	if s.BindTo != nil {
		p.BindTo, _ = b.ip(s.BindTo, "bind_to")
	}
	if p.ConnectIP.IsValid() && p.BindTo.IsValid() && p.ConnectIP.Is4() != p.BindTo.Is4() {
		b.errorAt(s.BindTo.Value, s.ConnectIP.Value.Ptr(), "bind_to address family mismatch",
			"bind_to %s is the source address of the check's echo requests to connect_ip %s (at %s), so both must be of one family.",
			p.BindTo, p.ConnectIP, posString(s.ConnectIP.Value))
	}
	bc.connectIP, bc.bindTo = p.ConnectIP, p.BindTo
	return p
}
