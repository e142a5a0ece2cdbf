package ipvs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Ownership keeps the record of which services lvsctl owns, so that it
// edits and deletes only those. StateFile keeps it on disk.
type Ownership interface {
	Load() (Record, error)
	Save(Record) error
}

// Record is the ownership record. A key is owned once the kernel has
// accepted the write that created (or the decision that adopted) its
// service; before its first write, Apply records the keys it may create as
// intended. A key that is intended but never confirmed (the apply was
// killed) is not owned: Plan takes it over only if the service found there
// is one the interrupted apply could have left (see Reconciler.Plan).
type Record struct {
	// Owned keys are confirmed: lvsctl created or adopted these services.
	Owned []ServiceKey
	// Intended keys may have been created by an apply that did not finish.
	Intended []ServiceKey
}

func (r Record) normalize() Record {
	return Record{Owned: sortedSet(r.Owned), Intended: sortedSet(r.Intended)}
}

func (r Record) equal(o Record) bool {
	return slices.Equal(r.Owned, o.Owned) && slices.Equal(r.Intended, o.Intended)
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
	// Unconfirmed are the Conflicts whose keys an interrupted apply
	// intended to create: what is there now may be its work or someone
	// else's, and differs from the desired table, so it is not taken over.
	Unconfirmed []ServiceKey
	// Recovered services were intended by an interrupted apply, exist, and
	// are consistent with the desired table (same service attributes, every
	// real server one the table has, as is): Apply takes them over.
	Recovered []ServiceKey
	// Adopted conflicts are taken over: edited to match the config and
	// owned from now on.
	Adopted bool

	loaded Record           // the ownership record as loaded, normalized
	taken  []ServiceKey     // owned after this apply's decision, before any write
	before []VirtualService // kernel state of every service the ops may touch
	want   []ServiceKey     // keys of the desired table
}

// Pending reports whether Apply has anything to do: ops to make, conflicts
// to refuse or adopt, or an ownership record to rewrite (services to take
// over, intended keys to settle, owned keys that name nothing any more).
func (p *Plan) Pending() bool {
	return len(p.Ops) > 0 || len(p.Conflicts) > 0 || !p.loaded.equal(Record{Owned: p.want})
}

// intent is the record Apply writes before its first op: the keys owned
// now (including what this plan takes over) and, as intended, every other
// key it may create.
func (p *Plan) intent() Record {
	return Record{Owned: p.taken, Intended: setMinus(p.want, p.taken)}
}

// ErrConflict is returned by Apply when the desired table names services
// that exist in the kernel but are not owned, and adoption was not asked.
var ErrConflict = errors.New("services exist in the kernel but were not created by lvsctl")

