package hcl

import (
	"math/big"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// This file is the first layer: it turns HCL bodies into syntax structs that
// keep what the user wrote and where, checking only types. Meaning (ranges,
// enums, cross-field rules) is the business of build.go.

// Block and attribute names of the schema.
const (
	blockVirtualServer = "virtual_server"
	blockRealServer    = "real_server"
	blockTunnel        = "tunnel"
	blockCheck         = "check"
	blockSorryServer   = "sorry_server"
	blockURL           = "url"
)

// timingAttributes are the check timing attributes: defaults in a
// virtual_server, overrides in a check block.
var timingAttributes = []hcl.AttributeSchema{
	{Name: "delay_loop"},
	{Name: "connect_timeout"},
	{Name: "retry"},
	{Name: "delay_before_retry"},
	{Name: "warmup"},
	{Name: "rise"},
	{Name: "fall"},
	{Name: "alpha"},
	{Name: attrSMTPAlert}, // alert.go: not timing, but inherited the same way, service to check
}

var fileSchema = &hcl.BodySchema{
	Attributes: append([]hcl.AttributeSchema{
		{Name: "flush_on_exit"},
	}, guardAttributes...), // guard.go
	Blocks: []hcl.BlockHeaderSchema{
		{Type: blockVirtualServer, LabelNames: []string{"name"}},
		{Type: blockRealServerSetup},
		{Type: blockVRRPInstance, LabelNames: []string{"name"}},
		{Type: blockVRRPScript, LabelNames: []string{"name"}},
		{Type: blockVRRPSyncGroup, LabelNames: []string{"name"}},
		{Type: blockStaticAddress}, {Type: blockStaticRoutes}, {Type: blockStaticRules}, // static.go
		{Type: blockSync},       // sync.go
		{Type: blockAlertEmail}, // alert.go
		{Type: blockTimeouts},   // timeouts.go
		{Type: blockBGP},        // bgp.go
	},
}

var serviceSchema = &hcl.BodySchema{
	Attributes: append([]hcl.AttributeSchema{
		{Name: "address"},
		{Name: "port"},
		{Name: "protocol"},
		{Name: "fwmark"},
		{Name: "family"},
		{Name: "scheduler"},
		{Name: "scheduler_flags"},
		{Name: "forwarding"},
		{Name: "persistence_timeout"},
		{Name: "persistence_granularity"},
		{Name: "persistence_engine"},
		{Name: "one_packet"},
		{Name: "inhibit_on_failure"},
		{Name: "sorry_server_inhibit"},
		{Name: "quorum"},
		{Name: "hysteresis"},
		{Name: "quorum_up"},
		{Name: "quorum_down"},
	}, timingAttributes...),
	Blocks: []hcl.BlockHeaderSchema{
		{Type: blockRealServer},
		{Type: blockTunnel},
		{Type: blockSorryServer},
	},
}

var realSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "address"},
		{Name: "port"},
		{Name: "weight"},
		{Name: "forwarding"},
		{Name: "upper_threshold"},
		{Name: "lower_threshold"},
		{Name: "notify_up"},
		{Name: "notify_down"},
		{Name: "inhibit_on_failure"},
		{Name: attrSMTPAlert}, // alert.go
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: blockTunnel},
	},
}

// sorrySchema is the sorry_server block: a real server without health
// policy of its own.
var sorrySchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "address"},
		{Name: "port"},
		{Name: "weight"},
		{Name: "forwarding"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: blockTunnel},
	},
}

var tunnelSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type"},
		{Name: "port"},
		{Name: "checksum"},
	},
}

// attr is one decoded attribute: its value and where it was written. A nil
// *attr means the attribute was absent (or null). An attribute whose value
// had the wrong type is present with Bad set: the type error has been
// reported, and later checks skip the value but still see the attribute.
type attr[T any] struct {
	Val T
	Bad bool

	Name  string
	Range hcl.Range // the whole "name = value"
	Value hcl.Range // the value expression
}

// ok reports whether a is present with a usable value.
func (a *attr[T]) ok() bool { return a != nil && !a.Bad }

