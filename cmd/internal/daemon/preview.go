package daemon

import (
	"context"
	"errors"
	"slices"

	"github.com/lvsctl/lvsctl/checker"
	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/ipvs"
)

// Preview is what a reload with a configuration would change: the ops from
// the daemon's desired table (the running configuration plus every real
// server's health) to the table the configuration gives with the same
// health. A real server down by health stays down: it is not an add. A
// real server the configuration adds is presumed as a reload presumes it
// (up, or down with alpha or a check that tests a role).
type Preview struct {
	Ops []ipvs.Op
	// Conflicts are services of the configuration that exist in the
	// kernel but were not created by lvsctl (without Options.Adopt); the
	// reload would fail on them. Their ops are left out.
	Conflicts []ipvs.ServiceKey
	// Foreign services are in the kernel, not lvsctl's, and left alone.
	Foreign []ipvs.ServiceKey
}

// ErrStopped is returned by Preview when Run has returned.
var ErrStopped = errors.New("the IPVS daemon has stopped")

// Preview computes what reloading cfg would change, on Run's goroutine
// (which owns the health, the configuration and the kernel handle: it
// reads the kernel once, for conflicts). It waits for Run to start.
func (d *Daemon) Preview(ctx context.Context, cfg *lvshcl.Config) (Preview, error) {
	type answer struct {
		p   Preview
		err error
	}
	done := make(chan answer, 1)
	f := func(runCtx context.Context) {
		p, err := d.preview(runCtx, cfg)
		done <- answer{p, err}
	}
	select {
	case d.requests <- f:
	case <-d.stopped:
		return Preview{}, ErrStopped
	case <-ctx.Done():
		return Preview{}, ctx.Err()
	}
	select {
	case a := <-done:
		return a.p, a.err
	case <-ctx.Done():
		return Preview{}, ctx.Err()
	}
}

func (d *Daemon) preview(ctx context.Context, cfg *lvshcl.Config) (Preview, error) {
	var out Preview
	cur := make([]ipvs.VirtualService, 0, len(d.services))
	for _, k := range d.keys {
		s := d.services[k]
		w, _ := d.desired(s)
		cur = append(cur, w)
	}
	// The health of the new configuration's checked servers: as now for
	// those that stay, presumed for new ones.
	hm := map[checker.Target]health{}
	var want []ipvs.VirtualService
	for i, vs := range cfg.Services {
		vs = vs.Normalize()
		if i >= len(cfg.Pools) {
			break
		}
		p := cfg.Pools[i]
		for _, m := range p.Members {
			if m.Check == nil {
				continue
			}
			if h, ok := d.health[m.Check.Target]; ok {
				hm[m.Check.Target] = h
			} else {
				hm[m.Check.Target] = health{up: presumeUp(*m.Check), weight: checker.NoWeight}
			}
		}
		s := service{vs: vs, pool: p}
		up, ok := d.quorumUp[vs.Key]
		if !ok {
			up = initialQuorum(s, hm)
		}
		w, _ := desiredIn(s, hm, up)
		want = append(want, w)
	}

	r := &ipvs.Reconciler{Kernel: d.o.Kernel, Owned: d.o.Owned}
	p, err := r.Plan(ctx, want, d.o.Adopt)
	if err != nil {
		return Preview{}, err
	}
	out.Foreign = p.Foreign
	if !d.o.Adopt {
		out.Conflicts = p.Conflicts
		want = slices.DeleteFunc(want, func(vs ipvs.VirtualService) bool {
			_, found := slices.BinarySearchFunc(out.Conflicts, vs.Key, ipvs.ServiceKey.Compare)
			return found
		})
	}
	out.Ops = ipvs.Diff(cur, want)
	return out, nil
}

// presumeUp is the checker's presumption for a new server of spec: down
// with alpha or a check that tests a role (any of its checks), up otherwise.
func presumeUp(spec checker.Spec) bool { return spec.PresumedUp() }

// loaded tells Options.OnLoad how loading cfg went.
func (d *Daemon) loaded(cfg *lvshcl.Config, ops []ipvs.Op, err error) {
	if d.o.OnLoad != nil {
		d.o.OnLoad(cfg, slices.Clone(ops), err)
	}
}
