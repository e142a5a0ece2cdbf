package hcl

import (
	"bytes"
	"path/filepath"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// FilesRead lists the files that decoding src, the configuration file
// filename, reads besides filename itself, resolved as the decoder
// resolves them (relative to filename's directory). ok is false when it
// cannot tell: src does not parse, or such an attribute is not a string
// literal. It parses src only when one of the attribute names appears in
// it, and may list a file that decoding would not read, never miss one.
func FilesRead(src []byte, filename string) (paths []string, ok bool) {
	if !bytes.Contains(src, []byte("_file")) {
		// Attribute names are identifiers, written out in the source.
		return nil, true
	}
	body, parsed := syntaxBody(src, filename)
	if !parsed {
		return nil, false
	}
	ok = true
	var walk func(b *hclsyntax.Body)
	walk = func(b *hclsyntax.Body) {
		for name, a := range b.Attributes {
			if !isFileAttribute(name) {
				continue
			}
			v, diags := a.Expr.Value(nil)
			if diags.HasErrors() {
				ok = false
				continue
			}
			if v.IsNull() {
				continue
			}
			v, err := convert.Convert(v, cty.String)
			if err != nil || !v.IsWhollyKnown() {
				ok = false
				continue
			}
			if v.IsNull() || v.AsString() == "" {
				continue
			}
			path := v.AsString()
			if !filepath.IsAbs(path) {
				path = filepath.Join(filepath.Dir(filename), path)
			}
			paths = append(paths, path)
		}
		for _, blk := range b.Blocks {
			walk(blk.Body)
		}
	}
	walk(body)
	slices.Sort(paths)
	return slices.Compact(paths), ok
}

// isFileAttribute reports whether an attribute's value names a file that
// decoding reads, so that a configuration's validity depends on that file
// too: password_file of mysql checks, ca_file of https and mysql checks.
// A new attribute that reads a file when the configuration is loaded must
// be listed here and end in "_file" (FilesRead looks for that first), or a
// cached decode (lvsctl apply's config cache) would not notice the file
// changing.
func isFileAttribute(name string) bool {
	switch name {
	case "password_file", "ca_file":
		return true
	}
	return false
}

// ExecCommands lists the programs (the first element of command) of the
// exec checks in src, the configuration file filename, as written: what
// Options.LookPath is asked about when the file is decoded. ok is false
// when it cannot tell: src does not parse, or a command is not a literal
// list of strings. It parses src only when "exec" appears in it. A
// cached decode (lvsctl apply's config cache) looks them up again on every
// hit, as a parse would.
func ExecCommands(src []byte, filename string) (programs []string, ok bool) {
	if !bytes.Contains(src, []byte("exec")) {
		return nil, true
	}
	body, parsed := syntaxBody(src, filename)
	if !parsed {
		return nil, false
	}
	ok = true
	var walk func(b *hclsyntax.Body)
	walk = func(b *hclsyntax.Body) {
		for _, blk := range b.Blocks {
			if a, has := blk.Body.Attributes["command"]; has && blk.Type == "check" && len(blk.Labels) == 1 && blk.Labels[0] == "exec" {
				v, diags := a.Expr.Value(nil)
				if diags.HasErrors() || !v.IsWhollyKnown() || v.IsNull() || !(v.Type().IsListType() || v.Type().IsTupleType()) || v.LengthInt() == 0 {
					ok = false
				} else if first, err := convert.Convert(v.Index(cty.NumberIntVal(0)), cty.String); err != nil || first.IsNull() {
					ok = false
				} else {
					programs = append(programs, first.AsString())
				}
			}
			walk(blk.Body)
		}
	}
	walk(body)
	slices.Sort(programs)
	return slices.Compact(programs), ok
}

// syntaxBody parses src for FilesRead and ExecCommands; false if it does
// not parse.
func syntaxBody(src []byte, filename string) (*hclsyntax.Body, bool) {
	f, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, false
	}
	body, isSyntax := f.Body.(*hclsyntax.Body)
	return body, isSyntax
}
