package kaimport

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

// Options tune an import.
type Options struct {
	// ConfigID is keepalived's -i: the id that conditional "@ID" lines
	// must match. When empty, "@ID" lines are dropped (with a warning) and
	// "@^ID" lines kept; keepalived would use the host name, which would
	// make the output depend on the machine.
	ConfigID string
	// OutputName names the output in its validation ("lvsctl.hcl" if
	// empty).
	OutputName string
	// FS, when set, is where the import reads everything instead of the
	// host: the configuration, the files it includes, the programs its
	// commands name and /etc/passwd. Absolute names are taken from its
	// root, and so are relative ones.
	FS fs.FS
	// Limits bound what the reader takes in; a zero field is the one of
	// DefaultLimits().
	Limits Limits
}

func (o Options) files() fileSource {
	if o.FS != nil {
		return fsFiles{o.FS}
	}
	return hostFiles{}
}

func (o Options) limits() Limits {
	l, d := o.Limits, DefaultLimits()
	if l.FileSize <= 0 {
		l.FileSize = d.FileSize
	}
	if l.TotalSize <= 0 {
		l.TotalSize = d.TotalSize
	}
	if l.Files <= 0 {
		l.Files = d.Files
	}
	if l.Depth <= 0 {
		l.Depth = d.Depth
	}
	return l
}

// Result is an imported configuration.
type Result struct {
	// HCL is the lvsctl configuration: formatted, and valid (lvsctl
	// validate accepts it).
	HCL []byte
	// Diags are the notes and warnings, in file order.
	Diags []Diag
	// Services and Instances count the virtual_server and vrrp_instance
	// blocks of the output.
	Services, Instances int
}

// Complete reports whether everything was translated: no warnings.
func (r *Result) Complete() bool {
	return !slices.ContainsFunc(r.Diags, func(d Diag) bool { return d.Severity == Warning })
}

var truth = cty.True

// Import reads the keepalived configuration in file name (and what it
// includes) and translates it. A syntax error is returned as ParseErrors;
// anything else that cannot be translated is a Warning in the result, and
// commented out in its HCL.
func Import(name string, opts Options) (*Result, error) {
	r, stmts := read(name, opts)
	if len(r.errs) > 0 {
		return nil, r.errs
	}
	t := &translator{
		opts:      opts,
		fs:        r.fs,
		diags:     r.diags,
		vsgs:      map[string]*Stmt{},
		usedVSG:   map[string]bool{},
		scripts:   map[string]bool{},
		instances: map[string]bool{},
		vipOwner:  map[netip.Addr]string{},
		names:     map[string]bool{},
		out:       map[*Stmt][]item{},
	}
	t.translate(stmts)

	items := []item{{comment: hcomment{
		fmt.Sprintf("lvsctl configuration imported from %s by `lvsctl import keepalived`.", name),
		`Comments that start with "FILE:LINE:" show keepalived statements that are`,
		"not translated, or translated with a difference: review them.",
	}}}
	if t.services > 0 {
		items = append(items, item{
			comment: hcomment{"keepalived removes its virtual servers when it stops; so does `lvsctl run` with this."},
			attr:    &hattr{"flush_on_exit", truth},
		})
	}
	if len(r.comments) > 0 {
		c := hcomment{"Lines of the keepalived files that are not read:"}
		for _, rc := range r.comments {
			c = append(c, rc...)
		}
		items = append(items, item{comment: c})
	}
	items = append(items, t.items...)

	outName := opts.OutputName
	if outName == "" {
		outName = "lvsctl.hcl"
	}
	out, err := t.validate(items, outName)
	if err != nil {
		return nil, err
	}
	res := &Result{HCL: out, Diags: t.diags}
	for _, it := range items {
		if it.block == nil {
			continue
		}
		switch it.block.typ {
		case "virtual_server":
			res.Services++
		case "vrrp_instance":
			res.Instances++
		}
	}
	order := map[string]int{}
	for i, f := range r.files {
		if _, ok := order[f]; !ok {
			order[f] = i
		}
	}
	slices.SortStableFunc(res.Diags, func(a, b Diag) int {
		if d := order[a.Pos.File] - order[b.Pos.File]; d != 0 {
			return d
		}
		return a.Pos.Line - b.Pos.Line
	})
	return res, nil
}

// validate renders items and loads the result as lvsctl would. A block
// that lvsctl rejects (a mistake the translation does not catch, such as
// a sorry server that is also a real server) is commented out with the
// reason, and the rest tried again.
func (t *translator) validate(items []item, name string) ([]byte, error) {
	for range len(items) + 1 {
		out, first := render(items)
		// An empty translation is valid here: lvsctl refuses it where it
		// matters (apply, reload) unless the operator adds allow_empty.
		// Offline: files the output names (cert_file, ca_file) are the
		// director's, maybe not on this machine; lvsctl validate there checks them.
		_, _, diags := lvshcl.Options{Offline: true}.Parse(append(out[:len(out):len(out)], "\nallow_empty = true\n"...), name)
		if !diags.HasErrors() {
			return out, nil
		}
		bad := map[int][]*hcl.Diagnostic{}
		for _, d := range diags {
			if d.Severity != hcl.DiagError || d.Subject == nil {
				continue
			}
			i := 0
			for j, l := range first {
				if l <= d.Subject.Start.Line {
					i = j
				}
			}
			if items[i].block == nil {
				return nil, fmt.Errorf("internal error: the translation is not valid lvsctl HCL: %s", diags.Error())
			}
			bad[i] = append(bad[i], d)
		}
		if len(bad) == 0 {
			return nil, fmt.Errorf("internal error: the translation is not valid lvsctl HCL: %s", diags.Error())
		}
		for i, ds := range bad {
			items[i] = t.reject(items[i].block, ds)
		}
	}
	return nil, errors.New("internal error: the translation does not become valid")
}

// reject comments out block b, which lvsctl refuses for the reasons ds.
func (t *translator) reject(b *hblock, ds []*hcl.Diagnostic) item {
	var why []string
	for _, d := range ds {
		why = append(why, strings.TrimSuffix(d.Summary+": "+d.Detail, "."))
	}
	msg := "lvsctl rejects the translation: " + strings.Join(why, "; ")
	c := hcomment{}
	if b.src != nil {
		t.record(b.src, Warning, msg)
		c = append(c, header(b.src, Warning, msg))
	} else {
		c = append(c, "not translated: "+msg)
	}
	lead := b.lead
	b.lead = nil
	c = append(lead, c...)
	for _, l := range strings.Split(strings.TrimRight(string(renderBlock(b)), "\n"), "\n") {
		c = append(c, l)
	}
	return item{comment: c}
}
