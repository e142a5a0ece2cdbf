package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/hashicorp/hcl/v2"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

// loadConfig decodes and validates the file, printing every diagnostic with
// its file:line:col and source snippet. Any error means exit 1 and nothing
// reaches the kernel.
func loadConfig(file string, stderr io.Writer) (*lvshcl.Config, error) {
	cfg, _, err := decodeConfig(file, nil, stderr)
	return cfg, err
}

// decodeConfig is loadConfig for src, the file's bytes (nil: read the
// file). clean reports that there were no diagnostics at all.
func decodeConfig(file string, src []byte, stderr io.Writer) (cfg *lvshcl.Config, clean bool, err error) {
	if os.Getenv("GOGC") == "" {
		// Parsing a large file is nearly all short-lived garbage (the
		// syntax tree): collect half as often while it runs, which makes
		// it about a fifth faster, then go back to the default.
		defer debug.SetGCPercent(debug.SetGCPercent(200))
	}
	var (
		files lvshcl.Files
		diags hcl.Diagnostics
	)
	if src == nil {
		cfg, files, diags = lvshcl.Load(file)
	} else {
		cfg, files, diags = lvshcl.Parse(src, file)
	}
	if len(diags) > 0 {
		if err := lvshcl.WriteDiagnostics(stderr, files, diags); err != nil {
			return nil, false, err
		}
	}
	if diags.HasErrors() {
		n := 0
		for _, d := range diags {
			if d.Severity == hcl.DiagError {
				n++
			}
		}
		return nil, false, &exitError{code: 1, err: fmt.Errorf("%s: %d error(s), nothing applied", file, n)}
	}
	return cfg, len(diags) == 0, nil
}
