package hcl

import (
	"math"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/lvsctl/lvsctl/ipvs"
)

// The timeouts block: the kernel's IPVS connection timeouts (ipvsadm
// --set, keepalived's lvs_timeouts), set by apply and by lvsctl run at start
// and on reload. A timeout left out keeps the kernel's value.
//
//	timeouts {
//	  tcp     = "15m"  # established TCP connections (kernel: 15m)
//	  tcp_fin = "2m"   # TCP after a FIN (kernel: 2m)
//	  udp     = "5m"   # UDP (kernel: 5m)
//	}

const blockTimeouts = "timeouts"

// MaxTimeout is the longest connection timeout: the kernel keeps jiffies
// in an int, and HZ is at most 1000.
const MaxTimeout = math.MaxInt32 / 1000 * time.Second

const timeoutHelp = "A timeout is a number of seconds (900) or a duration string (\"15m\"): whole seconds from 1s to 2147483s (about 24 days). Leave it out to keep the kernel's."

var timeoutsSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "tcp"},
		{Name: "tcp_fin"},
		{Name: "udp"},
	},
}

// buildTimeouts decodes the timeouts block of body: nil if absent.
func buildTimeouts(body hcl.Body) (*ipvs.Timeouts, hcl.Diagnostics) {
	content, _, diags := body.PartialContent(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: blockTimeouts}}})
	if diags.HasErrors() {
		return nil, diags
	}
	var blocks []*hcl.Block
	for _, b := range content.Blocks {
		if b.Type == blockTimeouts {
			blocks = append(blocks, b)
		}
	}
	if len(blocks) == 0 {
		return nil, nil
	}
	b := &builder{}
	for _, extra := range blocks[1:] {
		b.errorAt(extra.DefRange, blocks[0].DefRange.Ptr(), "Duplicate timeouts block",
			"The kernel has one set of connection timeouts; there is already a timeouts block at %s.", posString(blocks[0].DefRange))
	}
	d := &decoder{}
	c, more := blocks[0].Body.Content(timeoutsSchema)
	d.diags = append(d.diags, more...)
	t := &ipvs.Timeouts{}
	for _, f := range []struct {
		name string
		dst  *time.Duration
	}{{"tcp", &t.TCP}, {"tcp_fin", &t.TCPFin}, {"udp", &t.UDP}} {
		if v, ok := b.timeout(d.raw(c.Attributes[f.name])); ok {
			*f.dst = v
		}
	}
	b.diags = append(b.diags, d.diags...)
	if b.diags.HasErrors() {
		return nil, b.diags
	}
	return t, b.diags
}

// timeout interprets one attribute of the timeouts block.
func (b *builder) timeout(a *attr[cty.Value]) (time.Duration, bool) {
	if !a.ok() {
		return 0, false
	}
	var d time.Duration
	switch v := a.Val; v.Type() {
	case cty.Number:
		secs, ok := wholeIn(v.AsBigFloat(), 1, int64(MaxTimeout/time.Second))
		if !ok {
			b.errorAt(a.Value, nil, "Invalid "+a.Name+" timeout", "%s Got %s.", timeoutHelp, formatNumber(v.AsBigFloat()))
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	case cty.String:
		var err error
		d, err = time.ParseDuration(v.AsString())
		if err != nil {
			if n, cerr := convert.Convert(v, cty.Number); cerr == nil {
				return b.timeout(&attr[cty.Value]{Val: n, Name: a.Name, Range: a.Range, Value: a.Value})
			}
			b.errorAt(a.Value, nil, "Invalid "+a.Name+" timeout", "%q is not a duration. %s", v.AsString(), timeoutHelp)
			return 0, false
		}
		if d < time.Second || d > MaxTimeout || d%time.Second != 0 {
			b.errorAt(a.Value, nil, "Invalid "+a.Name+" timeout", "%s Got %q.", timeoutHelp, v.AsString())
			return 0, false
		}
		return d, true
	}
	b.errorAt(a.Value, nil, "Incorrect attribute value type",
		"Inappropriate value for attribute %q: number or string required.", a.Name)
	return 0, false
}
