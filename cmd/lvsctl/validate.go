package main

import (
	"fmt"

	"github.com/spf13/cobra"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

func newValidateCmd(e *env, g *globals) *cobra.Command {
	var (
		file      string
		maxErrors int
		strict    bool
	)
	cmd := &cobra.Command{
		Use:   "validate -f FILE",
		Short: "Check a configuration file and report every error",
		Long: `validate decodes the file and checks everything that can be checked without
the kernel: addresses, ports, schedulers and their flags, forwarding and tunnel
settings, persistence granularity, duplicates, and address families. Every
error is reported at once with file:line:col and the offending source.
The first --max-errors diagnostics are printed (0: all), then a count of the
rest; secret values (passwords) are shown as *** in every snippet. Files
larger than --max-config-size, or nested more than 100 levels deep, are
refused before they are parsed.
It needs no privileges and never touches the kernel, so that it can run in
CI without the director's secrets: a ca_file or password_file that does not
exist or cannot be opened, and an exec check's command that is not found,
are warnings here (exit 0), and errors for plan, apply and run. --strict
makes every warning an error (exit 1).`,
		Example: `  lvsctl validate -f /etc/lvsctl/lvsctl.hcl
  lvsctl validate --strict -f lvsctl.hcl   # on the director: secrets must be there`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opt := g.configOptions()
			opt.offline, opt.strict = true, strict
			opt.maxErrors = maxErrors
			if maxErrors == 0 {
				opt.maxErrors = -1 // all
			}
			cfg, err := loadConfig(cmd.Context(), file, e.stderr, opt)
			if err != nil {
				return err
			}
			reals := 0
			for _, s := range cfg.Services {
				reals += len(s.RealServers)
			}
			what := plural(len(cfg.Services), "virtual service") + ", " + plural(reals, "real server")
			if n := len(cfg.VRRP.Instances); n > 0 {
				what += ", " + plural(n, "VRRP instance")
			}
			fmt.Fprintf(e.stdout, "%s: valid (%s)\n", file, what)
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "lvsctl.hcl", "configuration `FILE`")
	cmd.Flags().BoolVar(&strict, "strict", false, "treat warnings (a missing ca_file, password_file or exec command) as errors")
	cmd.Flags().IntVar(&maxErrors, "max-errors", lvshcl.DefaultMaxDiagnostics, "print at most `N` diagnostics, then count the rest (0: print all)")
	return cmd
}