// fileSyntax is one configuration file as written.
type fileSyntax struct {
	// FlushOnExit is the top-level flush_on_exit attribute.
	FlushOnExit *attr[bool]
	Services    []*serviceSyntax
	// RealServerSetup is the realserver block, if any (realserver.go).
	RealServerSetup *realServerSetupSyntax
	// VRRP holds the vrrp_instance, vrrp_script and vrrp_sync_group
	// blocks (vrrp.go).
	VRRP vrrpSyntax
}

// serviceSyntax is one virtual_server block as written.
type serviceSyntax struct {
	Name      string
	NameRange hcl.Range // the label, quotes included
	DefRange  hcl.Range // virtual_server "name"

	Address        *attr[string]
	Port           *attr[*big.Float]
	Protocol       *attr[string]
	FWMark         *attr[*big.Float]
	Family         *attr[string]
	Scheduler      *attr[string]
	SchedulerFlags *attr[[]*attr[string]]
	Forwarding     *attr[string]
	// PersistenceTimeout and PersistenceGranularity each take a number or a
	// string, so their type is checked when they are interpreted.
	PersistenceTimeout     *attr[cty.Value]
	PersistenceGranularity *attr[cty.Value]
	PersistenceEngine      *attr[string]
	OnePacket              *attr[bool]

	// Health policy (check.go).
	InhibitOnFailure *attr[bool]
	SorryInhibit     *attr[bool]
	Quorum           *attr[*big.Float]
	Hysteresis       *attr[*big.Float]
	QuorumUp         *attr[[]*attr[string]]
	QuorumDown       *attr[[]*attr[string]]
	// Timing holds the defaults of every check of the service.
	Timing timingSyntax

	Tunnel      *tunnelSyntax
	RealServers []*realSyntax
	// Sorry is the sorry_server block, if any: a real_server without
	// thresholds, checks or hooks.
	Sorry *realSyntax
	// Check is the service's first check block, if any, ExtraChecks the
	// others: the checks of every real server without its own.
	Check       *checkSyntax
	ExtraChecks []*checkSyntax
}

// realSyntax is one real_server block as written.
type realSyntax struct {
	DefRange hcl.Range

	Address        *attr[string]
	Port           *attr[*big.Float]
	Weight         *attr[*big.Float]
	Forwarding     *attr[string]
	UpperThreshold *attr[*big.Float]
	LowerThreshold *attr[*big.Float]
	NotifyUp       *attr[[]*attr[string]]
	NotifyDown     *attr[[]*attr[string]]
	// InhibitOnFailure overrides the service's for this real server.
	InhibitOnFailure *attr[bool]
	// SMTPAlert is smtp_alert (alert.go), the default of its checks'.
	SMTPAlert *bool

	Tunnel      *tunnelSyntax
	Check       *checkSyntax
	ExtraChecks []*checkSyntax // the other check blocks, after Check
}

// tunnelSyntax is one tunnel block as written.
type tunnelSyntax struct {
	DefRange hcl.Range

	Type     *attr[string]
	Port     *attr[*big.Float]
	Checksum *attr[string]
}

// decoder collects diagnostics while decoding.
type decoder struct {
	diags hcl.Diagnostics
}

// decodeFile decodes a file's body; cached are the virtual_server blocks
// a BlockCache already decoded (blockcache.go), by where each starts.
func decodeFile(body hcl.Body, cached cachedServices) (*fileSyntax, hcl.Diagnostics) {
	d := &decoder{}
	content, diags := body.Content(fileSchema)
	d.diags = append(d.diags, diags...)
	f := &fileSyntax{}
	f.FlushOnExit = decode(d, content.Attributes["flush_on_exit"], cty.Bool, func(v cty.Value) bool { return v.True() })
	for _, b := range content.Blocks {
		switch b.Type {
		case blockVirtualServer:
			if s, ok := cached[b.DefRange.Start.Byte]; ok && s.DefRange == b.DefRange {
				f.Services = append(f.Services, s)
				continue
			}
			f.Services = append(f.Services, d.service(b))
		case blockRealServerSetup:
			f.RealServerSetup = d.realServerSetup(b, f.RealServerSetup)
		case blockVRRPInstance, blockVRRPScript, blockVRRPSyncGroup, blockStaticAddress, blockStaticRoutes, blockStaticRules:
			d.vrrpBlock(&f.VRRP, b)
		}
	}
	return f, d.diags
}

