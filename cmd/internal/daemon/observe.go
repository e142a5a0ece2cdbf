package daemon

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/lvsctl/lvsctl/checker"
	"github.com/lvsctl/lvsctl/ipvs"
)

// This file is the daemon's read-only face, for `lvsctl status` and the
// metrics: Run's goroutine, which alone owns the daemon's state, publishes
// an immutable Snapshot at the end of every reconcile and resync; any
// goroutine reads the latest one. Nothing here touches the kernel.

// PassKind says why the daemon wrote to the kernel.
type PassKind string

// Pass kinds, the values of the metrics' "kind" label.
const (
	// PassHealth is a coalesced reconcile after health transitions, from
	// memory (no dump).
	PassHealth PassKind = "health"
	// PassResync is a periodic dump that repairs drift.
	PassResync PassKind = "resync"
	// PassLoad is the apply of a configuration, at start or on reload.
	PassLoad PassKind = "load"
)

// Pass is one reconcile or resync, as Observer.Pass hears it.
type Pass struct {
	Kind PassKind
	Took time.Duration
}

// Observer hears what the daemon does, for metrics. Both functions must be
// safe for concurrent use and must not block; either may be nil.
type Observer struct {
	// Probe hears the result of every health probe, retries included, on
	// the probing check's goroutine.
	Probe func(checker.Target, checker.Result)
	// Pass hears every reconcile and resync once it is over, on Run's
	// goroutine.
	Pass func(Pass)
}

// Snapshot is the daemon's state at the end of its latest pass, plus the
// current health of every checked real server.
type Snapshot struct {
	// Loads counts the configurations applied: 1 at start, one more per
	// reload. LoadedAt is when the current one was applied.
	Loads    int
	LoadedAt time.Time
	// At is when the latest pass ended; Run's goroutine publishes at least
	// once per Resync, so an old At means a stuck daemon.
	At     time.Time
	Resync time.Duration
	Stats  Stats
	// Ops counts the operations the kernel accepted, by kind (only with an
	// Observer: see Observe).
	Ops map[ipvs.OpKind]uint64
	// Services are the configured virtual services, by key.
	Services []ServiceState
}

// ServiceState is one configured virtual service.
type ServiceState struct {
	Name string
	// Config is the service as configured and normalized: its real
	// servers carry their configured weights.
	Config ipvs.VirtualService
	// InhibitOnFailure keeps failed real servers at weight 0.
	InhibitOnFailure bool
	// Known is false while what the kernel holds is uncertain (a write
	// failed; the next resync repairs it).
	Known    bool
	QuorumUp bool
	// Reals are the configured real servers by key, then the sorry
	// server if there is one.
	Reals []RealState
}

// RealState is one real server of a ServiceState.
type RealState struct {
	// Real is the real server as configured.
	Real  ipvs.RealServer
	Sorry bool
	// InTable and Weight are what lvsctl last wrote for it: whether it is
	// in the kernel's table and with which weight.
	InTable bool
	Weight  uint32
	// Check is its health, read when Snapshot was called; nil for a real
	// server without a check (always up) and for the sorry server.
	Check *checker.Status

	target  checker.Target
	checked bool
}

// view is what Run's goroutine publishes (fields above mu) and keeps for
// the next publication (below).
type view struct {
	mu      sync.Mutex
	snap    *Snapshot
	changed chan struct{}

	observer Observer
	ops      map[ipvs.OpKind]uint64
	loads    int
	loadedAt time.Time
	// keys are the services in order and cache their latest states: a
	// pass rebuilds only the services whose table entry or quorum
	// changed, and a load also those whose configuration did.
	keys  []ipvs.ServiceKey
	cache map[ipvs.ServiceKey]cachedState
}

// cachedState is a published ServiceState and what it was built from.
type cachedState struct {
	st       ServiceState
	applied  []ipvs.RealServer
	known    bool
	quorumUp bool
}

// Observe makes o hear every probe and every pass and counts the operations
// the kernel accepts by kind (it wraps Options.Kernel). Call it before Run.
func (d *Daemon) Observe(o Observer) {
	d.view.observer = o
	d.view.ops = map[ipvs.OpKind]uint64{}
	d.o.Kernel = countingKernel{Kernel: d.o.Kernel, ops: d.view.ops}
	if o.Probe != nil {
		d.pool.OnProbe(o.Probe)
	}
}

// countingKernel counts the operations the kernel accepted, by kind. It is
// used on Run's goroutine only, like the kernel it wraps.
type countingKernel struct {
	ipvs.Kernel
	ops map[ipvs.OpKind]uint64
}

func (k countingKernel) Apply(ctx context.Context, ops []ipvs.Op) (int, error) {
	n, err := k.Kernel.Apply(ctx, ops)
	for _, op := range ops[:max(0, min(n, len(ops)))] {
		k.ops[op.Kind]++
	}
	return n, err
}

