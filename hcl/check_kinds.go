package hcl

import (
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/lvsctl/lvsctl/checker"
)

// This file registers the check types that live in a file of their own
// (check_file.go, check_udp.go, check_ping.go, check_dns.go,
// check_smtp.go, check_bfd.go): check.go asks moreCheckKind for their schema, decoding
// and building, so that adding a check type touches no switch of check.go.

// Check types of their own files.
const (
	checkFile = "file"
	checkUDP  = "udp"
	checkPing = "ping"
	checkDNS  = "dns"
	checkSMTP = "smtp"
	checkBFD  = "bfd" // not run: check_bfd.go
)

// checkKind is a check type defined outside check.go.
type checkKind struct {
	// attrs are the type's attributes besides the timing ones.
	attrs []hcl.AttributeSchema
	// conn adds connect_ip, connect_port and bind_to.
	conn bool
	// decode decodes the type's own attributes into checkSyntax.More.
	decode func(d *decoder, a hcl.Attributes) any
	// build builds the prober (c.More is what decode returned, or nil).
	build func(b *builder, c *checkSyntax, bc *builtCheck, timeout time.Duration) checker.Prober
	// retry, if not nil, replaces keepalived's default retry of 1.
	retry *int
	// retryDelayIsLoop makes delay_before_retry default to delay_loop.
	retryDelayIsLoop bool
}

// moreCheckKind returns the check type kind of its own file.
func moreCheckKind(kind string) (checkKind, bool) {
	switch kind {
	case checkFile:
		return checkKind{attrs: fileAttributes, decode: decodeFileCheck, build: buildFileCheck}, true
	case checkPing:
		return checkKind{attrs: pingAttributes, decode: decodePingCheck, build: buildPingCheck}, true
	case checkDNS:
		return checkKind{attrs: dnsAttributes, conn: true, decode: decodeDNSCheck, build: buildDNSCheck, retry: &dnsRetry, retryDelayIsLoop: true}, true
	case checkSMTP:
		return checkKind{attrs: smtpAttributes, conn: true, decode: decodeSMTPCheck, build: buildSMTPCheck}, true
	case checkBFD:
		return checkKind{attrs: bfdAttributes, decode: decodeBFDCheck, build: buildBFDCheck}, true
	case checkUDP:
		return checkKind{attrs: udpAttributes, conn: true, decode: decodeUDPCheck, build: buildUDPCheck}, true
	}
	return checkKind{}, false
}

// schema is the type's body schema, without the timing attributes.
func (k checkKind) schema() []hcl.AttributeSchema {
	if k.conn {
		return append(append([]hcl.AttributeSchema(nil), connAttributes...), k.attrs...)
	}
	return k.attrs
}

// moreCheck builds a check of a type of its own file.
func (b *builder) moreCheck(c *checkSyntax, bc *builtCheck, timeout time.Duration) checker.Prober {
	k, _ := moreCheckKind(c.Kind)
	return k.build(b, c, bc, timeout)
}

// moreBelongsTo says which check types of their own files take attribute
// name, for belongsTo; "" if none.
func moreBelongsTo(name string) string {
	var kinds []string
	for _, kind := range []string{checkPing, checkUDP, checkDNS, checkSMTP, checkFile, checkBFD} {
		k, _ := moreCheckKind(kind)
		if slices.ContainsFunc(k.attrs, func(a hcl.AttributeSchema) bool { return a.Name == name }) {
			kinds = append(kinds, kind)
		}
	}
	switch len(kinds) {
	case 0:
		return ""
	case 1:
		return kinds[0] + " checks"
	}
	return strings.Join(kinds[:len(kinds)-1], ", ") + " and " + kinds[len(kinds)-1] + " checks"
}