func (d *decoder) service(b *hcl.Block) *serviceSyntax {
	s := &serviceSyntax{
		Name:      b.Labels[0],
		NameRange: b.LabelRanges[0],
		DefRange:  b.DefRange,
	}
	content, checks := d.content(b.Body, serviceSchema)
	s.Check, s.ExtraChecks = d.oneCheck(checks), tail(checks)
	a := content.Attributes
	s.Address = decodeString(d, a["address"])
	s.Port = decodeNumber(d, a["port"])
	s.Protocol = decodeString(d, a["protocol"])
	s.FWMark = decodeNumber(d, a["fwmark"])
	s.Family = decodeString(d, a["family"])
	s.Scheduler = decodeString(d, a["scheduler"])
	s.SchedulerFlags = d.stringList(a["scheduler_flags"])
	s.Forwarding = decodeString(d, a["forwarding"])
	s.PersistenceTimeout = d.raw(a["persistence_timeout"])
	s.PersistenceGranularity = d.raw(a["persistence_granularity"])
	s.PersistenceEngine = decodeString(d, a["persistence_engine"])
	s.OnePacket = decodeBool(d, a["one_packet"])
	s.InhibitOnFailure = decodeBool(d, a["inhibit_on_failure"])
	s.SorryInhibit = decodeBool(d, a["sorry_server_inhibit"])
	s.Quorum = decodeNumber(d, a["quorum"])
	s.Hysteresis = decodeNumber(d, a["hysteresis"])
	s.QuorumUp = d.argv(a["quorum_up"])
	s.QuorumDown = d.argv(a["quorum_down"])
	s.Timing = d.timing(a)
	for _, blk := range content.Blocks {
		switch blk.Type {
		case blockRealServer:
			s.RealServers = append(s.RealServers, d.real(blk))
		case blockTunnel:
			s.Tunnel = d.tunnel(blk, s.Tunnel)
		case blockSorryServer:
			s.Sorry = d.sorry(blk, s.Sorry)
		}
	}
	return s
}

func (d *decoder) real(b *hcl.Block) *realSyntax {
	r := &realSyntax{DefRange: b.DefRange}
	content, checks := d.content(b.Body, realSchema)
	r.Check, r.ExtraChecks = d.oneCheck(checks), tail(checks)
	a := content.Attributes
	r.Address = decodeString(d, a["address"])
	r.Port = decodeNumber(d, a["port"])
	r.Weight = decodeNumber(d, a["weight"])
	r.Forwarding = decodeString(d, a["forwarding"])
	r.UpperThreshold = decodeNumber(d, a["upper_threshold"])
	r.LowerThreshold = decodeNumber(d, a["lower_threshold"])
	r.NotifyUp = d.argv(a["notify_up"])
	r.NotifyDown = d.argv(a["notify_down"])
	r.SMTPAlert = smtpAlert(d, a[attrSMTPAlert])
	r.InhibitOnFailure = decodeBool(d, a["inhibit_on_failure"])
	for _, blk := range content.Blocks {
		if blk.Type == blockTunnel {
			r.Tunnel = d.tunnel(blk, r.Tunnel)
		}
	}
	return r
}

// sorry decodes a sorry_server block; prev is an earlier one of the same
// virtual_server, which makes this one a duplicate.
func (d *decoder) sorry(b *hcl.Block, prev *realSyntax) *realSyntax {
	r := &realSyntax{DefRange: b.DefRange}
	content, diags := b.Body.Content(sorrySchema)
	d.diags = append(d.diags, diags...)
	a := content.Attributes
	r.Address = decodeString(d, a["address"])
	r.Port = decodeNumber(d, a["port"])
	r.Weight = decodeNumber(d, a["weight"])
	r.Forwarding = decodeString(d, a["forwarding"])
	for _, blk := range content.Blocks {
		if blk.Type == blockTunnel {
			r.Tunnel = d.tunnel(blk, r.Tunnel)
		}
	}
	if prev != nil {
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Duplicate sorry_server block",
			Detail:   "A virtual_server has at most one sorry_server; the first one is at " + posString(prev.DefRange) + ".",
			Subject:  b.DefRange.Ptr(),
			Context:  prev.DefRange.Ptr(),
		})
		return prev
	}
	return r
}

