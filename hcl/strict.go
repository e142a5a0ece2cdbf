package hcl

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/hashicorp/hcl/v2"
)

// Options say how Load and Parse check what a configuration names outside
// itself: the files read when it is loaded (ca_file, password_file) and the
// programs its exec checks run. The zero value is what the package's Load
// and Parse do: the files must be readable, the programs are not looked
// up.
type Options struct {
	// Limits bound the file before it is parsed.
	Limits Limits
	// Offline makes a ca_file or password_file that does not exist or
	// cannot be opened (permission denied), and an exec check's command
	// that LookPath does not find, a warning instead of an error, so that
	// a configuration can be validated where its secrets and programs are
	// not (a CI job, a workstation). A file that exists but is wrong (no
	// PEM certificate, an empty password, a FIFO) stays an error.
	Offline bool
	// LookPath, if set, finds an exec check's command as the checker will
	// run it (exec.LookPath: a path, or a name looked up in PATH); one it
	// does not find is an error at the command, a warning when Offline.
	// Nil: commands are not looked up.
	LookPath func(file string) (string, error)
	// Resolve, if set, resolves a real or sorry server's address given
	// as a host name (resolve.go; SystemResolver). Nil: an address must
	// be an IP literal.
	Resolve Resolver
	// Blocks, if set, is the cache of decoded virtual_server blocks that
	// Parse and Load use and update (blockcache.go): a file of which only
	// some blocks changed since an earlier parse decodes those only, with
	// the same result and diagnostics as a full parse.
	Blocks *BlockCache
}

// Load is the package's Load with these options.
func (o Options) Load(filename string) (*Config, Files, hcl.Diagnostics) {
	src, diags := o.Limits.ReadFile(filename)
	if diags.HasErrors() {
		files := Files{}
		if src != nil {
			files[filename] = &hcl.File{Bytes: src}
		}
		return nil, files, diags
	}
	return o.Parse(src, filename)
}

// Parse is the package's Parse with these options.
func (o Options) Parse(src []byte, filename string) (*Config, Files, hcl.Diagnostics) {
	if diags := o.Limits.Check(src, filename); diags.HasErrors() {
		return nil, Files{filename: &hcl.File{Bytes: src}}, diags
	}
	if o.Blocks != nil {
		if f, cached, ok := o.Blocks.parse(src, filename); ok {
			return loadWith(o, Files{filename: f}, f, cached, nil)
		}
	}
	f, diags := parseConfig(src, filename)
	return loadWith(o, Files{filename: f}, f, nil, diags)
}

// absent reports whether err says a file is not there for this process:
// it does not exist, or may not be opened.
func absent(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission)
}

// external reports a problem with something the configuration names
// outside itself that is not there (missing reports which): an error, or
// under Offline a warning that says where the file is needed.
func (b *builder) external(subject hcl.Range, missing bool, summary, detail string, args ...any) {
	if !missing || !b.opts.Offline {
		b.errorAt(subject, nil, summary, detail, args...)
		return
	}
	if len(args) > 0 {
		detail = fmt.Sprintf(detail, args...)
	}
	b.diags = append(b.diags, &hcl.Diagnostic{
		Severity: hcl.DiagWarning,
		Summary:  summary,
		Detail:   detail + " Offline validation only warns: plan, apply and run refuse the file until it is there.",
		Subject:  subject.Ptr(),
	})
}

// lookPath checks an exec check's program (argv[0], written at r), if
// the options ask for it.
func (b *builder) lookPath(name string, r hcl.Range) {
	if b.opts.LookPath == nil {
		return
	}
	if _, err := b.opts.LookPath(name); err != nil {
		b.external(r, true, "Command not found",
			"The exec check runs %q, and it cannot be run here: %v. Install it, or give its full path (a name without a slash is looked up in PATH, as the checker does).", name, err)
	}
}
