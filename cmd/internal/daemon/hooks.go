package daemon

import (
	"bytes"
	"context"
	"log/slog"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"github.com/lvsctl/lvsctl/checker"
	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/ipvs"
)

// HookRunner runs a notify or quorum program. Run must not block the
// caller for long: ExecHooks starts the program and returns.
type HookRunner interface {
	Run(h lvshcl.Hook, env []string)
}

// ExecHooks runs hooks as programs without a shell, each bounded by its
// timeout, in the background. A failure is logged, never fatal.
type ExecHooks struct {
	Logger *slog.Logger
}

// Run starts h with the event variables env and returns at once.
func (x ExecHooks) Run(h lvshcl.Hook, env []string) {
	go func() {
		timeout := h.Timeout
		if timeout <= 0 {
			timeout = lvshcl.DefaultHookTimeout
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, h.Argv[0], h.Argv[1:]...)
		cmd.Env = append([]string{"PATH=" + checker.ExecPath}, env...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		if err != nil {
			x.Logger.Error("hook failed", append(hookAttrs(h.Argv, env), "err", err, "output", firstLine(out.String()))...)
			return
		}
		x.Logger.Debug("hook ran", hookAttrs(h.Argv, env)...)
	}()
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// The hooks' environment names things as the logs and metrics do
// (docs/names.md): LVSCTL_SERVICE is the virtual_server's name, as for exec
// checks; LVSCTL_SERVICE_KEY its key; LVSCTL_REAL the real server,
// LVSCTL_REAL_ADDR and LVSCTL_REAL_PORT its parts.

// hook runs a real server's notify hook with the event's variables.
func (d *Daemon) hook(h *lvshcl.Hook, event string, svc ipvs.ServiceKey, ev checker.Event) {
	if h == nil || len(h.Argv) == 0 {
		return
	}
	env := realHookEnv(event, ev.Target.Service, svc, ev.Target.Addr, ev.Reason)
	if ev.Check != "" {
		env = append(env, "LVSCTL_CHECK="+ev.Check) // the check that caused it, of several
	}
	d.o.Hooks.Run(*h, env)
}

// realHookEnv is the environment of a notify_up or notify_down hook.
func realHookEnv(event, name string, svc ipvs.ServiceKey, real netip.AddrPort, reason string) []string {
	return []string{
		"LVSCTL_EVENT=" + event,
		"LVSCTL_SERVICE=" + name,
		"LVSCTL_SERVICE_KEY=" + svc.String(),
		"LVSCTL_REAL=" + real.String(),
		"LVSCTL_REAL_ADDR=" + real.Addr().String(),
		"LVSCTL_REAL_PORT=" + strconv.Itoa(int(real.Port())),
		"LVSCTL_REASON=" + reason,
	}
}

// hookQuorum runs a quorum_up or quorum_down hook, and mails the change
// (smtp_alert).
func (d *Daemon) hookQuorum(h *lvshcl.Hook, event string, s service, upWeight int) {
	d.alertQuorum(s, event == "quorum_up", upWeight) // alert.go
	if h == nil || len(h.Argv) == 0 {
		return
	}
	d.o.Hooks.Run(*h, []string{
		"LVSCTL_EVENT=" + event,
		"LVSCTL_SERVICE=" + s.pool.Name,
		"LVSCTL_SERVICE_KEY=" + s.vs.Key.String(),
		"LVSCTL_UP_WEIGHT=" + strconv.Itoa(upWeight),
	})
}
