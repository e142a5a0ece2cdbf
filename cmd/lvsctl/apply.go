package main

import (
	"bufio"
	"fmt"

	"github.com/spf13/cobra"
)

func newApplyCmd(e *env, g *globals) *cobra.Command {
	var file string
	var adopt bool
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

An unchanged file is not parsed again: apply keeps the decoded table of the
last file it applied without any diagnostic next to the ownership record
(STATE.config-cache) and uses it while the file's name and bytes (SHA-256),
the bytes of every other file it reads (password_file, ca_file) and the
lvsctl binary are the same. The kernel is always read.`,
		Example: `  sudo lvsctl apply -f /etc/lvsctl/lvsctl.hcl
  sudo lvsctl apply -f lvsctl.hcl --adopt            # take over services ipvsadm created
  sudo lvsctl apply -f lvsctl.hcl --netns director   # another network namespace`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, p, done, err := prepare(cmd.Context(), e, g, file, adopt, true)
			if err != nil {
				return err
			}
			defer done()
			if !p.Pending() {
				printPlan(e.stdout, p)
				return nil
			}
			res, err := r.Apply(cmd.Context(), p)
			if err != nil {
				if res.RolledBack > 0 {
					fmt.Fprintf(e.stderr, "lvsctl: apply failed after %d of %d changes; undid them (%d operations)\n", res.Applied, len(p.Ops), res.RolledBack)
				}
				return err
			}
			if len(p.Ops) == 0 {
				// Only the ownership record changed.
				printPlan(e.stdout, p)
				return nil
			}
			// One write per 64 KiB, not per change: a cold apply of a
			// large table prints tens of thousands of lines.
			w := bufio.NewWriterSize(e.stdout, 64<<10)
			for _, op := range p.Ops {
				w.WriteString(op.String())
				w.WriteByte('\n')
			}
			if err := w.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Applied %s.\n", plural(res.Applied, "change"))
			printKeys(e.stdout, p.Recovered, recoveredHeading)
			printKeys(e.stdout, p.Conflicts, conflictHeading(true))
			printKeys(e.stdout, p.Foreign, "Foreign services (not created by lvsctl, left alone):")
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "lvsctl.hcl", "configuration `FILE`")
	cmd.Flags().BoolVar(&adopt, "adopt", false, "take over services in the file that exist but were not created by lvsctl")
	return cmd
}
