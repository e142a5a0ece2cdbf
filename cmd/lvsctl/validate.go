package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newValidateCmd(e *env) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "validate -f FILE",
		Short: "Check a configuration file and report every error",
		Long: `validate decodes the file and checks everything that can be checked without
the kernel: addresses, ports, schedulers and their flags, forwarding and tunnel
settings, persistence granularity, duplicates, and address families. Every
error is reported at once with file:line:col and the offending source.
It needs no privileges and never touches the kernel.`,
		Example: `  lvsctl validate -f /etc/lvsctl/lvsctl.hcl`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(file, e.stderr)
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
	return cmd
}
