// Command lvsctl programs and keeps a Linux IPVS table from one HCL file.
//
// It is the virtual_server half of keepalived as a single, testable tool:
// `lvsctl validate`, `lvsctl plan` and `lvsctl apply` converge the kernel's
// IPVS table to the configuration by difference, touching only what changed
// and only the services lvsctl owns. Run `lvsctl --help` for the commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() { os.Exit(cli()) }

// cli runs the command line of this process; SIGINT and SIGTERM cancel it.
func cli() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, os.Args[1:], defaultEnv())
}