// tunnel decodes a tunnel block; prev is an earlier tunnel block of the same
// parent, which makes this one a duplicate.
func (d *decoder) tunnel(b *hcl.Block, prev *tunnelSyntax) *tunnelSyntax {
	t := &tunnelSyntax{DefRange: b.DefRange}
	content, diags := b.Body.Content(tunnelSchema)
	d.diags = append(d.diags, diags...)
	a := content.Attributes
	t.Type = decodeString(d, a["type"])
	t.Port = decodeNumber(d, a["port"])
	t.Checksum = decodeString(d, a["checksum"])
	if prev != nil {
		// Decoded all the same, to report what is wrong inside it too.
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Duplicate tunnel block",
			Detail:   "Only one tunnel block is allowed here; the first one is at " + posString(prev.DefRange) + ".",
			Subject:  b.DefRange.Ptr(),
			Context:  prev.DefRange.Ptr(),
		})
		return prev
	}
	return t
}

// content decodes body against schema and also returns its check blocks,
// decoded by check.go.
//
// Check blocks are collected whatever their labels, so that every one of
// them can be reported the same way; hcl's own label-count diagnostics for
// them are dropped.
func (d *decoder) content(body hcl.Body, schema *hcl.BodySchema) (*hcl.BodyContent, []*checkSyntax) {
	withCheck := *schema
	withCheck.Blocks = append(append([]hcl.BlockHeaderSchema(nil), schema.Blocks...), hcl.BlockHeaderSchema{Type: blockCheck})
	var checks []*checkSyntax
	if sb, ok := body.(*hclsyntax.Body); ok {
		if content, ok := syntaxContent(sb, &withCheck); ok {
			for _, b := range sb.Blocks {
				if b.Type == blockCheck {
					checks = append(checks, d.check(b))
				}
			}
			return content, checks
		}
	}
	content, diags := body.Content(&withCheck)

	if sb, ok := body.(*hclsyntax.Body); ok {
		header := func(r *hcl.Range) bool {
			for _, b := range sb.Blocks {
				if b.Type == blockCheck && r != nil && hcl.RangeBetween(b.TypeRange, b.OpenBraceRange).Overlaps(*r) {
					return true
				}
			}
			return false
		}
		diags = slices.DeleteFunc(diags, func(diag *hcl.Diagnostic) bool { return header(diag.Subject) })
		d.diags = append(d.diags, diags...)
		for _, b := range sb.Blocks {
			if b.Type == blockCheck {
				checks = append(checks, d.check(b))
			}
		}
		return content, checks
	}
	// Not native syntax: only unlabelled check blocks reach us.
	d.diags = append(d.diags, diags...)
	for _, b := range content.Blocks {
		if b.Type == blockCheck {
			checks = append(checks, &checkSyntax{DefRange: b.DefRange, Range: b.DefRange})
		}
	}
	return content, checks
}

// syntaxContent is body.Content(schema) for a body that hcl would find
// nothing wrong with (every attribute and block type in the schema, the
// required attributes there, every block with its labels), without the
// bookkeeping hcl's Content allocates to find what is wrong; false, and
// nothing, for any other body. A check block with labels is left out
// without a diagnostic: content drops hcl's for it anyway.
func syntaxContent(body *hclsyntax.Body, schema *hcl.BodySchema) (*hcl.BodyContent, bool) {
	for name := range body.Attributes {
		if !slices.ContainsFunc(schema.Attributes, func(a hcl.AttributeSchema) bool { return a.Name == name }) {
			return nil, false
		}
	}
	for _, a := range schema.Attributes {
		if _, ok := body.Attributes[a.Name]; a.Required && !ok {
			return nil, false
		}
	}
	content := &hcl.BodyContent{Attributes: make(hcl.Attributes, len(body.Attributes)), MissingItemRange: body.MissingItemRange()}
	for name, a := range body.Attributes {
		content.Attributes[name] = a.AsHCLAttribute()
	}
	for _, b := range body.Blocks {
		i := slices.IndexFunc(schema.Blocks, func(s hcl.BlockHeaderSchema) bool { return s.Type == b.Type })
		switch {
		case i < 0:
			return nil, false
		case b.Type == blockCheck && len(b.Labels) > 0:
			continue
		case len(b.Labels) != len(schema.Blocks[i].LabelNames):
			return nil, false
		}
		content.Blocks = append(content.Blocks, b.AsHCLBlock())
	}
	return content, true
}

