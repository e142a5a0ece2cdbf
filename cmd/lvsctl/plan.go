package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/lvsctl/lvsctl/cmd/internal/statusapi"
	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/ipvs"
)

func newPlanCmd(e *env, g *globals) *cobra.Command {
	var file, socket, output string
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

While "lvsctl run" runs on the namespace, it owns the table: plan hands
the file to it over its status socket (the one "lvsctl status" reads) and
shows what a reload with the file would change, from the daemon's desired
table (the running configuration plus every real server's health) to the
table the file gives with the same health. A real server down by its check
stays down: it is not shown as an add. Without a daemon, plan reads the
kernel.

plan also says when apply (or a reload) would refuse the file: it would
delete more than half of the owned services, or of a service's real
servers, without --allow-destroy or allow_destroy = true.

-o json prints the plan in a stable schema for CI (docs/plan.md).

Exit status: 0 when the kernel already matches, 2 when changes are pending,
1 on error.`,
		Example: `  lvsctl plan -f lvsctl.hcl
  lvsctl plan -f lvsctl.hcl -o json             # for a CI gate
  lvsctl plan -f lvsctl.hcl --netns director   # another network namespace`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("-o %q: want text or json", output)
			}
			ctx := cmd.Context()
			dp, asked, err := askDaemon(ctx, e, g, file, socket, false, false)
			if err != nil {
				return err
			}
			if asked {
				if err := printDaemonPlan(e.stdout, dp, output); err != nil {
					return err
				}
				if len(dp.Ops) > 0 || len(dp.Conflicts) > 0 {
					return &exitError{code: 2}
				}
				return nil
			}
			pr, err := prepare(ctx, e, g, file, adopt, false)
			if err != nil {
				return err
			}
			defer pr.done()
			p := pr.plan
			refused := ""
			if d := p.Destruction(); d.Excessive() && !pr.guard.AllowDestroy && !(pr.empty && pr.guard.AllowEmpty) {
				refused = d.String()
			}
			if output == "json" {
				if err := writeJSON(e.stdout, kernelPlanJSON(p, adopt, refused)); err != nil {
					return err
				}
			} else {
				printPlan(e.stdout, p, pr.timeouts...)
				printRefused(e.stdout, refused)
			}
			if len(p.Ops) > 0 || len(pr.timeouts) > 0 || (len(p.Conflicts) > 0 && !adopt) {
				return &exitError{code: 2}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "lvsctl.hcl", "configuration `FILE`")
	cmd.Flags().BoolVar(&adopt, "adopt", false, "plan to take over services in the file that exist but were not created by lvsctl")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output `FORMAT`: text or json (docs/plan.md)")
	cmd.Flags().StringVar(&socket, "socket", "", "the status socket `PATH` of a daemon started with --socket (default "+runDir+"/lvsctl.sock, or "+runDir+"/netns/NAME.sock with --netns)")
	return cmd
}

// printRefused says that apply would refuse the plan.
func printRefused(w io.Writer, refused string) {
	if refused != "" {
		fmt.Fprintf(w, "apply would refuse this: it %s; pass --allow-destroy or set allow_destroy = true\n", refused)
	}
}

// kernelPlanJSON is p in plan -o json's schema.
func kernelPlanJSON(p *ipvs.Plan, adopt bool, refused string) statusapi.Plan {
	out := statusapi.Plan{Source: statusapi.SourceKernel, Refused: refused}
	out.Ops, out.Changes = jsonOps(p.Ops)
	out.Conflicts = []string{}
	if !adopt {
		out.Conflicts = keyStrings(p.Conflicts)
	}
	out.Foreign = keyStrings(p.Foreign)
	if len(p.Recovered) > 0 {
		out.Recovered = keyStrings(p.Recovered)
	}
	return out
}

// planLockWait bounds how long plan waits for a running apply.
const planLockWait = 5 * time.Minute

// prepared is what prepare found.
type prepared struct {
	r    *ipvs.Reconciler
	plan *ipvs.Plan
	// guard is the file's allow_empty and allow_destroy.
	guard lvshcl.Guard
	// empty: the file has no virtual services (and says allow_empty).
	empty bool
	// timeouts is what the file's timeouts block changes (see
	// ipvs.TimeoutChanges), and want the block itself (nil: none).
	timeouts []ipvs.TimeoutChange
	want     *ipvs.Timeouts
	// done releases the kernel and the lock.
	done func()
}

// prepare validates the file, opens the target namespace's IPVS table with
// its ownership record and plans. apply holds the state lock exclusively
// until it calls done (which releases the kernel and the lock); plan holds
// it shared only while it reads the kernel and the record, waiting for a
// running apply first, and writes nothing.
func prepare(ctx context.Context, e *env, g *globals, file string, adopt, apply bool) (*prepared, error) {
	pr := &prepared{}
	var err error
	var desired []ipvs.VirtualService
	pr.r, pr.plan, desired, pr.guard, pr.want, pr.done, err = prepareKernel(ctx, e, g, file, adopt, apply)
	if err != nil {
		return nil, err
	}
	pr.empty = len(desired) == 0
	if pr.want != nil {
		tk, ok := pr.r.Kernel.(ipvs.TimeoutKernel)
		if !ok {
			pr.done()
			return nil, fmt.Errorf("%s: timeouts: this kernel handle cannot set IPVS timeouts", file)
		}
		have, err := tk.Timeouts(ctx)
		if err != nil {
			pr.done()
			return nil, fmt.Errorf("%s: timeouts: %w", file, err)
		}
		pr.timeouts = ipvs.TimeoutChanges(have, *pr.want)
	}
	return pr, nil
}

