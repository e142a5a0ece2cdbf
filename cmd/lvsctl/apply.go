package main

import (
	"bufio"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/lvsctl/lvsctl/cmd/internal/statusapi"
)

func newApplyCmd(e *env, g *globals) *cobra.Command {
	var file, socket string
	var adopt, allowDestroy bool
	cmd := &cobra.Command{
		Use:   "apply -f FILE",
		Short: "Make the kernel's IPVS table match the configuration",
		Long: `apply validates the file, plans (see "lvsctl plan"), and applies the changes,
printing each one. A second apply of the same file changes nothing and says so.

Nothing is half-applied: an invalid file never reaches the kernel, and if the
kernel rejects a change (say, a scheduler this kernel lacks), the changes
already made are undone and the error names the service and the operation.
Only services lvsctl created are edited or deleted; others are left alone.
Services in the file that already exist without lvsctl are refused unless
--adopt is given. Ownership is confirmed, not presumed: before its first
change, apply records the services it may create as intended, and owns
them only once the kernel has accepted its changes. If apply is killed, the
next apply takes over what it left only where that is consistent with the
file (same service attributes, only the file's real servers); anything
else at those addresses is a conflict, never deleted.

Destructive input is refused, not obeyed: a file with no virtual_server and
no vrrp_instance is an error unless it says allow_empty = true, and a change
that would delete more than half of the owned services, or of an owned
service's real servers, is refused unless --allow-destroy is given or the
file says allow_destroy = true. The message says how many of what.

While "lvsctl run" runs on the namespace, it owns the table: apply hands
the file to it over its status socket (the one "lvsctl status" reads), and
the daemon validates it and applies it as a reload (SIGHUP would), keeping
the real servers' health, then answers with the changes it made, or with
the diagnostics and "kept the running configuration". The daemon keeps
reading its own -f file on SIGHUP and at a restart: apply the file it runs.
An empty or too destructive file is refused by a SIGHUP in the same way.

An unchanged file is not parsed again: apply keeps the decoded table of the
last file it applied without any diagnostic next to the ownership record
(STATE.config-cache) and uses it while the file's name and bytes (SHA-256),
the bytes of every other file it reads (password_file, ca_file) and the
lvsctl binary are the same. The kernel is always read.

Exit status: 0 when applied (or nothing to do), 1 on error or refusal.`,
		Example: `  sudo lvsctl apply -f /etc/lvsctl/lvsctl.hcl
  sudo lvsctl apply -f lvsctl.hcl --adopt            # take over services ipvsadm created
  sudo lvsctl apply -f lvsctl.hcl --allow-destroy    # meant to delete most of the table
  sudo lvsctl apply -f lvsctl.hcl --netns director   # another network namespace`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			dp, asked, err := askDaemon(ctx, e, g, file, socket, true, allowDestroy)
			if err != nil {
				return err
			}
			if asked {
				return printDaemonApply(e.stdout, file, dp)
			}
			pr, err := prepare(ctx, e, g, file, adopt, true)
			if err != nil {
				return err
			}
			defer pr.done()
			r, p := pr.r, pr.plan
			// allow_empty on a file without services says that deleting
			// everything is meant.
			if d := p.Destruction(); d.Excessive() && !allowDestroy && !pr.guard.AllowDestroy && !(pr.empty && pr.guard.AllowEmpty) {
				return &exitError{code: 1, err: fmt.Errorf("%s: refused: %w; nothing applied", file, &destroyError{d: d})}
			}
			if !p.Pending() {
				if len(pr.timeouts) > 0 {
					if err := pr.setTimeouts(ctx); err != nil {
						return err
					}
					printTimeouts(e.stdout, pr.timeouts, "")
					fmt.Fprintln(e.stdout, "Applied 1 change.")
					return nil
				}
				printPlan(e.stdout, p)
				return nil
			}
			res, err := r.Apply(ctx, p)
			if err != nil {
				if res.RolledBack > 0 {
					fmt.Fprintf(e.stderr, "lvsctl: apply failed after %d of %d changes; undid them (%d operations)\n", res.Applied, len(p.Ops), res.RolledBack)
				}
				return err
			}
			// The timeouts after the table: a rejected table is undone,
			// and the timeouts were not touched.
			if err := pr.setTimeouts(ctx); err != nil {
				return err
			}
			if len(p.Ops) == 0 {
				// Only the ownership record changed.
				printPlan(e.stdout, p)
				if len(pr.timeouts) > 0 {
					printTimeouts(e.stdout, pr.timeouts, "")
					fmt.Fprintln(e.stdout, "Applied 1 change.")
				}
				return nil
			}
			// One write per 64 KiB, not per change: a cold apply of a
			// large table prints tens of thousands of lines.
			w := bufio.NewWriterSize(e.stdout, 64<<10)
			for _, op := range p.Ops {
				w.WriteString(op.String())
				w.WriteByte('\n')
			}
			printTimeouts(w, pr.timeouts, "")
			if err := w.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Applied %s.\n", plural(res.Applied+min(len(pr.timeouts), 1), "change"))
			printKeys(e.stdout, p.Recovered, recoveredHeading)
			printKeys(e.stdout, p.Conflicts, conflictHeading(true))
			printKeys(e.stdout, p.Foreign, "Foreign services (not created by lvsctl, left alone):")
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "lvsctl.hcl", "configuration `FILE`")
	cmd.Flags().BoolVar(&adopt, "adopt", false, "take over services in the file that exist but were not created by lvsctl")
	cmd.Flags().BoolVar(&allowDestroy, "allow-destroy", false, "apply a change that deletes more than half of the owned services, or of a service's real servers")
	cmd.Flags().StringVar(&socket, "socket", "", "the status socket `PATH` of a daemon started with --socket (default "+runDir+"/lvsctl.sock, or "+runDir+"/netns/NAME.sock with --netns)")
	return cmd
}

// printDaemonApply prints what the daemon did with the file: the changes,
// or why it kept the running configuration (exit status 1).
func printDaemonApply(out io.Writer, file string, p statusapi.Plan) error {
	w := bufio.NewWriterSize(out, 64<<10)
	for _, op := range p.Ops {
		fmt.Fprintln(w, op.Text)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if !p.Applied {
		msg := p.Error
		if msg == "" {
			msg = "not applied"
		}
		return &exitError{code: 1, err: fmt.Errorf("lvsctl run: %s", msg)}
	}
	if len(p.Ops) == 0 {
		fmt.Fprintln(out, "No changes: lvsctl run applied the file; its table already matched.")
		return nil
	}
	fmt.Fprintf(out, "Applied %s (by lvsctl run, as a reload of %s).\n", plural(len(p.Ops), "change"), file)
	return nil
}