// tail returns all but the first of s.
func tail[T any](s []T) []T {
	if len(s) < 2 {
		return nil
	}
	return s[1:]
}

// decode evaluates a with no variables or functions, converts the value to
// ty and extracts it with get. Null counts as absent.
func decode[T any](d *decoder, a *hcl.Attribute, ty cty.Type, get func(cty.Value) T) *attr[T] {
	if a == nil {
		return nil
	}
	out := &attr[T]{Name: a.Name, Range: a.Range, Value: a.Expr.Range()}
	v, diags := exprValue(a.Expr)
	d.diags = append(d.diags, diags...)
	if diags.HasErrors() {
		out.Bad = true
		return out
	}
	if v.IsNull() {
		return nil
	}
	v, err := convert.Convert(v, ty)
	if err != nil {
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Incorrect attribute value type",
			Detail:   "Inappropriate value for attribute \"" + a.Name + "\": " + err.Error() + ".",
			Subject:  out.Value.Ptr(),
		})
		out.Bad = true
		return out
	}
	if v.IsNull() || !v.IsWhollyKnown() {
		return nil
	}
	out.Val = get(v)
	return out
}

// exprValue is expr.Value(nil). A quoted string without template
// sequences, most of what a table is written with, is its literal: the
// template evaluation (a buffer, a set of marks, a new string value and
// its refinements) would give the same value.
func exprValue(expr hcl.Expression) (cty.Value, hcl.Diagnostics) {
	if te, ok := expr.(*hclsyntax.TemplateExpr); ok && len(te.Parts) == 1 {
		if lit, ok := te.Parts[0].(*hclsyntax.LiteralValueExpr); ok && lit.Val.Type() == cty.String && lit.Val.IsKnown() && !lit.Val.IsNull() && !lit.Val.IsMarked() {
			return lit.Val, nil
		}
	}
	return expr.Value(nil)
}

func decodeString(d *decoder, a *hcl.Attribute) *attr[string] {
	return decode(d, a, cty.String, func(v cty.Value) string { return v.AsString() })
}

func decodeNumber(d *decoder, a *hcl.Attribute) *attr[*big.Float] {
	return decode(d, a, cty.Number, func(v cty.Value) *big.Float { return v.AsBigFloat() })
}

func decodeBool(d *decoder, a *hcl.Attribute) *attr[bool] {
	return decode(d, a, cty.Bool, func(v cty.Value) bool { return v.True() })
}

// raw evaluates a and keeps its value as it is, for attributes that take
// more than one type.
func (d *decoder) raw(a *hcl.Attribute) *attr[cty.Value] {
	return decode(d, a, cty.DynamicPseudoType, func(v cty.Value) cty.Value { return v })
}

// stringList decodes a list of strings, keeping the range of each element
// when the list is written as a literal.
func (d *decoder) stringList(a *hcl.Attribute) *attr[[]*attr[string]] {
	if a == nil {
		return nil
	}
	exprs, diags := hcl.ExprList(a.Expr)
	if diags.HasErrors() {
		// Not a list literal: decode the whole value, with one range.
		whole := decode(d, a, cty.List(cty.String), func(v cty.Value) []string {
			var out []string
			for _, e := range v.AsValueSlice() {
				if !e.IsNull() {
					out = append(out, e.AsString())
				}
			}
			return out
		})
		if whole == nil {
			return nil
		}
		out := &attr[[]*attr[string]]{Bad: whole.Bad, Name: a.Name, Range: a.Range, Value: whole.Value}
		for _, s := range whole.Val {
			out.Val = append(out.Val, &attr[string]{Val: s, Name: a.Name, Range: a.Range, Value: whole.Value})
		}
		return out
	}
	out := &attr[[]*attr[string]]{Name: a.Name, Range: a.Range, Value: a.Expr.Range()}
	for _, e := range exprs {
		el := decodeString(d, &hcl.Attribute{Name: a.Name, Expr: e, Range: a.Range, NameRange: a.NameRange})
		if el == nil {
			continue
		}
		if el.Bad {
			out.Bad = true
		}
		out.Val = append(out.Val, el)
	}
	return out
}
