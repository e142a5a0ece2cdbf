package director

import (
	"context"
	"log/slog"
	"strconv"
	"strings"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/vrrp"
)

// HookRunner runs one notify hook to completion: h.Argv followed by args,
// with the event variables env. ExecHook is the real one; tests record.
type HookRunner func(ctx context.Context, h lvshcl.Hook, args, env []string) error

// ExecHook runs h as a program without a shell, bounded by its timeout.
func ExecHook(ctx context.Context, h lvshcl.Hook, args, env []string) error {
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = lvshcl.DefaultHookTimeout
	}
	out, err := runProgram(ctx, h.Argv, args, env, timeout)
	if err != nil && out != "" {
		return &hookError{err: err, output: out}
	}
	return err
}

type hookError struct {
	err    error
	output string
}

func (e *hookError) Error() string { return e.err.Error() + ": " + e.output }
func (e *hookError) Unwrap() error { return e.err }

// hookCall is one hook to run.
type hookCall struct {
	event string // notify_master, ..., notify
	hook  lvshcl.Hook
	args  []string
	env   []string
}

// notifier runs the hooks of one instance or sync group in the background,
// one after another in the order of the transitions (so that a MASTER hook
// never overtakes the BACKUP hook before it). Posting never blocks: the
// state machine calls it from its own goroutine.
//
// post and close are called under Runner.mu.
type notifier struct {
	log    *slog.Logger
	run    HookRunner
	jobs   chan []hookCall
	done   chan struct{}
	closed bool
}

// notifyBacklog is how many transitions' hooks may wait; beyond that they
// are dropped (and logged), rather than stall the state machine.
const notifyBacklog = 64

func newNotifier(log *slog.Logger, run HookRunner) *notifier {
	n := &notifier{log: log, run: run, jobs: make(chan []hookCall, notifyBacklog), done: make(chan struct{})}
	go n.loop()
	return n
}

func (n *notifier) loop() {
	defer close(n.done)
	for calls := range n.jobs {
		for _, c := range calls {
			err := n.run(context.Background(), c.hook, c.args, c.env)
			attrs := []any{"event", c.event, "argv", strings.Join(append(append([]string(nil), c.hook.Argv...), c.args...), " ")}
			if err != nil {
				n.log.Error("hook failed", append(attrs, "err", err)...)
			} else {
				n.log.Debug("hook ran", attrs...)
			}
		}
	}
}

func (n *notifier) post(calls []hookCall) {
	if len(calls) == 0 {
		return
	}
	if n.closed {
		n.log.Error("notify hooks after the end; dropping these", "event", calls[0].event)
		return
	}
	select {
	case n.jobs <- calls:
	default:
		n.log.Error("notify hooks are falling behind; dropping these", "event", calls[0].event, "backlog", notifyBacklog)
	}
}

// close lets the queued hooks finish; done is closed after the last one.
func (n *notifier) close() {
	if !n.closed {
		n.closed = true
		close(n.jobs)
	}
}

// notifyCalls are the hooks of a transition of an instance or group
// (kind "INSTANCE" or "GROUP"): the hook of the new state, then the
// generic notify with keepalived's four arguments. Every hook gets the
// event in its environment.
func notifyCalls(n lvshcl.VRRPNotify, kind, name string, from, to vrrp.State, prio uint8, reason string) []hookCall {
	env := []string{
		"LVSCTL_VRRP_TYPE=" + kind,
		"LVSCTL_VRRP_NAME=" + name,
		"LVSCTL_VRRP_STATE=" + to.String(),
		"LVSCTL_VRRP_PREVIOUS=" + from.String(),
		"LVSCTL_VRRP_PRIORITY=" + strconv.Itoa(int(prio)),
		"LVSCTL_VRRP_REASON=" + reason,
	}
	var calls []hookCall
	add := func(event string, h *lvshcl.Hook, args []string) {
		if h == nil || len(h.Argv) == 0 {
			return
		}
		calls = append(calls, hookCall{event: event, hook: *h, args: args, env: append([]string{"LVSCTL_EVENT=" + event}, env...)})
	}
	switch to {
	case vrrp.StateMaster:
		add("notify_master", n.Master, nil)
	case vrrp.StateBackup:
		add("notify_backup", n.Backup, nil)
	case vrrp.StateFault:
		add("notify_fault", n.Fault, nil)
	case vrrp.StateStop:
		add("notify_stop", n.Stop, nil)
	}
	// keepalived sends STOP to the generic notify of instances only.
	if to != vrrp.StateStop || kind == "INSTANCE" {
		add("notify", n.Any, []string{kind, name, to.String(), strconv.Itoa(int(prio))})
	}
	return calls
}
