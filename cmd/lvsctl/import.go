package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/lvsctl/lvsctl/cmd/internal/kaimport"
)

// exitIncomplete is the exit status of an import that wrote its output but
// could not translate everything.
const exitIncomplete = 3

func newImportCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Translate another tool's configuration into an lvsctl file",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newImportKeepalivedCmd(e))
	return cmd
}

func newImportKeepalivedCmd(e *env) *cobra.Command {
	var out, configID string
	cmd := &cobra.Command{
		Use:   "keepalived FILE [-o OUT]",
		Short: "Translate a keepalived.conf into an lvsctl file",
		Long: `import keepalived reads a keepalived configuration (and the files it
includes) and writes the equivalent lvsctl file: virtual servers (groups
expanded), real and sorry servers, checks (TCP_CHECK, HTTP_GET, SSL_GET,
MISC_CHECK), quorum and hooks, and the VRRP instances, scripts and sync
groups. The output is formatted and passes lvsctl validate.

Nothing is dropped silently: a keyword lvsctl has no equivalent for is
commented out in the output with its file:line and the reason, and listed
on standard error as a warning (the output does less than keepalived did)
or a note (lvsctl behaves that way anyway).

Exit status: 0 when everything was translated, 3 when the output was
written but some warnings say what it lacks, 1 on a syntax error (with
file:line) or when a file cannot be read or written.`,
		Example: `  lvsctl import keepalived /etc/keepalived/keepalived.conf -o /etc/lvsctl/lvsctl.hcl
  lvsctl import keepalived keepalived.conf --config-id lb1 | less`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := "lvsctl.hcl"
			if out != "" && out != "-" {
				name = out
			}
			res, err := kaimport.Import(args[0], kaimport.Options{ConfigID: configID, OutputName: name})
			if err != nil {
				var pe kaimport.ParseErrors
				if errors.As(err, &pe) {
					for _, p := range pe {
						fmt.Fprintf(e.stderr, "%s: error: %s\n", p.Pos, p.Msg)
					}
					return &exitError{code: 1}
				}
				return &exitError{code: 1, err: err}
			}
			warnings := 0
			for _, d := range res.Diags {
				fmt.Fprintln(e.stderr, d)
				if d.Severity == kaimport.Warning {
					warnings++
				}
			}
			if out == "" || out == "-" {
				if _, err := e.stdout.Write(res.HCL); err != nil {
					return &exitError{code: 1, err: err}
				}
			} else if err := writePrivate(out, res.HCL); err != nil {
				return &exitError{code: 1, err: err}
			}
			what := fmt.Sprintf("%s, %s", plural(res.Services, "virtual service"), plural(res.Instances, "vrrp instance"))
			if warnings > 0 {
				fmt.Fprintf(e.stderr, "%s: imported %s; incomplete: %s (see above and the comments in the output)\n",
					args[0], what, plural(warnings, "warning"))
				return &exitError{code: exitIncomplete}
			}
			fmt.Fprintf(e.stderr, "%s: imported %s; complete\n", args[0], what)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the lvsctl file to `OUT` (default: standard output)")
	cmd.Flags().StringVar(&configID, "config-id", "", "keepalived's config id (keepalived -i `ID`): which conditional @ID lines apply")
	return cmd
}

// writePrivate writes data to name atomically: into a temporary file of
// the same directory, created 0600, renamed over name. The output may hold
// VRRP passwords, as keepalived.conf does, so it is never readable by
// others, not even for a moment: mode 0600, or the mode of the file it
// replaces when that is stricter (0400). A symbolic link is followed: its
// target is replaced.
func writePrivate(name string, data []byte) (err error) {
	if target, err := filepath.EvalSymlinks(name); err == nil {
		name = target
	}
	mode := os.FileMode(0o600)
	if st, err := os.Stat(name); err == nil {
		if !st.Mode().IsRegular() {
			return fmt.Errorf("write %s: not a regular file", name)
		}
		mode &= st.Mode().Perm()
	}
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(mode); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.Rename(f.Name(), name); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
