package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/lvsctl/lvsctl/cmd/internal/statusapi"
	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/ipvs"
)

// This file is how a running `lvsctl run` takes new configurations: SIGHUP
// (watchReload) and `lvsctl plan` / `lvsctl apply` through its status
// socket. Every configuration goes through submit, which refuses what looks
// like a mistake (guard) before the director, and so VRRP, sees anything.

// reloadWait bounds how long an apply through the socket waits for the
// daemon to report the outcome of the configuration it handed over.
const reloadWait = 4 * time.Minute

// loadOutcome is what the IPVS daemon reported for one configuration.
type loadOutcome struct {
	ops []ipvs.Op
	err error
}

// destroyError refuses a change that deletes too much.
type destroyError struct{ d ipvs.Destruction }

func (e *destroyError) Error() string {
	return "it " + e.d.String() + "; pass --allow-destroy or set allow_destroy = true"
}

// emptyError refuses a file that configures nothing a director runs.
type emptyError struct{ file string }

func (e *emptyError) Error() string {
	return fmt.Sprintf("%s has no virtual_server and no vrrp_instance (a backend's realserver file?); "+
		"applied, it would delete every service lvsctl owns and stop VRRP; if that is meant, set allow_empty = true", e.file)
}

// guard judges cfg as a replacement of current (the configured tables,
// not what health made of them): it refuses a file that configures nothing
// unless it says allow_empty = true, and a change that deletes more than
// half of the owned services, or of a service's real servers, unless
// allowDestroy (--allow-destroy) or allow_destroy = true. The empty file
// itself is refused by its decode (hcl/guard.go); a file with only a
// realserver block is refused here.
func guard(file string, current []ipvs.VirtualService, cfg *lvshcl.Config, allowDestroy bool) error {
	if cfg.Empty() {
		if !cfg.Guard.AllowEmpty {
			return &emptyError{file: file}
		}
		return nil // allow_empty says that deleting everything is meant
	}
	if d := ipvs.Destroys(current, cfg.Services); d.Excessive() && !allowDestroy && !cfg.Guard.AllowDestroy {
		return &destroyError{d: d}
	}
	return nil
}

// submit hands cfg to the director as a reload once guard accepts it,
// and makes it the configuration later reloads are judged against. The
// caller holds reloadMu.
func (o *runOps) submit(ctx context.Context, file string, cfg *lvshcl.Config, allowDestroy bool) error {
	o.mu.Lock()
	current := o.current
	o.mu.Unlock()
	var cur []ipvs.VirtualService
	if current != nil {
		cur = current.Services
	}
	if err := guard(file, cur, cfg, allowDestroy); err != nil {
		return err
	}
	select {
	case o.reloadCh <- cfg:
	case <-ctx.Done():
		return ctx.Err()
	case <-o.ctx.Done():
		return errors.New("lvsctl run is stopping")
	}
	o.mu.Lock()
	o.current = cfg
	o.mu.Unlock()
	o.alerts.Load(cfg.Alert) // run.go: the alert_email of the running configuration
	return nil
}

// expect registers a wait for the IPVS daemon's outcome of cfg; call the
// returned cancel when done waiting.
func (o *runOps) expect(cfg *lvshcl.Config) (<-chan loadOutcome, func()) {
	ch := make(chan loadOutcome, 1)
	o.mu.Lock()
	if o.waiters == nil {
		o.waiters = map[*lvshcl.Config]chan loadOutcome{}
	}
	o.waiters[cfg] = ch
	o.mu.Unlock()
	return ch, func() {
		o.mu.Lock()
		delete(o.waiters, cfg)
		o.mu.Unlock()
	}
}

// daemonLoaded is the IPVS daemon's Options.OnLoad.
func (o *runOps) daemonLoaded(cfg *lvshcl.Config, ops []ipvs.Op, err error) {
	o.mu.Lock()
	ch := o.waiters[cfg]
	delete(o.waiters, cfg)
	o.mu.Unlock()
	if ch != nil {
		ch <- loadOutcome{ops: ops, err: err}
	}
}

// decodeRequest parses req's bytes under the daemon's limits into out's
// diagnostics; cfg is nil when the file has errors.
func (o *runOps) decodeRequest(ctx context.Context, req statusapi.ConfigRequest, out *statusapi.Plan) *lvshcl.Config {
	cfg, files, diags := o.opt.hclOptions().Parse(req.Source, req.File)
	if !diags.HasErrors() {
		// What the running kernel lacks, as plan and apply without a
		// daemon report it.
		diags = append(diags, kernelLacks(ctx, o.probe, cfg)...)
	}
	if len(diags) > 0 {
		var buf bytes.Buffer
		max := o.opt.maxErrors
		if max == 0 {
			max = lvshcl.DefaultMaxDiagnostics
		}
		_ = lvshcl.RenderDiagnostics(ctx, &buf, files, diags, max)
		out.Diagnostics = buf.String()
	}
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			out.Errors++
		}
	}
	if out.Errors > 0 {
		return nil
	}
	return cfg
}

func newDaemonPlan() statusapi.Plan {
	return statusapi.Plan{Source: statusapi.SourceDaemon, Ops: []statusapi.Op{}, Conflicts: []string{}, Foreign: []string{}}
}

