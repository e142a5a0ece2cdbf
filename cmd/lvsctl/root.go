package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/ipvs"
)

// env is what the commands need from the outside world; tests replace it.
type env struct {
	stdout, stderr io.Writer
	// openKernel opens the IPVS table of a network namespace ("" = ours).
	openKernel func(ctx context.Context, netnsPath string) (ipvs.Kernel, error)
	// openLister opens a namespace's IPVS for reading (lvsctl list).
	openLister func(ctx context.Context, netnsPath string) (lister, error)
	// stateDir holds the ownership records.
	stateDir string
	// probe asks the kernel which schedulers and tunnel types it lacks,
	// before plan and apply (kernelcheck.go); nil: not asked.
	probe ipvs.Prober
}

func defaultEnv() *env {
	return &env{
		stdout: os.Stdout,
		stderr: os.Stderr,
		openKernel: func(ctx context.Context, netnsPath string) (ipvs.Kernel, error) {
			return ipvs.Open(ctx, netnsPath)
		},
		openLister: openNetlinkLister,
		stateDir:   "/var/lib/lvsctl",
		probe:      ipvs.ProbeCapabilities,
	}
}

// exitError carries an exit code without a message (the command already
// printed what it had to say), or with one.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// globals are the flags every command shares.
type globals struct {
	netns     string
	stateFile string
	// maxConfigSize is --max-config-size: the largest configuration file.
	maxConfigSize int64
	// blocks is lvsctl run's cache of decoded blocks (configcache.go).
	blocks *lvshcl.BlockCache
}

// netnsPath turns --netns NAME into /run/netns/NAME; a value with a slash is
// already a path.
func (g *globals) netnsPath() string {
	if g.netns == "" || strings.Contains(g.netns, "/") {
		return g.netns
	}
	return filepath.Join("/run/netns", g.netns)
}

// ownership returns the ownership record for the target namespace: one file
// per namespace, since IPVS tables are per namespace.
func (g *globals) ownership(e *env) ipvs.StateFile {
	if g.stateFile != "" {
		return ipvs.StateFile{Path: g.stateFile}
	}
	if g.netns == "" {
		return ipvs.StateFile{Path: filepath.Join(e.stateDir, "state.json")}
	}
	name := strings.Trim(strings.ReplaceAll(g.netns, "/", "_"), "_")
	return ipvs.StateFile{Path: filepath.Join(e.stateDir, "netns", name+".json")}
}

func newRootCmd(e *env) *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "lvsctl",
		Short: "Program and keep a Linux IPVS load-balancer table from one HCL file",
		Long: `lvsctl programs the Linux kernel's IPVS table (the "virtual_server" half of
keepalived, and what ipvsadm scripts do) from one HCL file.

It converges by difference: it reads the kernel's table, computes the
smallest set of changes, and applies only those. It never flushes, and it
edits or deletes only the virtual services it created itself (recorded in a
small state file); services made by other tools are left alone and listed as
foreign.`,
		Example: `  lvsctl validate -f lvsctl.hcl     # check the file, report every error
  lvsctl plan -f lvsctl.hcl         # show what apply would change (exit 2 if anything)
  sudo lvsctl apply -f lvsctl.hcl   # make the kernel match the file`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.PersistentFlags().StringVar(&g.netns, "netns", "", "operate in network namespace `NAME` (/run/netns/NAME) or at a namespace PATH")
	root.PersistentFlags().StringVar(&g.stateFile, "state", "", "ownership record `FILE` (default /var/lib/lvsctl/state.json, or netns/NAME.json beside it with --netns)")
	root.PersistentFlags().Int64Var(&g.maxConfigSize, "max-config-size", lvshcl.DefaultMaxSize, "refuse configuration files larger than `BYTES`")
	root.AddCommand(newValidateCmd(e, g), newPlanCmd(e, g), newApplyCmd(e, g), newRunCmd(e, g))
	root.AddCommand(newListCmd(e, g))
	root.AddCommand(newRealServerCmd(e, g))
	root.AddCommand(newImportCmd(e))
	root.AddCommand(newStatusCmd(e, g), newVersionCmd(e))
	setupCompletion(root) // last: it completes the flags of every command
	return root
}

// run executes the command line and returns the process exit code.
func run(ctx context.Context, args []string, e *env) int {
	root := newRootCmd(e)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(e.stderr, "lvsctl: %v\n", ee.err)
		}
		return ee.code
	}
	fmt.Fprintf(e.stderr, "lvsctl: %v\n", userError(err))
	return 1
}

// userError keeps the message a user can act on: for a missing IPVS or
// missing privileges that is the whole story, whatever wrapped it.
func userError(err error) error {
	switch {
	case errors.Is(err, ipvs.ErrNoIPVS):
		return ipvs.ErrNoIPVS
	case errors.Is(err, ipvs.ErrPermission):
		return ipvs.ErrPermission
	}
	return err
}

// plural formats "1 change" or "3 changes".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
