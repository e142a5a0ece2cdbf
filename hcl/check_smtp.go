package hcl

import (
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/lvsctl/lvsctl/checker"
)

// This file is the smtp check, keepalived's SMTP_CHECK, in both layers:
//
//	check "smtp" { ...tcp, helo_name + timing }
//
// keepalived's several hosts of one SMTP_CHECK are several smtp checks of
// one real server. Without a port anywhere, the check connects to 25.

var smtpAttributes = []hcl.AttributeSchema{
	{Name: "helo_name"},
}

// smtpSyntax is what an smtp check sets besides the shared attributes.
type smtpSyntax struct {
	HeloName *attr[string]
}

func decodeSMTPCheck(d *decoder, a hcl.Attributes) any {
	return &smtpSyntax{HeloName: decodeString(d, a["helo_name"])}
}

// buildSMTPCheck builds an smtp check.
func buildSMTPCheck(b *builder, c *checkSyntax, bc *builtCheck, timeout time.Duration) checker.Prober {
	p := &checker.SMTP{Timeout: timeout}
	p.ConnectIP, p.ConnectPort, p.BindTo = b.conn(c, bc)
	bc.needPort = false // checker.DefaultSMTPPort
	s, _ := c.More.(*smtpSyntax)
	if s == nil || !s.HeloName.ok() {
		return p
	}
	if h := s.HeloName.Val; h == "" || strings.ContainsAny(h, " \t\r\n") {
		b.errorAt(s.HeloName.Value, nil, "Invalid helo_name",
			"helo_name is the name the check sends with HELO (the default is %q); it must be one word.", checker.DefaultHeloName)
	} else {
		p.HeloName = h
	}
	return p
}
