package kaimport

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// The output is built as a small tree of blocks, attributes and comments,
// rendered with hclwrite at the end: blocks can then be compared (to move
// identical checks up to their virtual_server), reordered and commented out.

// Severity says whether a diagnostic leaves the import incomplete.
type Severity int

const (
	// Note: a keyword dropped because lvsctl behaves that way already, or
	// because it has no effect there (keepalived's "state BACKUP").
	Note Severity = iota
	// Warning: something that could not be translated; the output does
	// less than the keepalived configuration did.
	Warning
)

func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "note"
}

// Diag is one thing the import says about a place in the keepalived files.
type Diag struct {
	Pos      Pos
	Severity Severity
	Keyword  string
	Msg      string
}

func (d Diag) String() string {
	return fmt.Sprintf("%s: %s: %s: %s", d.Pos, d.Severity, d.Keyword, d.Msg)
}

type hattr struct {
	name string
	val  cty.Value
}

// hcomment is comment lines, without their "# ".
type hcomment []string

type hblock struct {
	typ    string
	labels []string
	attrs  []*hattr
	notes  []hcomment // after the attributes
	blocks []*hblock
	// lead is comment lines written before the block.
	lead hcomment
	// src is the keepalived statement the block comes from.
	src *Stmt
	// noSNI is the SSL_GET of a check "https" without enable_sni: lvsctl
	// sends the virtualhost as SNI, keepalived then none (lvs.go).
	noSNI *Stmt
}

func newBlock(typ string, labels ...string) *hblock {
	return &hblock{typ: typ, labels: labels}
}

// set sets an attribute, replacing an earlier value.
func (b *hblock) set(name string, v cty.Value) {
	for _, a := range b.attrs {
		if a.name == name {
			a.val = v
			return
		}
	}
	b.attrs = append(b.attrs, &hattr{name, v})
}

func (b *hblock) get(name string) (cty.Value, bool) {
	for _, a := range b.attrs {
		if a.name == name {
			return a.val, true
		}
	}
	return cty.NilVal, false
}

func (b *hblock) has(name string) bool {
	_, ok := b.get(name)
	return ok
}

func (b *hblock) unset(name string) {
	b.attrs = slices.DeleteFunc(b.attrs, func(a *hattr) bool { return a.name == name })
}

func (b *hblock) add(c *hblock) { b.blocks = append(b.blocks, c) }

func (b *hblock) note(lines ...string) { b.notes = append(b.notes, hcomment(lines)) }

// clone copies b deeply (values are immutable).
func (b *hblock) clone() *hblock {
	c := *b
	c.labels = slices.Clone(b.labels)
	c.attrs = nil
	for _, a := range b.attrs {
		c.attrs = append(c.attrs, &hattr{a.name, a.val})
	}
	c.notes = slices.Clone(b.notes)
	c.lead = slices.Clone(b.lead)
	c.blocks = nil
	for _, s := range b.blocks {
		c.blocks = append(c.blocks, s.clone())
	}
	return &c
}

// attrOrder is the order of the attributes of each block type; others come
// after them, in the order they were set.
var attrOrder = map[string][]string{
	"virtual_server": {
		"address", "port", "protocol", "fwmark", "family", "scheduler", "scheduler_flags", "forwarding",
		"persistence_timeout", "persistence_granularity", "one_packet",
		"delay_loop", "connect_timeout", "retry", "delay_before_retry", "warmup", "alpha",
		"inhibit_on_failure", "quorum", "hysteresis", "quorum_up", "quorum_down",
	},
	"real_server":  {"address", "port", "weight", "forwarding", "upper_threshold", "lower_threshold", "notify_up", "notify_down"},
	"sorry_server": {"address", "port", "weight", "forwarding"},
	"check": {
		"command", "dynamic_weight", "timeout",
		"connect_ip", "connect_port", "bind_to", "virtualhost", "server_name", "http_version",
		"delay_loop", "connect_timeout", "retry", "delay_before_retry", "warmup", "alpha",
	},
	"url": {"path", "status", "digest", "regex", "virtualhost"},
	"vrrp_instance": {
		"interface", "virtual_router_id", "version", "priority", "advert_interval", "nopreempt", "preempt_delay",
		"unicast_src_ip", "unicast_peer", "virtual_ipaddress", "garp_master_delay", "garp_master_repeat",
		"track_script", "track_interface",
		"notify_master", "notify_backup", "notify_fault", "notify_stop", "notify",
	},
	"vrrp_script":     {"command", "interval", "timeout", "weight", "rise", "fall", "init_fail"},
	"vrrp_sync_group": {"group", "sync_group_tracking_weight", "notify_master", "notify_backup", "notify_fault", "notify_stop", "notify"},
}