// planConfig answers POST /v1/plan: what a reload with the request's file
// would change, from the daemon's desired table with the same health.
func (o *runOps) planConfig(ctx context.Context, req statusapi.ConfigRequest) (statusapi.Plan, error) {
	out := newDaemonPlan()
	cfg := o.decodeRequest(ctx, req, &out)
	if cfg == nil {
		return out, nil
	}
	o.mu.Lock()
	current := o.current
	o.mu.Unlock()
	var cur []ipvs.VirtualService
	if current != nil {
		cur = current.Services
	}
	var de *destroyError
	switch err := guard(req.File, cur, cfg, req.AllowDestroy); {
	case errors.As(err, &de):
		out.Refused = de.d.String()
	case err != nil: // a backend's file
		out.Errors = 1
		out.Diagnostics = "lvsctl: refused: " + err.Error() + "\n"
		return out, nil
	}
	var ops []ipvs.Op
	if dm := o.daemon.Load(); dm != nil {
		pv, err := dm.Preview(ctx, cfg)
		if err != nil {
			return statusapi.Plan{}, fmt.Errorf("plan: %w", err)
		}
		ops = pv.Ops
		out.Conflicts = keyStrings(pv.Conflicts)
		out.Foreign = keyStrings(pv.Foreign)
	} else {
		// VRRP only: no IPVS table yet.
		ops = ipvs.Diff(nil, cfg.Services)
	}
	out.Ops, out.Changes = jsonOps(ops)
	return out, nil
}

// applyConfig answers POST /v1/apply: a reload with the request's file,
// judged as a SIGHUP's is, answered once the daemon applied it.
func (o *runOps) applyConfig(ctx context.Context, req statusapi.ConfigRequest) (statusapi.Plan, error) {
	o.reloadMu.Lock()
	defer o.reloadMu.Unlock()
	out := newDaemonPlan()
	o.log.Info("apply through the socket: reloading", "config", req.File)
	o.reloading()
	cfg := o.decodeRequest(ctx, req, &out)
	if cfg == nil {
		err := fmt.Errorf("%s: %s; kept the running configuration", req.File, plural(out.Errors, "error"))
		out.Error = err.Error()
		o.reloadedVia("apply", req.File, err)
		o.log.Error("reload refused; keeping the running configuration",
			"config", req.File, "via", "apply", "reason", "invalid file", "errors", out.Errors, "diagnostics", strings.TrimSpace(out.Diagnostics))
		return out, nil
	}
	waitIPVS := o.daemon.Load() != nil || needsIPVS(cfg)
	var outcome <-chan loadOutcome
	if waitIPVS {
		var cancel func()
		outcome, cancel = o.expect(cfg)
		defer cancel()
	}
	if err := o.submit(ctx, req.File, cfg, req.AllowDestroy); err != nil {
		var de *destroyError
		if errors.As(err, &de) {
			out.Refused = de.d.String()
		}
		out.Error = "refused: " + err.Error() + "; kept the running configuration"
		o.reloadedVia("apply", req.File, err)
		o.log.Error("reload refused; keeping the running configuration", "config", req.File, "via", "apply", "err", err)
		return out, nil
	}
	o.reloadedVia("apply", req.File, nil)
	if !waitIPVS {
		out.Applied = true
		return out, nil
	}
	timeout := time.NewTimer(reloadWait)
	defer timeout.Stop()
	select {
	case res := <-outcome:
		out.Ops, out.Changes = jsonOps(res.ops)
		if res.err != nil {
			out.Error = res.err.Error()
			return out, nil
		}
		out.Applied = true
		return out, nil
	case <-timeout.C:
		return out, fmt.Errorf("handed %s to the daemon, which did not report within %s: see its log", req.File, reloadWait)
	case <-ctx.Done():
		return out, ctx.Err()
	case <-o.ctx.Done():
		return out, errors.New("lvsctl run is stopping")
	}
}

func keyStrings(keys []ipvs.ServiceKey) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.String()
	}
	return out
}

// jsonOps converts ops for plan -o json and the socket.
func jsonOps(ops []ipvs.Op) ([]statusapi.Op, statusapi.Changes) {
	out := make([]statusapi.Op, len(ops))
	var c statusapi.Changes
	for i, op := range ops {
		o := statusapi.Op{Kind: opKind(op.Kind), Service: op.Service.Name, Key: op.Service.Key.String(), Text: op.String()}
		switch op.Kind {
		case ipvs.AddRealServer, ipvs.EditRealServer, ipvs.DeleteRealServer:
			o.RealServer = op.Real.Key().String()
		}
		c.Count(o.Kind)
		out[i] = o
	}
	return out, c
}

func opKind(k ipvs.OpKind) string {
	switch k {
	case ipvs.AddService:
		return statusapi.OpAddService
	case ipvs.EditService:
		return statusapi.OpEditService
	case ipvs.DeleteService:
		return statusapi.OpDeleteService
	case ipvs.AddRealServer:
		return statusapi.OpAddRealServer
	case ipvs.EditRealServer:
		return statusapi.OpEditRealServer
	case ipvs.DeleteRealServer:
		return statusapi.OpDeleteRealServer
	}
	return k.String()
}
