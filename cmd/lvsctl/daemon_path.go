package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/lvsctl/lvsctl/cmd/internal/statusapi"
)

// The daemon path: while `lvsctl run` runs on a namespace it is the only
// writer of its table, and plan and apply hand it the file over its status
// socket (run_config.go serves them).

// askDaemon hands file to the daemon of g's namespace, if one serves its
// status socket: a plan, or with apply a reload. asked is false when no
// daemon serves it (the caller then reads the kernel); a daemon that does
// not answer is an error. The file is read here, within --max-config-size,
// and its bytes sent.
func askDaemon(ctx context.Context, e *env, g *globals, file, socket string, apply, allowDestroy bool) (p statusapi.Plan, asked bool, err error) {
	path := statusSocket(socket, g)
	if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
		if socket != "" {
			return p, false, fmt.Errorf("--socket %s: %w", socket, err)
		}
		return p, false, nil
	}
	src, diags := g.configOptions().limits.ReadFile(file)
	if diags.HasErrors() {
		// The kernel path reads it again and reports why not.
		return p, false, nil
	}
	req := statusapi.ConfigRequest{File: file, Source: src, AllowDestroy: allowDestroy}
	if abs, err := filepath.Abs(file); err == nil {
		req.File = abs
	}
	if apply {
		p, err = statusapi.ApplyConfig(ctx, path, req)
	} else {
		p, err = statusapi.PlanConfig(ctx, path, req)
	}
	switch {
	case errors.Is(err, statusapi.ErrNoDaemon) && socket == "":
		return p, false, nil // a stale socket: no daemon
	case errors.Is(err, os.ErrPermission) && !apply:
		fmt.Fprintf(e.stderr, "lvsctl: cannot ask lvsctl run over %s (the socket is root-only); planning against the kernel's table\n", path)
		return p, false, nil
	case err != nil:
		return p, false, err
	}
	if p.Diagnostics != "" {
		io.WriteString(e.stderr, p.Diagnostics)
	}
	if p.Errors > 0 {
		what := "nothing applied"
		if apply {
			what = "lvsctl run kept the running configuration"
		}
		return p, true, &exitError{code: 1, err: fmt.Errorf("%s: %s, %s", file, plural(p.Errors, "error"), what)}
	}
	return p, true, nil
}

// printDaemonPlan prints a plan the daemon made, as text or JSON.
func printDaemonPlan(out io.Writer, p statusapi.Plan, format string) error {
	if format == "json" {
		return writeJSON(out, p)
	}
	w := bufio.NewWriterSize(out, 64<<10)
	if len(p.Ops) == 0 {
		fmt.Fprintln(w, "No changes: lvsctl run's table (its configuration plus health) already matches the file.")
	} else {
		c := p.Changes
		fmt.Fprintf(w, "Plan (by lvsctl run, with the current health): %d to add, %d to change, %d to delete.\n",
			c.Add.Service+c.Add.RealServer, c.Edit.Service+c.Edit.RealServer, c.Delete.Service+c.Delete.RealServer)
		for _, op := range p.Ops {
			fmt.Fprintln(w, "  "+op.Text)
		}
	}
	printStrings(w, p.Conflicts, conflictHeading(false))
	printStrings(w, p.Foreign, "Foreign services (not created by lvsctl, left alone):")
	printRefused(w, p.Refused)
	return w.Flush()
}

func printStrings(w io.Writer, keys []string, heading string) {
	if len(keys) == 0 {
		return
	}
	fmt.Fprintln(w, heading)
	for _, k := range keys {
		fmt.Fprintln(w, "    "+k)
	}
}

// daemonOwns explains a lock that lvsctl run holds: the daemon owns the
// table, and its socket did not answer (or apply would have used it).
func daemonOwns(statePath string, lockErr error) error {
	f, err := os.Open(statePath + ".lock")
	if err != nil {
		return lockErr
	}
	defer f.Close()
	pid, role := lockHolder(f)
	if role != roleRun {
		return lockErr
	}
	return fmt.Errorf("lvsctl run%s owns this namespace's IPVS table, and its status socket did not answer: "+
		"apply through it (lvsctl apply -f FILE, with --socket if the daemon was started with one), or edit its file and send it SIGHUP", pidText(pid))
}
