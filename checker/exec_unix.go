//go:build unix

package checker

import (
	"os/exec"
	"syscall"
)

// killProcessGroup runs cmd in a process group of its own and makes a
// cancelled or timed-out run kill the whole group, so that a check's
// children do not outlive it.
func killProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// The leader is not reaped yet, so its pid still names the group.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
