package hcl_test

import (
	"os"
	"path/filepath"
	"testing"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

// FuzzParse checks that no input panics, that a Config comes back exactly
// when there are no errors, and that every diagnostic can be rendered.
func FuzzParse(f *testing.F) {
	for _, glob := range []string{"*.hcl", "invalid/*.hcl"} {
		names, _ := filepath.Glob(filepath.Join(testdata, glob))
		for _, name := range names {
			src, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	// Nested expressions, at both sides of the depth limit: the
	// pre-parse scan must stop each before hclsyntax's recursion does.
	for _, tt := range deepConstructs {
		for _, n := range []int{3, 60, 150} {
			f.Add(deepFile(tt.expr(n)))
		}
	}
	for _, src := range []string{
		"a = \"${\"${\"${1}\"}\"}\"\n",
		"a = <<EOT\n${<<-EOT\n  x\n  EOT\n}\nEOT\n",
		"a = \"%{for x in [1]}%{if x}${x}%{endif}%{endfor}\"\n",
		"a = [for k, v in {a = 1} : k => v if v > 0]\n",
		"a = x[*].y.*.z[0][\"k\"]\n",
		"a = /* ( [ { */ 1 # ((\n",
		"a = \"$${(((\" // ((\n",
		"check \"mysql\" { password = \"s3cret\" }\n",
	} {
		f.Add([]byte(src))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, files, diags := lvshcl.Parse(src, "fuzz.hcl")
		if (cfg == nil) != diags.HasErrors() {
			t.Fatalf("config %v with diagnostics %v", cfg, diags)
		}
		if err := lvshcl.WriteDiagnostics(discard{}, files, diags); err != nil {
			t.Fatal(err)
		}
		for _, d := range diags {
			if d.Subject == nil {
				t.Fatalf("diagnostic without a position: %v", d)
			}
		}
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
