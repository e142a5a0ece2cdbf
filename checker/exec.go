package checker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// ExecPath is the PATH of an exec check's environment.
const ExecPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// maxOutput bounds the output an exec check keeps; the first line of it
// goes into the reason.
const maxOutput = 4096

// Exec is keepalived's MISC_CHECK: a program run without a shell. Exit status
// 0 is up, 1 is down, and 2 to 255 are up with weight status-2 when
// DynamicWeight is set (down otherwise). A program still running after
// Timeout is killed with its whole process group and counts as down.
//
// The program gets a clean environment: PATH=ExecPath, the event variables
// LVSCTL_SERVICE, LVSCTL_SERVICE_KEY, LVSCTL_REAL, LVSCTL_REAL_ADDR and
// LVSCTL_REAL_PORT (the target), and Env.
// Its standard input is /dev/null; standard output and error are captured
// (the first 4 KiB) and their first non-empty line ends the reason.
type Exec struct {
	// Argv is the program and its arguments. A program name without a
	// slash is looked up in the daemon's PATH.
	Argv []string
	// Env holds extra "NAME=value" variables.
	Env []string
	// Timeout bounds the run; zero means DefaultTimeout. (keepalived's
	// misc_timeout defaults to delay_loop instead.)
	Timeout time.Duration
	// DynamicWeight makes exit statuses 2-255 mean up with weight status-2.
	DynamicWeight bool
}

// Validate checks the command line and environment.
func (p *Exec) Validate() error {
	var errs []error
	if len(p.Argv) == 0 || p.Argv[0] == "" {
		errs = append(errs, errors.New("no program to run"))
	}
	for _, kv := range p.Env {
		if name, _, ok := strings.Cut(kv, "="); !ok || name == "" || strings.HasPrefix(name, "LVSCTL_") {
			errs = append(errs, fmt.Errorf("env %q: want NAME=value, NAME not starting with LVSCTL_", kv))
		}
	}
	if p.Timeout < 0 {
		errs = append(errs, fmt.Errorf("negative timeout %s", p.Timeout))
	}
	return errors.Join(errs...)
}

// Probe runs the program once.
func (p *Exec) Probe(ctx context.Context, t Target) Result {
	start := time.Now()
	res := p.run(ctx, t)
	res.Took = time.Since(start)
	return res
}

func (p *Exec) run(ctx context.Context, t Target) Result {
	down := Result{Weight: NoWeight}
	if len(p.Argv) == 0 {
		down.Reason = "no program to run"
		return down
	}
	timeout := timeoutOr(p.Timeout)
	runCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(runCtx, p.Argv[0], p.Argv[1:]...)
	cmd.Env = append([]string{
		"PATH=" + ExecPath,
		"LVSCTL_SERVICE=" + t.Service,
		"LVSCTL_SERVICE_KEY=" + t.Key,
		"LVSCTL_REAL=" + t.Addr.String(),
		"LVSCTL_REAL_ADDR=" + t.Addr.Addr().String(),
		"LVSCTL_REAL_PORT=" + strconv.Itoa(int(t.Addr.Port())),
	}, p.Env...)
	out := &boundedBuffer{max: maxOutput}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 500 * time.Millisecond // don't wait forever on pipes held by leftovers
	killProcessGroup(cmd)

	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case runCtx.Err() != nil && ctx.Err() == nil:
		down.Reason = "timeout after " + timeout.String()
		return down
	case ctx.Err() != nil:
		down.Reason = "canceled"
		return down
	case err == nil, errors.Is(err, exec.ErrWaitDelay): // exited; a leftover child held the output open
	case errors.As(err, &ee) && ee.Exited():
	case errors.As(err, &ee):
		down.Reason = withOutput(ee.ProcessState.String(), out) // "signal: killed"
		return down
	default:
		down.Reason = withOutput(err.Error(), out) // could not start
		return down
	}
	code := cmd.ProcessState.ExitCode()
	reason := "exit status " + strconv.Itoa(code)
	switch {
	case code == 0:
		return Result{Up: true, Weight: NoWeight, Reason: withOutput(reason, out)}
	case code >= 2 && p.DynamicWeight:
		reason += ", weight " + strconv.Itoa(code-2)
		return Result{Up: true, Weight: code - 2, Reason: withOutput(reason, out)}
	}
	down.Reason = withOutput(reason, out)
	return down
}

// withOutput appends the first non-empty line of the output to reason.
func withOutput(reason string, out *boundedBuffer) string {
	for line := range bytes.SplitSeq(out.buf, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if len(line) > 200 {
			line = append(line[:200:200], "..."...)
		}
		return reason + ": " + string(line)
	}
	return reason
}

// boundedBuffer keeps the first max bytes written to it and discards the
// rest, so that a chatty check cannot grow the daemon's memory.
type boundedBuffer struct {
	buf []byte
	max int
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	if room := b.max - len(b.buf); room > 0 {
		b.buf = append(b.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}
