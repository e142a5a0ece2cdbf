package hcl

import (
	"math"
	"math/big"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/lvsctl/lvsctl/checker"
)

// This file is the file check, keepalived's FILE_CHECK, in both layers:
//
//	check "file" { path weight reverse dynamic + timing }
//
// keepalived names a top-level track_file block whose file holds the
// number; lvsctl names the file here. keepalived reads the file when it
// changes; lvsctl reads it every delay_loop.

var fileAttributes = []hcl.AttributeSchema{
	{Name: "path", Required: true},
	{Name: "weight"},
	{Name: "reverse"},
	{Name: "dynamic"},
}

// fileCheckSyntax is what a file check sets besides the timing.
type fileCheckSyntax struct {
	Path    *attr[string]
	Weight  *attr[*big.Float]
	Reverse *attr[bool]
	Dynamic *attr[bool]
}

func decodeFileCheck(d *decoder, a hcl.Attributes) any {
	return &fileCheckSyntax{
		Path:    decodeString(d, a["path"]),
		Weight:  decodeNumber(d, a["weight"]),
		Reverse: decodeBool(d, a["reverse"]),
		Dynamic: decodeBool(d, a["dynamic"]),
	}
}

// buildFileCheck builds a file check: the path is relative to the
// configuration file, weight defaults to keepalived's 1.
func buildFileCheck(b *builder, c *checkSyntax, _ *builtCheck, _ time.Duration) checker.Prober {
	p := &checker.File{Weight: 1}
	f, _ := c.More.(*fileCheckSyntax)
	if f == nil {
		return p
	}
	if f.Path.ok() {
		if f.Path.Val == "" {
			b.errorAt(f.Path.Value, nil, "Invalid path",
				"path is the file whose number is the real server's health (0 or missing is down); it must not be empty.")
		}
		p.Path = relativeTo(f.Path)
	}
	if f.Weight != nil {
		w, _ := b.whole(f.Weight, -math.MaxInt32, math.MaxInt32, "Invalid weight", "weight")
		p.Weight = w
	}
	p.Reverse = f.Reverse.ok() && f.Reverse.Val
	p.Dynamic = f.Dynamic.ok() && f.Dynamic.Val
	return p
}
