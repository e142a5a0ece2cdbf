package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"time"

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
created by lvsctl: apply refuses them unless --adopt). After an apply was
killed, the services it may have created are owned only once confirmed:
those consistent with the file (its service attributes, only its real
servers) are listed as recovered and taken over, any other is a conflict.

plan reads a consistent table: while an apply to the same namespace runs,
it says so ("waiting for the running apply (pid N) to finish...") and waits
for it, up to 5 minutes, then gives up with exit status 1. It writes
nothing: no state, no cache.

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

// planLockWait bounds how long plan waits for a running apply.
const planLockWait = 5 * time.Minute

// prepare validates the file, opens the target namespace's IPVS table with
// its ownership record and plans. apply holds the state lock exclusively
// until it calls done (which releases the kernel and the lock); plan holds
// it shared only while it reads the kernel and the record, waiting for a
// running apply first, and writes nothing.
func prepare(ctx context.Context, e *env, g *globals, file string, adopt, apply bool) (r *ipvs.Reconciler, p *ipvs.Plan, done func(), err error) {
	// An unchanged file that apply applied before is not parsed again
	// (configcache.go); apply records a file that decoded cleanly.
	statePath := g.ownership(e).Path
	cache := cacheFor(statePath)
	opt := g.configOptions()
	src, readDiags := opt.limits.ReadFile(file) // at most --max-config-size
	readOK := !readDiags.HasErrors()
	desired, cached := []ipvs.VirtualService(nil), false
	if readOK {
		desired, cached = cache.load(file, src)
	}
	remember := false
	if !cached {
		if !readOK {
			src = nil // decodeConfig reads it again, and reports why not
		}
		cfg, clean, err := decodeConfig(ctx, file, src, e.stderr, opt)
		if err != nil {
			return nil, nil, nil, err
		}
		desired, remember = cfg.Services, clean && readOK
	}
	k, err := e.openKernel(ctx, g.netnsPath())
	if err != nil {
		return nil, nil, nil, err
	}
	var unlock func()
	if apply {
		unlock, err = lockExclusive(ctx, statePath, roleApply, readersWait)
	} else {
		unlock, err = lockShared(ctx, statePath, planLockWait, e.stderr)
	}
	if err != nil {
		k.Close()
		return nil, nil, nil, err
	}
	if apply && remember {
		// Best effort: without it the next apply parses again.
		_ = cache.store(file, src, desired)
	}
	r = &ipvs.Reconciler{Kernel: k, Owned: g.ownership(e)}
	p, err = r.Plan(ctx, desired, adopt)
	if !apply {
		unlock()
		unlock = func() {}
	}
	done = func() { unlock(); k.Close() }
	if err != nil {
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
	printKeys(w, p.Recovered, recoveredHeading)
	printKeys(w, p.Conflicts, conflictHeading(p.Adopted))
	if len(p.Unconfirmed) > 0 && !p.Adopted {
		fmt.Fprintf(w, "  (an interrupted apply may have created %d of them, but what is there differs from the file: check, then --adopt)\n", len(p.Unconfirmed))
	}
	printKeys(w, p.Foreign, "Foreign services (not created by lvsctl, left alone):")
}

const recoveredHeading = "Recovered services (left by an interrupted apply, consistent with the file, now owned):"

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
