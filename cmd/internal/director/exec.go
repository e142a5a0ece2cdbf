package director

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/lvsctl/lvsctl/checker"
)

// maxOutput bounds what is kept of a program's output (for the log).
const maxOutput = 4096

// limitedBuffer keeps the first maxOutput bytes written to it.
type limitedBuffer struct{ b bytes.Buffer }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := maxOutput - l.b.Len(); room > 0 {
		l.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// runProgram runs argv (plus args) without a shell, with a clean
// environment (PATH and env), standard input from /dev/null, in a process
// group of its own that is killed when timeout passes or ctx is done. It
// returns the first line of the output and the error of the run (nil for
// exit status 0).
func runProgram(ctx context.Context, argv, args, env []string, timeout time.Duration) (string, error) {
	if len(argv) == 0 || argv[0] == "" {
		return "", errors.New("no program to run")
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], append(append([]string(nil), argv[1:]...), args...)...)
	cmd.Env = append([]string{"PATH=" + checker.ExecPath}, env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// The leader is not reaped yet, so its pid still names the group.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	// A child that keeps the output open must not hold us past the kill.
	cmd.WaitDelay = time.Second
	var out limitedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil && ctx.Err() == context.DeadlineExceeded {
		err = fmt.Errorf("timed out after %v (killed)", timeout)
	}
	return firstLine(out.b.String()), err
}

// firstLine is the first non-empty line of s, at most 200 bytes.
func firstLine(s string) string {
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			if len(line) > 200 {
				line = line[:200]
			}
			return line
		}
	}
	return ""
}
