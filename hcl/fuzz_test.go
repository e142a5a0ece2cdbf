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
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, files, diags := lvshcl.Parse(src, "fuzz.hcl")
		if (cfg == nil) != diags.HasErrors() {
			t.Fatalf("config %v with diagnostics %v", cfg, diags)
		}
		if err := lvshcl.WriteDiagnostics(discard{}, files, diags); err != nil {
			t.Fatal(err)
		}
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
