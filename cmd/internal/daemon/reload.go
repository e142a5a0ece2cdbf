package daemon

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/lvsctl/lvsctl/ipvs"
)

// A reload is written from memory, as a health reconcile is: the new
// desired table is diffed against what the daemon last applied (applied),
// and only the difference goes to the kernel, through the Reconciler (the
// ownership record's intended and owned keys, and the rollback of a
// rejected change, are the same as with a dump). No dump: a one-line edit
// of a 50k-object file is one write, not a dump of the whole table. Drift
// (a change someone made behind lvsctl's back) is left to the periodic
// resync, which runs ReloadResync after such a reload.
//
// The view from memory is used only when it can be trusted; otherwise the
// reload dumps, as at start:
//   - the latest write was accepted and the latest resync found no drift
//     (tableKnown);
//   - the ownership record owns exactly the services applied holds, and
//     intends nothing (a killed or failed apply left no doubt);
//   - every service the reload adds is absent from the kernel, asked one
//     by one (a foreign service at that key is a conflict, which only a
//     dump classifies); with more additions than half the table, one dump
//     is cheaper, and a kernel that cannot be asked for one service dumps.
//
// If the kernel rejects the change, the Reconciler undoes what it had
// applied (reading back only the services it touched) and the reload is
// retried once with a dump: the outcome, an error included, is the one a
// dump would have had on the table as it is.

// DefaultReloadResync is the default Options.ReloadResync.
const DefaultReloadResync = 2 * time.Second

// serviceGetter reads one service by key (ipvs.Netlink does); the error
// matches ipvs.ErrNoService when there is none.
type serviceGetter interface {
	ListService(ctx context.Context, k ipvs.ServiceKey) (ipvs.ListedService, error)
}

// rawKernel is Options.Kernel without the daemon's own wrapper (Observe's),
// for the optional interfaces the wrapper does not forward.
func (d *Daemon) rawKernel() ipvs.Kernel {
	if c, ok := d.o.Kernel.(countingKernel); ok {
		return c.Kernel
	}
	return d.o.Kernel
}

// applyReload converges the kernel to the configuration just loaded. It
// reports whether it read the whole table (and so repaired any drift).
func (d *Daemon) applyReload(ctx context.Context) (dumped bool, err error) {
	start := d.o.Clock.Now()
	ok, err := d.reloadFromMemory(ctx)
	if ok {
		d.stats.MemoryReloads++
		d.passed(PassLoad, start)
		return false, err
	}
	if err != nil {
		d.log.Warn("reload: the kernel refused the change written from memory; applying it again after a dump", errAttrs(err)...)
	}
	return true, d.resync(ctx, true)
}

// reloadFromMemory is applyReload without a dump. It returns false, having
// written nothing or undone it, when the reload must dump instead (with the
// kernel's refusal, if that is why); true once the kernel accepted the
// change (err is then the timeouts', which the table does not depend on).
func (d *Daemon) reloadFromMemory(ctx context.Context) (bool, error) {
	if !d.tableKnown {
		return false, nil
	}
	rec, err := d.o.Owned.Load()
	if err == nil && !slices.IsSortedFunc(rec.Owned, ipvs.ServiceKey.Compare) {
		rec.Owned = slices.Clone(rec.Owned) // as the Reconciler normalizes it
		slices.SortFunc(rec.Owned, ipvs.ServiceKey.Compare)
	}
	if err != nil || len(rec.Intended) > 0 || !sameKeys(rec.Owned, d.applied) {
		return false, nil
	}
	// Only the services whose entry changes go to the Reconciler: the
	// others are owned and stay as they are, and planning the whole table
	// would cost as much as the rest of the reload.
	var want, cur []ipvs.VirtualService
	var added, changed []ipvs.ServiceKey
	for _, k := range d.keys {
		s := d.services[k]
		w, _ := d.desired(s)
		if s.pool.SorryServer != nil {
			// Otherwise w is s.vs, normalized, less some real
			// servers and with other weights: still normalized.
			w = w.Normalize()
		}
		a, ok := d.applied[k]
		switch {
		case !ok:
			added = append(added, k)
		case sameEntry(a, w):
			continue
		default:
			cur = append(cur, a)
		}
		changed = append(changed, k)
		want = append(want, w)
	}
	for k, a := range d.applied { // Diff orders what it writes
		if _, ok := d.services[k]; !ok {
			cur = append(cur, a) // removed
			changed = append(changed, k)
		}
	}
	if !d.absent(ctx, added) {
		return false, nil
	}
	// The Reconciler plans against cur instead of a dump, and reads the
	// kernel only to roll back.
	own := newSubsetOwnership(d.o.Owned, rec, changed)
	r := &ipvs.Reconciler{Kernel: &dumpedKernel{Kernel: d.o.Kernel, svcs: cur}, Owned: own}
	p, err := r.Plan(ctx, want, d.o.Adopt)
	if err != nil || len(p.Conflicts) > 0 || len(p.Recovered) > 0 || len(p.Foreign) > 0 {
		return false, nil // cannot be: cur is owned and holds only desired keys or owned ones
	}
	for i := range p.Ops {
		if s := &p.Ops[i].Service; s.Name == "" {
			s.Name = d.nameOf(s.Key)
		}
	}
	res, err := r.Apply(ctx, p)
	d.stats.Writes += res.Applied
	if err != nil {
		d.tableKnown = false
		return false, err
	}
	d.lastOps = p.Ops
	for _, op := range p.Ops {
		d.log.Info("applied", opAttrs(op)...)
	}
	for _, k := range changed {
		delete(d.applied, k)
	}
	for _, w := range want {
		d.applied[w.Key] = w
	}
	return true, d.setTimeouts(ctx, true)
}

