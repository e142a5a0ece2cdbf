package hcl

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// The guard attributes: top-level switches that let a file say that what
// looks like a mistake is meant.
//
//	allow_empty   = true  # no virtual_server and no vrrp_instance is meant
//	allow_destroy = true  # apply or reload may delete more than half
//
// Without allow_empty, a file with neither block (an empty file, a file
// truncated by a failed copy) is an error: applied or reloaded, it would
// delete every owned service and stop VRRP. A file with only a realserver
// block is a backend's file: it is valid here (lvsctl realserver reads
// it), and the director's commands refuse it (lvsctl plan, apply, run).
// allow_destroy is checked by those commands, which know the table.
const (
	attrAllowEmpty   = "allow_empty"
	attrAllowDestroy = "allow_destroy"
)

// guardAttributes are registered in the file's top-level schema.
var guardAttributes = []hcl.AttributeSchema{{Name: attrAllowEmpty}, {Name: attrAllowDestroy}}

// Guard is what the guard attributes say.
type Guard struct {
	// AllowEmpty: a configuration without virtual services and VRRP
	// instances is meant (top-level allow_empty).
	AllowEmpty bool
	// AllowDestroy: apply and reload may delete more than half of the
	// owned services, or of a service's real servers (top-level
	// allow_destroy; the command line's --allow-destroy).
	AllowDestroy bool

	empty bool // the file is empty without allow_empty
}

// Empty reports whether cfg configures nothing a director runs: no virtual
// service, no VRRP instance and no BGP announcement.
func (cfg *Config) Empty() bool {
	return len(cfg.Services) == 0 && len(cfg.VRRP.Instances) == 0 && (cfg.BGP == nil || len(cfg.BGP.Announces) == 0)
}

// buildGuard reads the guard attributes of f and refuses an empty file
// that does not say allow_empty = true.
func buildGuard(f *hcl.File, syn *fileSyntax) (Guard, hcl.Diagnostics) {
	content, _, diags := f.Body.PartialContent(&hcl.BodySchema{Attributes: guardAttributes})
	if diags.HasErrors() {
		return Guard{}, diags
	}
	d := &decoder{}
	get := func(v cty.Value) bool { return v.True() }
	empty := decode(d, content.Attributes[attrAllowEmpty], cty.Bool, get)
	destroy := decode(d, content.Attributes[attrAllowDestroy], cty.Bool, get)
	var g Guard
	if empty.ok() {
		g.AllowEmpty = empty.Val
	}
	if destroy.ok() {
		g.AllowDestroy = destroy.Val
	}
	g.empty = !g.AllowEmpty && (empty == nil || !empty.Bad) &&
		len(syn.Services) == 0 && len(syn.VRRP.Instances) == 0 && syn.RealServerSetup == nil
	return g, d.diags
}

// emptyDiagnostic is the error of a file that configures nothing without
// allow_empty = true, reported only when the file has no other error (a
// file whose blocks are broken is refused for those).
func (g Guard) emptyDiagnostic(f *hcl.File) hcl.Diagnostics {
	if !g.empty {
		return nil
	}
	start := hcl.Pos{Line: 1, Column: 1, Byte: 0}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Empty configuration",
		Detail: "The file has no virtual_server and no vrrp_instance: applied or reloaded, it would delete " +
			"every service lvsctl owns and stop VRRP. If that is meant, say so at the top of the file: allow_empty = true.",
		Subject: &hcl.Range{Filename: f.Body.MissingItemRange().Filename, Start: start, End: start},
	}}
}