func (b *hblock) sortedAttrs() []*hattr {
	order := attrOrder[b.typ]
	rank := func(name string) int {
		if i := slices.Index(order, name); i >= 0 {
			return i
		}
		return len(order)
	}
	out := slices.Clone(b.attrs)
	slices.SortStableFunc(out, func(x, y *hattr) int { return rank(x.name) - rank(y.name) })
	return out
}

// spaced are the block types whose nested blocks get a blank line before
// each of them.
var spaced = map[string]bool{"virtual_server": true}

func writeComment(body *hclwrite.Body, c hcomment) {
	for _, l := range c {
		// Comments are HCL source: valid UTF-8 without control characters.
		l = strings.Map(func(r rune) rune {
			if r < ' ' && r != '\t' || r == 0x7f {
				return '?'
			}
			return r
		}, strings.ToValidUTF8(l, "?"))
		text := "#"
		if l != "" {
			text += " " + l
		}
		body.AppendUnstructuredTokens(hclwrite.Tokens{{Type: hclsyntax.TokenComment, Bytes: []byte(text + "\n")}})
	}
}

func writeBlock(body *hclwrite.Body, b *hblock) {
	writeComment(body, b.lead)
	nb := body.AppendNewBlock(b.typ, b.labels)
	inner := nb.Body()
	for _, a := range b.sortedAttrs() {
		inner.SetAttributeValue(a.name, a.val)
	}
	for _, n := range b.notes {
		writeComment(inner, n)
	}
	for i, c := range b.blocks {
		if spaced[b.typ] && (i > 0 || len(b.attrs) > 0 || len(b.notes) > 0) {
			inner.AppendNewline()
		}
		writeBlock(inner, c)
	}
}

// renderBlock renders one block on its own, for comparisons and for
// commenting it out.
func renderBlock(b *hblock) []byte {
	f := hclwrite.NewEmptyFile()
	writeBlock(f.Body(), b)
	return hclwrite.Format(f.Bytes())
}

// item is one top-level element of the output: a block, an attribute, or
// comments (which may precede the block or attribute).
type item struct {
	block   *hblock
	attr    *hattr
	comment hcomment
}

// render writes the whole file; lines[i] is the first line of items[i].
func render(items []item) (out []byte, firstLine []int) {
	var buf bytes.Buffer
	for i, it := range items {
		f := hclwrite.NewEmptyFile()
		body := f.Body()
		writeComment(body, it.comment)
		switch {
		case it.block != nil:
			writeBlock(body, it.block)
		case it.attr != nil:
			body.SetAttributeValue(it.attr.name, it.attr.val)
		}
		text := hclwrite.Format(f.Bytes())
		if i > 0 && buf.Len() > 0 && !(it.attr != nil && items[i-1].attr != nil) {
			buf.WriteByte('\n')
		}
		firstLine = append(firstLine, bytes.Count(buf.Bytes(), []byte("\n"))+1)
		buf.Write(text)
	}
	return buf.Bytes(), firstLine
}

// Values.

func str(s string) cty.Value { return cty.StringVal(s) }

func strList(ss []string) cty.Value {
	if len(ss) == 0 {
		return cty.ListValEmpty(cty.String)
	}
	vals := make([]cty.Value, len(ss))
	for i, s := range ss {
		vals[i] = cty.StringVal(s)
	}
	return cty.ListVal(vals)
}

func num(f float64) cty.Value {
	if f == float64(int64(f)) {
		return cty.NumberIntVal(int64(f))
	}
	return cty.NumberFloatVal(f)
}
