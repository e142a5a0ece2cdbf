package kaimport

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

// FuzzImport checks that no input panics and that every import that gets
// past the syntax is valid lvsctl HCL.
func FuzzImport(f *testing.F) {
	for _, glob := range []string{"*.conf", "samples/keepalived.conf.*"} {
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
		if bytes.Contains(src, []byte("include")) {
			return // it would read the host's files
		}
		name := filepath.Join(t.TempDir(), "k.conf")
		if err := os.WriteFile(name, src, 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := Import(name, Options{})
		if err != nil {
			return
		}
		if _, _, diags := lvshcl.Parse(res.HCL, "out.hcl"); diags.HasErrors() {
			t.Fatalf("invalid output: %s\n%s", diags.Error(), res.HCL)
		}
	})
}
