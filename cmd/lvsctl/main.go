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

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], defaultEnv())
	stop()
	os.Exit(code)
}
