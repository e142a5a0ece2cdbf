package hcl

import (
	"math/big"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/lvsctl/lvsctl/checker"
)

// This file is the udp check, keepalived's UDP_CHECK, in both layers:
//
//	check "udp" { ...tcp, payload require_reply min_reply_length
//	              max_reply_length }
//
// payload and require_reply's bytes are keepalived's free-form hex
// ("0a1b 2 x3"); require_reply is true (any reply) or the hex a reply
// starts with, x matching any digit.

var udpAttributes = []hcl.AttributeSchema{
	{Name: "payload"},
	{Name: "require_reply"},
	{Name: "min_reply_length"},
	{Name: "max_reply_length"},
}

// udpSyntax is what a udp check sets besides the shared attributes.
type udpSyntax struct {
	Payload      *attr[string]
	RequireReply *attr[cty.Value] // a bool or a string
	MinReply     *attr[*big.Float]
	MaxReply     *attr[*big.Float]
}

func decodeUDPCheck(d *decoder, a hcl.Attributes) any {
	return &udpSyntax{
		Payload:      decodeString(d, a["payload"]),
		RequireReply: d.raw(a["require_reply"]),
		MinReply:     decodeNumber(d, a["min_reply_length"]),
		MaxReply:     decodeNumber(d, a["max_reply_length"]),
	}
}

// buildUDPCheck builds a udp check.
func buildUDPCheck(b *builder, c *checkSyntax, bc *builtCheck, timeout time.Duration) checker.Prober {
	p := &checker.UDP{Timeout: timeout}
	p.ConnectIP, p.ConnectPort, p.BindTo = b.conn(c, bc)
	u, _ := c.More.(*udpSyntax)
	if u == nil {
		return p
	}
	if u.Payload.ok() {
		data, _, err := checker.ParseHex(u.Payload.Val, false)
		switch {
		case err != nil:
			b.errorAt(u.Payload.Value, nil, "Invalid payload",
				"payload is the datagram sent, in hex digits, spaces allowed (\"0a1b 2c\"): %v.", err)
		case len(data) == 0:
			b.errorAt(u.Payload.Value, nil, "Invalid payload",
				"payload is the datagram sent, in hex digits (\"0a1b 2c\"); it must not be empty (without payload, 16 random bytes are sent).")
		default:
			p.Payload = data
		}
	}
	if rr := u.RequireReply; rr.ok() && !rr.Val.IsNull() {
		v := rr.Val
		switch {
		case v.Type() == cty.Bool:
			p.RequireReply = v.True()
		case v.Type() == cty.String:
			data, mask, err := checker.ParseHex(v.AsString(), true)
			if err != nil || len(data) == 0 {
				msg := "it must not be empty"
				if err != nil {
					msg = err.Error()
				}
				b.errorAt(rr.Value, nil, "Invalid require_reply",
					"require_reply is true (any reply) or the hex a reply starts with, x matching any digit (\"0a1b x2\"): %s.", msg)
				break
			}
			p.RequireReply, p.Reply, p.Mask = true, data, mask
		default:
			b.errorAt(rr.Value, nil, "Invalid require_reply",
				"require_reply is true (any reply) or the hex a reply starts with, x matching any digit (\"0a1b x2\"), not a %s.", v.Type().FriendlyName())
		}
	}
	if u.MinReply != nil {
		n, _ := b.whole(u.MinReply, 0, 65507, "Invalid min_reply_length", "min_reply_length")
		p.MinReply = int(n)
	}
	if u.MaxReply != nil {
		n, _ := b.whole(u.MaxReply, 1, 65507, "Invalid max_reply_length", "max_reply_length")
		p.MaxReply = int(n)
	}
	if (u.MinReply != nil || u.MaxReply != nil) && !p.RequireReply {
		r := rangeOf(u.MaxReply)
		if u.MinReply != nil {
			r = u.MinReply.Range
		}
		b.errorAt(r, nil, "Reply length without require_reply",
			"min_reply_length and max_reply_length bound a reply's length, and the check requires no reply: set require_reply = true, or remove them.")
	}
	if u.MinReply.ok() && u.MaxReply.ok() && p.MaxReply != 0 && p.MinReply > p.MaxReply {
		b.errorAt(u.MinReply.Range, u.MaxReply.Range.Ptr(), "Invalid min_reply_length",
			"min_reply_length %d is more than max_reply_length %d (at %s).", p.MinReply, p.MaxReply, posString(u.MaxReply.Range))
	}
	return p
}
