package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/lvsctl/lvsctl/cmd/internal/statusapi"
)

// exitNotRunning is status's exit code when no daemon answers, as LSB's
// "program is not running".
const exitNotRunning = 3

func newStatusCmd(e *env, g *globals) *cobra.Command {
	var socket, output string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show what the running lvsctl run is doing: pools, health, VRRP, BGP, configuration",
		Long: `status asks the running "lvsctl run" of this network namespace (--netns) for
its state, over its root-only unix socket, and prints:

  - the daemon: pid, uptime, version;
  - the configuration file and its generation (1 at start, one more per
    accepted SIGHUP reload), and how the last reload went;
  - each virtual service's real servers: state (up, down, sorry), weight in
    the kernel's table over the configured weight ("-" when not in the
    table), since when, why, and the latest probe (result, duration, age);
  - the VRRP instances: state, priority, master;
  - with a bgp block: each neighbor's session state and since when, the
    prefixes announced, the announce blocks withheld and why, the counts of
    announcements and withdrawals by reason, the VIPs on vip_interface and
    the sloppy modes set.

It reads the daemon's memory and never the kernel: "lvsctl list" shows the
kernel's table and counters.

Exit status: 0 the daemon answered, 3 no daemon runs, 1 other errors.`,
		Example: `  sudo lvsctl status
  sudo lvsctl status --netns director -o json | jq '.pools[].real_servers[] | select(.state != "up")'
  sudo curl --unix-socket /run/lvsctl/lvsctl.sock http://lvsctl/v1/status`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("-o %q: want text or json", output)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
			defer cancel()
			st, raw, err := statusapi.Get(ctx, statusSocket(socket, g))
			if errors.Is(err, statusapi.ErrNoDaemon) {
				return &exitError{code: exitNotRunning, err: err}
			}
			if err != nil {
				return err
			}
			if output == "json" {
				_, err := e.stdout.Write(raw)
				return err
			}
			return statusapi.Write(e.stdout, st)
		},
	}
	cmd.Flags().StringVar(&socket, "socket", "", "the daemon's status socket `PATH` (default /run/lvsctl/lvsctl.sock, or /run/lvsctl/netns/NAME.sock with --netns)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output `FORMAT`: text or json")
	return cmd
}
