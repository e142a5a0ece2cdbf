package ipvs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Ownership is the record of which services lvsctl created, so that it
// edits and deletes only those. StateFile keeps it on disk.
type Ownership interface {
	Load() ([]ServiceKey, error)
	Save([]ServiceKey) error
}

// Reconciler converges the services it owns in a Kernel to a desired table.
type Reconciler struct {
	Kernel Kernel
	Owned  Ownership
}

// Plan is what Reconciler.Plan found: the ops to apply and the services it
// will not touch.
type Plan struct {
	// Ops converge the owned services to the desired table.
	Ops []Op
	// Foreign services exist in the kernel, are not owned and not in the
	// desired table: they are left alone.
	Foreign []ServiceKey
	// Conflicts are desired services that already exist in the kernel but
	// were not created by lvsctl. Apply refuses them unless adopted.
	Conflicts []ServiceKey
	// Adopted conflicts are taken over: edited to match the config and
	// owned from now on.
	Adopted bool

	owned  []ServiceKey     // the ownership record as loaded
	before []VirtualService // kernel state of every service the ops may touch
	want   []ServiceKey     // keys of the desired table
}

// ErrConflict is returned by Apply when the desired table names services
// that exist in the kernel but are not owned, and adoption was not asked.
var ErrConflict = errors.New("services exist in the kernel but were not created by lvsctl")

// Plan dumps the kernel once and computes the ops that converge it to
// desired. With adopt, services that exist but are not owned are taken over
// instead of reported as conflicts.
func (r *Reconciler) Plan(ctx context.Context, desired []VirtualService, adopt bool) (*Plan, error) {
	kernel, err := r.Kernel.Services(ctx)
	if err != nil {
		return nil, fmt.Errorf("read IPVS table: %w", err)
	}
	owned, err := r.Owned.Load()
	if err != nil {
		return nil, fmt.Errorf("load ownership record: %w", err)
	}
	isOwned := make(map[ServiceKey]bool, len(owned))
	for _, k := range owned {
		isOwned[k] = true
	}
	want := make(map[ServiceKey]bool, len(desired))
	p := &Plan{owned: owned, Adopted: adopt}
	for _, s := range desired {
		k := s.Key.normalize()
		want[k] = true
		p.want = append(p.want, k)
	}
	var current []VirtualService
	for _, s := range kernel {
		k := s.Key.normalize()
		switch {
		case isOwned[k]:
			current = append(current, s)
		case want[k]:
			p.Conflicts = append(p.Conflicts, k)
			if adopt {
				current = append(current, s)
			}
		default:
			p.Foreign = append(p.Foreign, k)
		}
	}
	slices.SortFunc(p.Foreign, ServiceKey.Compare)
	slices.SortFunc(p.Conflicts, ServiceKey.Compare)
	if len(p.Conflicts) > 0 && !adopt {
		// Leave the conflicting services out of the diff entirely so the
		// plan shows only what apply could do once they are resolved.
		var ours []VirtualService
		for _, s := range desired {
			if !slices.Contains(p.Conflicts, s.Key.normalize()) {
				ours = append(ours, s)
			}
		}
		desired = ours
	}
	p.before = current
	p.Ops = Diff(current, desired)
	return p, nil
}

// Result is what Apply did.
type Result struct {
	// Applied counts the ops the kernel accepted (before any rollback).
	Applied int
	// RolledBack counts the ops that undid a failed apply.
	RolledBack int
}

// Apply performs p. It records ownership of every service it may create
// before the first write, so a crash never leaves an unowned service
// behind. If the kernel rejects an op, Apply undoes the ops already made
// (restoring every touched service to its state at Plan time) and returns
// the rejection: a table is never left half-applied. The kernel must not
// have been changed by anyone else since Plan.
func (r *Reconciler) Apply(ctx context.Context, p *Plan) (Result, error) {
	if len(p.Conflicts) > 0 && !p.Adopted {
		names := make([]string, len(p.Conflicts))
		for i, k := range p.Conflicts {
			names[i] = k.String()
		}
		return Result{}, fmt.Errorf("%w: %s (remove them, or adopt them with --adopt)", ErrConflict, strings.Join(names, ", "))
	}
	intent := union(p.owned, p.want)
	if err := r.Owned.Save(intent); err != nil {
		return Result{}, fmt.Errorf("record ownership: %w", err)
	}
	n, err := r.Kernel.Apply(ctx, p.Ops)
	n += appliedAfter(err)
	res := Result{Applied: n}
	if err == nil {
		if err := r.Owned.Save(p.want); err != nil {
			return res, fmt.Errorf("record ownership: %w", err)
		}
		return res, nil
	}
	var oe *OpError
	if n == 0 && errors.As(err, &oe) {
		// A clean rejection of the first op: nothing was applied.
		if serr := r.Owned.Save(p.owned); serr != nil {
			return res, errors.Join(err, fmt.Errorf("record ownership: %w", serr))
		}
		return res, err
	}
	undone, rerr := r.rollback(context.WithoutCancel(ctx), p, intent)
	res.RolledBack = undone
	if rerr != nil {
		return res, errors.Join(err, fmt.Errorf("roll back %d applied ops: %w (the ownership record keeps every service it may have created)", n, rerr))
	}
	if serr := r.Owned.Save(p.owned); serr != nil {
		return res, errors.Join(err, fmt.Errorf("record ownership: %w", serr))
	}
	return res, fmt.Errorf("%w (rolled back the %d ops already applied)", err, n)
}

// rollback restores the services named in keys to their state at Plan time.
func (r *Reconciler) rollback(ctx context.Context, p *Plan, keys []ServiceKey) (int, error) {
	now, err := r.Kernel.Services(ctx)
	if err != nil {
		return 0, fmt.Errorf("read IPVS table: %w", err)
	}
	touched := make(map[ServiceKey]bool, len(keys))
	for _, k := range keys {
		touched[k] = true
	}
	var current []VirtualService
	for _, s := range now {
		if touched[s.Key.normalize()] {
			current = append(current, s)
		}
	}
	undo := Diff(current, p.before)
	return r.Kernel.Apply(ctx, undo)
}

func union(a, b []ServiceKey) []ServiceKey {
	out := slices.Concat(a, b)
	slices.SortFunc(out, ServiceKey.Compare)
	return slices.Compact(out)
}