// Plan dumps the kernel once and computes the ops that converge it to
// desired. With adopt, services that exist but are not owned are taken over
// instead of reported as conflicts.
//
// A key the record holds as intended but not confirmed (an apply was
// killed before it confirmed its writes) is not owned. If a service exists
// there, Plan takes it over only when it is consistent with desired: the
// same service attributes, and each of its real servers one that desired
// lists, with the same attributes. That is all an interrupted apply of this
// table can have left, so re-applying converges. Anything else there is a
// conflict (listed in Unconfirmed too), and a key desired no longer names
// is foreign: neither is ever edited or deleted without adopt.
func (r *Reconciler) Plan(ctx context.Context, desired []VirtualService, adopt bool) (*Plan, error) {
	kernel, err := r.Kernel.Services(ctx)
	if err != nil {
		return nil, fmt.Errorf("read IPVS table: %w", err)
	}
	rec, err := r.Owned.Load()
	if err != nil {
		return nil, fmt.Errorf("load ownership record: %w", err)
	}
	rec = rec.normalize()
	isOwned := make(map[ServiceKey]bool, len(rec.Owned))
	for _, k := range rec.Owned {
		isOwned[k] = true
	}
	intended := make(map[ServiceKey]bool, len(rec.Intended))
	for _, k := range rec.Intended {
		intended[k] = true
	}
	want := make(map[ServiceKey]int, len(desired))
	p := &Plan{loaded: rec, Adopted: adopt}
	for i, s := range desired {
		k := s.Key.normalize()
		want[k] = i
		p.want = append(p.want, k)
	}
	p.want = sortedSet(p.want)
	taken := slices.Clone(rec.Owned)
	var current []VirtualService
	for _, s := range kernel {
		k := s.Key.normalize()
		i, wanted := want[k]
		switch {
		case isOwned[k]:
			current = append(current, s)
		case wanted && intended[k] && consistent(s, desired[i]):
			p.Recovered = append(p.Recovered, k)
			taken = append(taken, k)
			current = append(current, s)
		case wanted:
			p.Conflicts = append(p.Conflicts, k)
			if intended[k] {
				p.Unconfirmed = append(p.Unconfirmed, k)
			}
			if adopt {
				taken = append(taken, k)
				current = append(current, s)
			}
		default:
			p.Foreign = append(p.Foreign, k)
		}
	}
	slices.SortFunc(p.Foreign, ServiceKey.Compare)
	slices.SortFunc(p.Conflicts, ServiceKey.Compare)
	slices.SortFunc(p.Unconfirmed, ServiceKey.Compare)
	slices.SortFunc(p.Recovered, ServiceKey.Compare)
	p.taken = sortedSet(taken)
	if len(p.Conflicts) > 0 && !adopt {
		// Leave the conflicting services out of the diff entirely so the
		// plan shows only what apply could do once they are resolved.
		var ours []VirtualService
		for _, s := range desired {
			if _, found := slices.BinarySearchFunc(p.Conflicts, s.Key.normalize(), ServiceKey.Compare); !found {
				ours = append(ours, s)
			}
		}
		desired = ours
	}
	p.before = current
	p.Ops = Diff(current, desired)
	return p, nil
}

// consistent reports whether the kernel's service have is what applying
// want can leave when interrupted: want's service attributes, and only real
// servers of want, each with want's attributes.
func consistent(have, want VirtualService) bool {
	have, want = have.Normalize(), want.Normalize()
	if !SameAttributes(have, want) {
		return false
	}
	for _, r := range have.RealServers {
		i, found := slices.BinarySearchFunc(want.RealServers, r.Key(), func(w RealServer, k RealKey) int { return w.Key().Compare(k) })
		if !found || want.RealServers[i] != r {
			return false
		}
	}
	return true
}

// Result is what Apply did.
type Result struct {
	// Applied counts the ops the kernel accepted (before any rollback).
	Applied int
	// RolledBack counts the ops that undid a failed apply.
	RolledBack int
}

