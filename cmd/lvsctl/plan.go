package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/lvsctl/lvsctl/ipvs"
)

func newPlanCmd(e *env, g *globals) *cobra.Command {
	var file string
	var adopt bool
	cmd := &cobra.Command{
		Use:   "plan -f FILE",
		Short: "Show the changes apply would make to the kernel's IPVS table",
		Long: `plan reads the kernel's IPVS table once, compares the services lvsctl owns
with the file, and prints one line per change apply would make:

  + service / + real    to add
  ~ service / ~ real    to edit in place (old -> new)
  - service / - real    to delete

It also lists foreign services (in the kernel, not created by lvsctl: apply
leaves them alone) and conflicts (in the file and in the kernel, but not
created by lvsctl: apply refuses them unless --adopt).

Exit status: 0 when the kernel already matches, 2 when changes are pending,
1 on error.`,
		Example: `  lvsctl plan -f lvsctl.hcl
  lvsctl plan -f lvsctl.hcl --netns director   # another network namespace`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, p, done, err := prepare(cmd.Context(), e, g, file, adopt, false)
			if err != nil {
				return err
			}
			defer done()
			printPlan(e.stdout, p)
			if len(p.Ops) > 0 || (len(p.Conflicts) > 0 && !adopt) {
				return &exitError{code: 2}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "lvsctl.hcl", "configuration `FILE`")
	cmd.Flags().BoolVar(&adopt, "adopt", false, "plan to take over services in the file that exist but were not created by lvsctl")
	return cmd
}

// prepare validates the file, opens the target namespace's IPVS table with
// its ownership record (locked, for apply) and plans. The caller calls done
// to release the kernel and the lock.
func prepare(ctx context.Context, e *env, g *globals, file string, adopt, lock bool) (r *ipvs.Reconciler, p *ipvs.Plan, done func(), err error) {
	// An unchanged file that apply applied before is not parsed again
	// (configcache.go); apply records a file that decoded cleanly.
	cache := cacheFor(g.ownership(e).Path)
	src, readErr := os.ReadFile(file)
	desired, cached := []ipvs.VirtualService(nil), false
	if readErr == nil {
		desired, cached = cache.load(src)
	}
	remember := false
	if !cached {
		cfg, clean, err := decodeConfig(ctx, file, src, e.stderr, g.configOptions())
		if err != nil {
			return nil, nil, nil, err
		}
		desired, remember = cfg.Services, clean && readErr == nil
	}
	k, err := e.openKernel(ctx, g.netnsPath())
	if err != nil {
		return nil, nil, nil, err
	}
	unlock := func() {}
	if lock {
		if unlock, err = lockState(g.ownership(e).Path); err != nil {
			k.Close()
			return nil, nil, nil, err
		}
	}
	if lock && remember {
		// Best effort: without it the next apply parses again.
		_ = cache.store(src, desired)
	}
	done = func() { unlock(); k.Close() }
	r = &ipvs.Reconciler{Kernel: k, Owned: g.ownership(e)}
	if p, err = r.Plan(ctx, desired, adopt); err != nil {
		done()
		return nil, nil, nil, err
	}
	return r, p, done, nil
}

func printPlan(out io.Writer, p *ipvs.Plan) {
	w := bufio.NewWriterSize(out, 64<<10) // a large plan is many lines
	defer w.Flush()
	var add, change, del int
	for _, op := range p.Ops {
		switch op.Kind {
		case ipvs.AddService, ipvs.AddRealServer:
			add++
		case ipvs.EditService, ipvs.EditRealServer:
			change++
		default:
			del++
		}
	}
	if len(p.Ops) == 0 {
		fmt.Fprintln(w, "No changes: the kernel's IPVS table matches the configuration.")
	} else {
		fmt.Fprintf(w, "Plan: %d to add, %d to change, %d to delete.\n", add, change, del)
		for _, op := range p.Ops {
			fmt.Fprintln(w, "  "+op.String())
		}
	}
	printKeys(w, p.Conflicts, conflictHeading(p.Adopted))
	printKeys(w, p.Foreign, "Foreign services (not created by lvsctl, left alone):")
}

func conflictHeading(adopted bool) string {
	if adopted {
		return "Adopted services (existed without lvsctl, now owned):"
	}
	return "Conflicts (in the file, but created by someone else; use --adopt to take them over):"
}

func printKeys(w io.Writer, keys []ipvs.ServiceKey, heading string) {
	if len(keys) == 0 {
		return
	}
	fmt.Fprintln(w, heading)
	for _, k := range keys {
		fmt.Fprintln(w, "    "+k.String())
	}
}