// Snapshot returns the state published at the end of the latest pass, with
// the current health of each checked real server; false before the first
// pass. Safe from any goroutine; the result is the caller's.
func (d *Daemon) Snapshot() (Snapshot, bool) {
	d.view.mu.Lock()
	p := d.view.snap
	d.view.mu.Unlock()
	if p == nil {
		return Snapshot{}, false
	}
	s := *p
	s.Ops = maps.Clone(p.Ops)
	s.Services = slices.Clone(p.Services)
	for i := range s.Services {
		reals := slices.Clone(s.Services[i].Reals)
		for j := range reals {
			if !reals[j].checked {
				continue
			}
			if st, ok := d.pool.Lookup(reals[j].target); ok {
				reals[j].Check = &st
			}
		}
		s.Services[i].Reals = reals
	}
	return s, true
}

// Published returns a channel closed at the next publication.
func (d *Daemon) Published() <-chan struct{} {
	d.view.mu.Lock()
	defer d.view.mu.Unlock()
	if d.view.changed == nil {
		d.view.changed = make(chan struct{})
	}
	return d.view.changed
}

// passKind is the kind of a resync.
func passKind(expected bool) PassKind {
	if expected {
		return PassLoad
	}
	return PassResync
}

// passed ends a pass that began at start: it publishes a new Snapshot and
// tells the Observer. reconcile and resync defer it; Run's goroutine only.
func (d *Daemon) passed(kind PassKind, start time.Time) {
	now := d.o.Clock.Now()
	v := &d.view
	if kind == PassLoad {
		v.loads++
		v.loadedAt = now
	}
	reload := kind == PassLoad && v.cache != nil
	if kind == PassLoad || v.cache == nil {
		v.keys = d.keys
		if !reload {
			v.cache = make(map[ipvs.ServiceKey]cachedState, len(v.keys))
		}
	}
	s := &Snapshot{
		Loads: v.loads, LoadedAt: v.loadedAt, At: now, Resync: d.resyncEvery(),
		Stats: d.stats, Ops: maps.Clone(v.ops),
		Services: make([]ServiceState, 0, len(v.keys)),
	}
	for _, k := range v.keys {
		applied, known := d.applied[k]
		c, ok := v.cache[k]
		if ok && reload && !builtFrom(c.st, d.services[k]) {
			ok = false
		}
		if !ok || c.known != known || c.quorumUp != d.quorumUp[k] || !slices.Equal(c.applied, applied.RealServers) {
			c = cachedState{st: d.serviceState(k, d.services[k]), applied: slices.Clone(applied.RealServers), known: known, quorumUp: d.quorumUp[k]}
			v.cache[k] = c
		}
		s.Services = append(s.Services, c.st)
	}
	v.mu.Lock()
	v.snap = s
	if v.changed != nil {
		close(v.changed)
		v.changed = nil
	}
	v.mu.Unlock()
	if v.observer.Pass != nil {
		v.observer.Pass(Pass{Kind: kind, Took: now.Sub(start)})
	}
	if reload && len(v.cache) > len(v.keys) {
		for k := range v.cache {
			if _, ok := d.services[k]; !ok {
				delete(v.cache, k) // removed by the load
			}
		}
	}
}

// builtFrom reports whether st, built by serviceState, is of a service
// configured as s: a load keeps the states of the services it leaves as
// they were.
func builtFrom(st ServiceState, s service) bool {
	if st.Name != s.pool.Name || st.InhibitOnFailure != s.pool.InhibitOnFailure || !sameEntry(st.Config, s.vs) {
		return false
	}
	n := len(s.vs.RealServers)
	if s.pool.SorryServer != nil {
		n++
		if len(st.Reals) != n || !st.Reals[n-1].Sorry || st.Reals[n-1].Real != *s.pool.SorryServer {
			return false
		}
	}
	if len(st.Reals) != n {
		return false
	}
	for i, r := range s.vs.RealServers {
		rs := st.Reals[i]
		if rs.Sorry || rs.Real != r {
			return false
		}
		var target checker.Target
		checked := false
		for _, m := range s.pool.Members { // as serviceState finds it
			if m.Real == r.Key() && m.Check != nil {
				target, checked = m.Check.Target, true
			}
		}
		if rs.target != target || rs.checked != checked {
			return false
		}
	}
	return true
}

// serviceState is s as configured and as last applied.
func (d *Daemon) serviceState(k ipvs.ServiceKey, s service) ServiceState {
	applied, known := d.applied[k]
	out := ServiceState{
		Name: s.pool.Name, Config: s.vs, InhibitOnFailure: s.pool.InhibitOnFailure,
		Known: known, QuorumUp: d.quorumUp[k],
		Reals: make([]RealState, 0, len(s.vs.RealServers)+1),
	}
	out.Config.RealServers = slices.Clone(s.vs.RealServers)
	inTable := func(rk ipvs.RealKey) (uint32, bool) {
		for _, r := range applied.RealServers {
			if r.Key() == rk {
				return r.Weight, true
			}
		}
		return 0, false
	}
	for _, r := range s.vs.RealServers {
		rs := RealState{Real: r}
		rs.Weight, rs.InTable = inTable(r.Key())
		for _, m := range s.pool.Members {
			if m.Real == r.Key() && m.Check != nil {
				rs.target, rs.checked = m.Check.Target, true
			}
		}
		out.Reals = append(out.Reals, rs)
	}
	if sorry := s.pool.SorryServer; sorry != nil {
		rs := RealState{Real: *sorry, Sorry: true}
		rs.Weight, rs.InTable = inTable(sorry.Key())
		out.Reals = append(out.Reals, rs)
	}
	return out
}
