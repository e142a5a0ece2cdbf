package hcl

import (
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/lvsctl/lvsctl/checker"
)

// This file is the dns check, keepalived's DNS_CHECK, in both layers:
//
//	check "dns" { ...tcp, type name + timing }
//
// type defaults to SOA and name to ".", retry to 3 and delay_before_retry
// to delay_loop, as in keepalived.

var dnsAttributes = []hcl.AttributeSchema{
	{Name: "type"},
	{Name: "name"},
}

// dnsSyntax is what a dns check sets besides the shared attributes.
type dnsSyntax struct {
	Type *attr[string]
	Name *attr[string]
}

func decodeDNSCheck(d *decoder, a hcl.Attributes) any {
	return &dnsSyntax{Type: decodeString(d, a["type"]), Name: decodeString(d, a["name"])}
}

// dnsRetry is keepalived's retry default for DNS_CHECK.
var dnsRetry = checker.DefaultDNSRetry

// buildDNSCheck builds a dns check.
func buildDNSCheck(b *builder, c *checkSyntax, bc *builtCheck, timeout time.Duration) checker.Prober {
	p := &checker.DNS{Timeout: timeout}
	p.ConnectIP, p.ConnectPort, p.BindTo = b.conn(c, bc)
	s, _ := c.More.(*dnsSyntax)
	if s == nil {
		return p
	}
	if s.Type.ok() {
		t, err := checker.ParseDNSType(s.Type.Val)
		if err != nil {
			b.errorAt(s.Type.Value, nil, "Invalid type", "type is the query's DNS type: %v.", err)
		}
		p.Type = t
	}
	if s.Name.ok() {
		p.Name = s.Name.Val
		if err := (&checker.DNS{Name: p.Name}).Validate(); err != nil || p.Name == "" {
			b.errorAt(s.Name.Value, nil, "Invalid name",
				"name is the domain name queried (\"www.example.com\"; the default is \".\"): %q is not one.", p.Name)
			p.Name = ""
		}
	}
	return p
}
