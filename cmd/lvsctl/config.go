package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/debug"

	"github.com/hashicorp/hcl/v2"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

// configOptions say how a configuration file is read and reported. The zero
// value is the defaults.
type configOptions struct {
	// limits bound the file before it is parsed (zero fields: defaults).
	limits lvshcl.Limits
	// maxErrors is the most diagnostics printed, the rest counted in one
	// line: 0 means lvshcl.DefaultMaxDiagnostics, a negative number all.
	maxErrors int
	// offline makes a missing ca_file, password_file or exec check
	// command a warning (validate); plan, apply and run refuse it.
	offline bool
	// strict makes any warning an error (validate --strict).
	strict bool
	// lookPath finds an exec check's command as the checker will run it;
	// nil: commands are not looked up.
	lookPath func(string) (string, error)
	// resolve resolves real servers given by host name; nil: only IP
	// literals.
	resolve lvshcl.Resolver
	// blocks, if set, caches decoded blocks across decodes (configcache.go).
	blocks *lvshcl.BlockCache
}

// configOptions returns the options the global flags set: exec checks'
// commands are looked up as the checker will run them.
func (g *globals) configOptions() configOptions {
	return configOptions{limits: lvshcl.Limits{MaxSize: g.maxConfigSize}, lookPath: exec.LookPath,
		resolve: lvshcl.SystemResolver(lvshcl.DefaultResolveTimeout), blocks: g.blocks}
}

// hclOptions are the decoder's options for opt.
func (opt configOptions) hclOptions() lvshcl.Options {
	return lvshcl.Options{Limits: opt.limits, Offline: opt.offline, LookPath: opt.lookPath, Resolve: opt.resolve, Blocks: opt.blocks}
}

// loadConfig decodes and validates the file, printing every diagnostic (up
// to opt.maxErrors) with its file:line:col and source snippet. Any error
// means exit 1 and nothing reaches the kernel. Printing stops when ctx is
// cancelled (SIGINT, SIGTERM), with ctx's error.
func loadConfig(ctx context.Context, file string, stderr io.Writer, opt configOptions) (*lvshcl.Config, error) {
	cfg, _, err := decodeConfig(ctx, file, nil, stderr, opt)
	return cfg, err
}

// decodeConfig is loadConfig for src, the file's bytes (nil: read the
// file). clean reports that there were no diagnostics at all.
func decodeConfig(ctx context.Context, file string, src []byte, stderr io.Writer, opt configOptions) (cfg *lvshcl.Config, clean bool, err error) {
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
		cfg, files, diags = opt.hclOptions().Load(file)
	} else {
		cfg, files, diags = opt.hclOptions().Parse(src, file)
	}
	if len(diags) > 0 {
		max := opt.maxErrors
		if max == 0 {
			max = lvshcl.DefaultMaxDiagnostics
		}
		if err := lvshcl.RenderDiagnostics(ctx, stderr, files, diags, max); err != nil {
			return nil, false, fmt.Errorf("%s: %w", file, err)
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
	if opt.strict && len(diags) > 0 {
		return nil, false, &exitError{code: 1, err: fmt.Errorf("%s: %d warning(s), which --strict makes errors", file, len(diags))}
	}
	return cfg, len(diags) == 0, nil
}