// Apply performs p. Before the first write it records every key it may
// create as intended (not owned), and the services it takes over as owned;
// once the kernel has accepted every op it rewrites the record with exactly
// the desired keys owned. A killed apply thus leaves a valid record that
// owns nothing it did not confirm. Each write of the record is skipped
// when it would not change it, so a converged re-apply writes nothing.
//
// If the kernel rejects an op, Apply undoes the ops already made
// (restoring every touched service to its state at Plan time) and the
// record as loaded, and returns the rejection: a table is never left
// half-applied. The kernel must not have been changed by anyone else since
// Plan.
func (r *Reconciler) Apply(ctx context.Context, p *Plan) (Result, error) {
	if len(p.Conflicts) > 0 && !p.Adopted {
		names := make([]string, len(p.Conflicts))
		for i, k := range p.Conflicts {
			names[i] = k.String()
		}
		hint := "remove them, or adopt them with --adopt"
		if len(p.Unconfirmed) > 0 {
			hint = fmt.Sprintf("an interrupted apply may have created %d of them, but they differ from the configuration; %s", len(p.Unconfirmed), hint)
		}
		return Result{}, fmt.Errorf("%w: %s (%s)", ErrConflict, strings.Join(names, ", "), hint)
	}
	intent := p.intent()
	if err := r.save(p.loaded, intent); err != nil {
		return Result{}, err
	}
	n, err := r.Kernel.Apply(ctx, p.Ops)
	n += appliedAfter(err)
	res := Result{Applied: n}
	if err == nil {
		if err := r.save(intent, Record{Owned: p.want}); err != nil {
			return res, err
		}
		return res, nil
	}
	var oe *OpError
	if n == 0 && errors.As(err, &oe) {
		// A clean rejection of the first op: nothing was applied.
		if serr := r.save(intent, p.loaded); serr != nil {
			return res, errors.Join(err, serr)
		}
		return res, err
	}
	undone, rerr := r.rollback(context.WithoutCancel(ctx), p, union(intent.Owned, intent.Intended))
	res.RolledBack = undone
	if rerr != nil {
		return res, errors.Join(err, fmt.Errorf("roll back %d applied ops: %w (the ownership record keeps every service it may have created as intended)", n, rerr))
	}
	if serr := r.save(intent, p.loaded); serr != nil {
		return res, errors.Join(err, serr)
	}
	return res, fmt.Errorf("%w (rolled back the %d ops already applied)", err, n)
}

// save writes rec unless the record is already old.
func (r *Reconciler) save(old, rec Record) error {
	rec = rec.normalize()
	if rec.equal(old.normalize()) {
		return nil
	}
	if err := r.Owned.Save(rec); err != nil {
		return fmt.Errorf("record ownership: %w", err)
	}
	return nil
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
	return sortedSet(slices.Concat(a, b))
}

// sortedSet returns keys sorted without duplicates, in a new slice.
func sortedSet(keys []ServiceKey) []ServiceKey {
	if len(keys) == 0 {
		return nil
	}
	out := slices.Clone(keys)
	slices.SortFunc(out, ServiceKey.Compare)
	return slices.Compact(out)
}

// setMinus returns the keys of a, a sorted set, that b, a sorted set, lacks.
func setMinus(a, b []ServiceKey) []ServiceKey {
	var out []ServiceKey
	for _, k := range a {
		if _, found := slices.BinarySearchFunc(b, k, ServiceKey.Compare); !found {
			out = append(out, k)
		}
	}
	return out
}

// Destruction measures how much of a table a change deletes: the services
// it deletes of those there are, and, for each service that stays, the
// real servers it deletes of those the service has. Apply and reload refuse
// a change that is Excessive unless told otherwise: a truncated or wrong
// file looks like a mass delete.
type Destruction struct {
	// Services is how many services there are; Deleted names (Name, or
	// the key when unnamed) those the change deletes, in Diff's order.
	Services int
	Deleted  []string
	// Reals lists the services that stay and lose more than half of their
	// real servers.
	Reals []RealsDestroyed
}

// RealsDestroyed is one service that loses more than half of its real
// servers.
type RealsDestroyed struct {
	Service string // Name, or the key when unnamed
	Key     ServiceKey
	Deleted int
	Of      int
}