// absent reports whether the kernel holds none of keys, asking for each:
// false if it cannot tell cheaper than a dump.
func (d *Daemon) absent(ctx context.Context, keys []ipvs.ServiceKey) bool {
	if len(keys) == 0 {
		return true
	}
	g, ok := d.rawKernel().(serviceGetter)
	// A dump is a request per service plus one; a look-up is two.
	if !ok || 2*len(keys) > len(d.applied)+1 {
		return false
	}
	for _, k := range keys {
		if _, err := g.ListService(ctx, k); !errors.Is(err, ipvs.ErrNoService) {
			return false // there, or unknown
		}
	}
	return true
}

// sameKeys reports whether owned names exactly the keys of applied.
func sameKeys(owned []ipvs.ServiceKey, applied map[ipvs.ServiceKey]ipvs.VirtualService) bool {
	if len(owned) != len(applied) {
		return false
	}
	for i, k := range owned {
		if _, ok := applied[normKey(k)]; !ok {
			return false
		}
		// Sorted: a key twice would hide a key missing.
		if i > 0 && ipvs.ServiceKey.Compare(owned[i-1], k) >= 0 {
			return false
		}
	}
	return true
}

// sameEntry reports whether a and b, both normalized, are the same table
// entry, names included.
func sameEntry(a, b ipvs.VirtualService) bool {
	return a.Name == b.Name && a.Key == b.Key && ipvs.SameAttributes(a, b) && slices.Equal(a.RealServers, b.RealServers)
}

// subsetOwnership is the ownership record as a Reconciler that sees only
// some services (keys) must see it: their part of rec, just loaded. What
// it saves is that part, put back beside the owned keys it does not see,
// which it leaves untouched.
type subsetOwnership struct {
	full   ipvs.Ownership
	loaded ipvs.Record
	in     map[ipvs.ServiceKey]bool // keys
	rec    ipvs.Record              // the part in keys
}

func newSubsetOwnership(full ipvs.Ownership, rec ipvs.Record, keys []ipvs.ServiceKey) *subsetOwnership {
	o := &subsetOwnership{full: full, loaded: rec, in: make(map[ipvs.ServiceKey]bool, len(keys))}
	for _, k := range keys {
		o.in[k] = true
	}
	for _, k := range keys {
		if _, found := slices.BinarySearchFunc(rec.Owned, k, ipvs.ServiceKey.Compare); found {
			o.rec.Owned = append(o.rec.Owned, k) // rec.Owned is sorted: sameKeys
		}
	}
	o.rec.Intended = rec.Intended // empty: reloadFromMemory checked
	return o
}

func (o *subsetOwnership) Load() (ipvs.Record, error) { return o.rec, nil }

// Save is called only when the record changes: a service added or
// removed.
func (o *subsetOwnership) Save(r ipvs.Record) error {
	owned := slices.Clone(r.Owned)
	for _, k := range o.loaded.Owned {
		if !o.in[normKey(k)] {
			owned = append(owned, k)
		}
	}
	slices.SortFunc(owned, ipvs.ServiceKey.Compare) // as the Reconciler saves
	return o.full.Save(ipvs.Record{Owned: slices.Compact(owned), Intended: r.Intended})
}
