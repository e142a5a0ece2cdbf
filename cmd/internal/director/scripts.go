package director

import (
	"context"
	"time"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

// ScriptProber runs a vrrp_script once: up is exit status 0 within its
// timeout; detail says what happened (for the log).
type ScriptProber func(ctx context.Context, s lvshcl.VRRPScript) (up bool, detail string)

// ExecScript runs the script's program without a shell, in a clean
// environment (PATH and LVSCTL_VRRP_SCRIPT), killed with its process group
// after its timeout.
func ExecScript(ctx context.Context, s lvshcl.VRRPScript) (bool, string) {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = max(s.Interval, time.Second)
	}
	out, err := runProgram(ctx, s.Argv, nil, []string{"LVSCTL_VRRP_SCRIPT=" + s.Name}, timeout)
	if err != nil {
		if out != "" {
			return false, err.Error() + ": " + out
		}
		return false, err.Error()
	}
	if out == "" {
		out = "exit status 0"
	}
	return true, out
}

// script is one running vrrp_script.
type script struct {
	spec   lvshcl.VRRPScript
	cancel context.CancelFunc
	done   chan struct{}
	// ready is closed when the script has a state: after its first run
	// (at once with init_fail). Instances that track it start then.
	ready chan struct{}

	// Under Runner.mu.
	up     bool
	known  bool
	detail string
	runs   uint64
}

// runScript runs sc every interval until ctx is done. Its first result
// decides its state, as in keepalived (with init_fail it starts down);
// after that rise consecutive successes bring it up and fall consecutive
// failures down.
func (r *Runner) runScript(ctx context.Context, sc *script) {
	defer close(sc.done)
	spec := sc.spec
	interval := max(spec.Interval, 10*time.Millisecond)
	up, first := false, true
	if spec.InitFail {
		r.scriptState(sc, false, true, "init_fail: down until it succeeds")
		close(sc.ready)
		first = false
	}
	succ, fail := 0, 0
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		start := time.Now()
		ok, detail := r.o.Probe(ctx, spec)
		if ctx.Err() != nil {
			return // stopped: a killed run says nothing about the script
		}
		changed := false
		if ok {
			succ, fail = succ+1, 0
		} else {
			succ, fail = 0, fail+1
		}
		switch {
		case first:
			up, changed, first = ok, true, false
		case !up && succ >= spec.Rise:
			up, changed = true, true
		case up && fail >= spec.Fall:
			up, changed = false, true
		}
		r.scriptState(sc, up, changed, detail)
		if changed && sc.ready != nil {
			select {
			case <-sc.ready:
			default:
				close(sc.ready)
			}
		}
		timer.Reset(max(time.Until(start.Add(interval)), 0))
	}
}

// scriptState records a run of sc and, when its state changed, passes it
// to the instances that track it.
func (r *Runner) scriptState(sc *script, up, changed bool, detail string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.scripts[sc.spec.Name] != sc {
		return // replaced by a reload
	}
	sc.runs++
	sc.detail = detail
	if !changed {
		return
	}
	was, wasKnown := sc.up, sc.known
	sc.up, sc.known = up, true
	switch {
	case up && (!wasKnown || !was):
		r.log.Info("vrrp_script up", "vrrp_script", sc.spec.Name, "detail", detail)
	case !up && (!wasKnown || was):
		r.log.Warn("vrrp_script down", "vrrp_script", sc.spec.Name, "detail", detail)
	}
	r.setTrackedLocked(lvshcl.TrackScript+sc.spec.Name, up)
}