// Destroys measures the change from current to desired (compared as Diff
// does): pass the configured tables, not what health made of them, so
// that real servers down by health do not count.
//
// It gives what measuring Diff's ops gives (TestDestroysIsDiffs) without
// diffing: only the deletes count, so a service whose real servers have
// the keys they had is passed over, and only the services that lose real
// servers are normalized and compared.
func Destroys(current, desired []VirtualService) Destruction {
	d := Destruction{Services: len(current)}
	cur := make(map[ServiceKey]int, len(current)) // later duplicates win, as in Diff
	for i, s := range current {
		cur[s.Key.normalize()] = i
	}
	want := make(map[ServiceKey]int, len(desired))
	for i, s := range desired {
		want[s.Key.normalize()] = i
	}
	var deleted []ServiceKey
	var reals []RealsDestroyed
	for k, i := range cur {
		j, stays := want[k]
		if !stays {
			deleted = append(deleted, k)
			continue
		}
		c, w := current[i], desired[j]
		if sameRealKeys(c.RealServers, w.RealServers) {
			continue
		}
		wn := w.Normalize()
		del, _, _ := diffReals(wn, c.Normalize().RealServers, wn.RealServers)
		if of := len(c.RealServers); 2*len(del) > of {
			reals = append(reals, RealsDestroyed{Service: displayName(wn), Key: k, Deleted: len(del), Of: of})
		}
	}
	slices.SortFunc(deleted, ServiceKey.Compare)
	for _, k := range deleted {
		s := current[cur[k]]
		s.Key = k
		d.Deleted = append(d.Deleted, displayName(s))
	}
	slices.SortFunc(reals, func(a, b RealsDestroyed) int { return a.Key.Compare(b.Key) })
	d.Reals = reals
	return d
}

// sameRealKeys reports whether a and b list real servers of the same
// keys (as Normalize leaves them) in the same order: then Diff deletes
// none of a's.
func sameRealKeys(a, b []RealServer) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Port != b[i].Port || a[i].Addr.Unmap() != b[i].Addr.Unmap() {
			return false
		}
	}
	return true
}

// Destruction measures the plan's ops against the owned services as the
// kernel holds them.
func (p *Plan) Destruction() Destruction {
	return destruction(p.before, p.Ops)
}

func destruction(before []VirtualService, ops []Op) Destruction {
	d := Destruction{Services: len(before)}
	reals := make(map[ServiceKey]int, len(before))
	for _, s := range before {
		reals[s.Key.normalize()] = len(s.RealServers)
	}
	deleted := map[ServiceKey]int{}
	var order []VirtualService
	for _, op := range ops {
		k := op.Service.Key.normalize()
		switch op.Kind {
		case DeleteService:
			d.Deleted = append(d.Deleted, displayName(op.Service))
		case DeleteRealServer:
			if deleted[k] == 0 {
				order = append(order, op.Service)
			}
			deleted[k]++
		}
	}
	for _, s := range order {
		k := s.Key.normalize()
		if of := reals[k]; 2*deleted[k] > of {
			d.Reals = append(d.Reals, RealsDestroyed{Service: displayName(s), Key: k, Deleted: deleted[k], Of: of})
		}
	}
	return d
}

func displayName(s VirtualService) string {
	if s.Name != "" {
		return s.Name
	}
	return s.Key.String()
}

// Excessive reports whether the change deletes more than half of the
// services, or more than half of the real servers of a service that stays.
func (d Destruction) Excessive() bool {
	return 2*len(d.Deleted) > d.Services || len(d.Reals) > 0
}

// String says what an excessive change deletes, such as "would delete 3
// of 4 owned services (web, db, api)" or "would delete 3 of 4 real servers
// of web (TCP 10.0.0.1:80)"; it is empty when the change is not excessive.
func (d Destruction) String() string {
	var parts []string
	if 2*len(d.Deleted) > d.Services {
		names := d.Deleted
		more := ""
		if len(names) > 10 {
			names, more = names[:10], fmt.Sprintf(", and %d more", len(d.Deleted)-10)
		}
		parts = append(parts, fmt.Sprintf("would delete %d of %d owned services (%s%s)", len(d.Deleted), d.Services, strings.Join(names, ", "), more))
	}
	for i, r := range d.Reals {
		if i == 10 {
			parts = append(parts, fmt.Sprintf("and %d more services losing more than half of their real servers", len(d.Reals)-10))
			break
		}
		name := r.Service
		if name != r.Key.String() {
			name += " (" + r.Key.String() + ")"
		}
		parts = append(parts, fmt.Sprintf("would delete %d of %d real servers of %s", r.Deleted, r.Of, name))
	}
	return strings.Join(parts, "; ")
}