// setTimeouts sets the file's timeouts block, if it changes anything.
func (pr *prepared) setTimeouts(ctx context.Context) error {
	if len(pr.timeouts) == 0 {
		return nil
	}
	if err := pr.r.Kernel.(ipvs.TimeoutKernel).SetTimeouts(ctx, *pr.want); err != nil {
		return fmt.Errorf("timeouts: %w", err)
	}
	return nil
}

// printTimeouts prints the timeouts line of the plan, if any.
func printTimeouts(w io.Writer, cs []ipvs.TimeoutChange, indent string) {
	if line := ipvs.FormatTimeoutChanges(cs); line != "" {
		fmt.Fprintln(w, indent+line)
	}
}

// prepareKernel also returns the file's timeouts block; a file with one is
// never cached (configcache.go keeps only the services), so a cached file
// has none. Nor is a file with real servers given by host name: they are
// resolved again at every apply.
func prepareKernel(ctx context.Context, e *env, g *globals, file string, adopt, apply bool) (r *ipvs.Reconciler, p *ipvs.Plan, desired []ipvs.VirtualService, guard lvshcl.Guard, timeouts *ipvs.Timeouts, done func(), err error) {
	// An unchanged file that apply applied before is not parsed again
	// (configcache.go); apply records a file that decoded cleanly.
	statePath := g.ownership(e).Path
	cache := cacheFor(statePath)
	opt := g.configOptions()
	src, readDiags := opt.limits.ReadFile(file) // at most --max-config-size
	readOK := !readDiags.HasErrors()
	cached := false
	if readOK {
		desired, cached = cache.load(file, src)
	}
	remember := false
	if !cached {
		if !readOK {
			src = nil // decodeConfig reads it again, and reports why not
		}
		opt.blocks = cache.blocks // the blocks load found: only edited ones are decoded
		cfg, clean, err := decodeConfig(ctx, file, src, e.stderr, opt)
		if err != nil {
			return nil, nil, nil, guard, nil, nil, err
		}
		if cfg.Empty() && !cfg.Guard.AllowEmpty {
			// A backend's file (only a realserver block).
			return nil, nil, nil, guard, nil, nil, &exitError{code: 1, err: fmt.Errorf("refused: %w", &emptyError{file: file})}
		}
		desired, remember, guard, timeouts = cfg.Services, clean && readOK && cfg.Timeouts == nil && len(cfg.Resolved) == 0, cfg.Guard, cfg.Timeouts
	}
	if err := checkKernel(ctx, e, file, src, desired, opt); err != nil { // kernelcheck.go
		return nil, nil, nil, guard, nil, nil, err
	}
	k, err := e.openKernel(ctx, g.netnsPath())
	if err != nil {
		return nil, nil, nil, guard, nil, nil, err
	}
	var unlock func()
	if apply {
		unlock, err = lockExclusive(ctx, statePath, roleApply, readersWait)
		if err != nil {
			err = daemonOwns(statePath, err)
		}
	} else {
		unlock, err = lockShared(ctx, statePath, planLockWait, e.stderr)
	}
	if err != nil {
		k.Close()
		return nil, nil, nil, guard, nil, nil, err
	}
	if apply && !cached && readOK {
		// Best effort: without it the next apply parses again. A file
		// that is not remembered whole keeps its decoded blocks.
		var table []ipvs.VirtualService
		if remember {
			table = desired
		}
		_ = cache.store(file, src, table)
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
		return nil, nil, nil, guard, nil, nil, err
	}
	if cached && p.Destruction().Excessive() {
		// The cache keeps the table, not allow_destroy: read the file.
		if cfg, _, err := decodeConfig(ctx, file, src, io.Discard, opt); err == nil {
			guard = cfg.Guard
		}
	}
	return r, p, desired, guard, timeouts, done, nil
}

// printPlan prints p and the timeouts block's changes ts.
func printPlan(out io.Writer, p *ipvs.Plan, ts ...ipvs.TimeoutChange) {
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
	if len(ts) > 0 {
		change++ // one SET_CONFIG
	}
	if len(p.Ops) == 0 && len(ts) == 0 {
		fmt.Fprintln(w, "No changes: the kernel's IPVS table matches the configuration.")
	} else {
		fmt.Fprintf(w, "Plan: %d to add, %d to change, %d to delete.\n", add, change, del)
		for _, op := range p.Ops {
			fmt.Fprintln(w, "  "+op.String())
		}
		printTimeouts(w, ts, "  ")
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
