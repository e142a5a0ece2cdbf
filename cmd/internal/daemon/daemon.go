// Package daemon is the glue of `lvsctl run`: it keeps the kernel's IPVS
// table equal to the configuration plus the health of every real server.
//
// The model: the configuration gives each virtual service its real servers
// (ipvs.VirtualService) and a health policy (hcl.Pool). A checker.Pool probes
// the checked real servers and emits transitions. From the configuration and
// the current health the daemon derives the desired table: a failed real
// server is left out, or kept with weight 0 when the pool inhibits on
// failure; a dynamic weight replaces the configured one; the sorry server
// joins when no real server is up. Transitions are coalesced for a short
// window, then only the services they touched are diffed against what the
// daemon last applied and the difference is written: no kernel dump on the
// hot path. The window adapts: a lone transition is applied after Coalesce
// (50 ms); in a storm, say half the servers failing and seen over one
// delay_loop, successive windows double up to CoalesceMax (500 ms), so the
// storm takes a handful of reconciles, and the last window closes Coalesce
// after the last transition (see Options.Coalesce). A periodic resync
// dumps the kernel once and repairs drift (a real server deleted behind
// lvsctl's back). A reload swaps the configuration, keeping the health of
// the real servers that stay, and writes the difference from memory too,
// with no dump while the daemon's view of the table can be trusted
// (reload.go). At start, the real servers of services the
// kernel already holds take their state from the table until their first
// probe (presume.go), so a restart writes nothing while the probes agree.
//
// One goroutine, Run's, owns the kernel handle; hooks run in their own
// goroutines and never block it.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/lvsctl/lvsctl/checker"
	"github.com/lvsctl/lvsctl/cmd/internal/alert"
	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/ipvs"
)

// Options configure a Daemon.
type Options struct {
	Kernel ipvs.Kernel
	Owned  ipvs.Ownership
	Logger *slog.Logger
	// Clock drives coalescing, resync and the checks; nil is the system clock.
	Clock checker.Clock
	// Coalesce is how long transitions gather before one reconcile
	// (default 50 ms): a transition opens a window that closes, and its
	// reconcile runs, Coalesce after the latest transition (so a lone
	// failure is applied after Coalesce) or once the window has lasted its
	// length. The first window of a burst lasts Coalesce; while transitions
	// keep coming (a mass failure seen over a delay_loop), each window is
	// twice as long as the previous, up to CoalesceMax; a quiet period of
	// a window's length brings it back to Coalesce.
	Coalesce time.Duration
	// CoalesceMax caps the window, and so bounds how long a transition
	// waits during a storm (default DefaultCoalesceMax; a value below
	// Coalesce, such as -1, keeps every window at Coalesce).
	CoalesceMax time.Duration
	// Resync is how often the kernel is dumped to repair drift (default:
	// the shortest delay_loop of the configuration, within
	// [MinDefaultResync, MaxDefaultResync]).
	Resync time.Duration
	// ReloadResync is how soon after a reload written from memory (no
	// dump; reload.go) the next resync runs, if sooner than Resync
	// (default DefaultReloadResync): the drift a reload no longer repairs
	// is repaired then, off the reload's path.
	ReloadResync time.Duration
	// Adopt takes over services of the configuration that exist but were
	// not created by lvsctl.
	Adopt bool
	// FlushOnExit deletes the services lvsctl owns when Run returns;
	// otherwise the table stays so traffic flows through a restart.
	FlushOnExit bool
	// Hooks runs notify and quorum programs; nil runs them with os/exec.
	Hooks HookRunner
	// Rand draws check warmups; nil is uniform random.
	Rand func(time.Duration) time.Duration
	// OnQuorum, if set, is told the quorum of each virtual service, by
	// its virtual_server name: of every service when a configuration is
	// loaded (presumed held for a new one), then on each loss and return.
	// It is called on Run's goroutine and must not block (VRRP's
	// track_virtual_server follows it).
	OnQuorum func(name string, up bool)
	// OnLoad, if set, is told the outcome of every configuration Run
	// loads, the first and each reload, by its pointer: the ops the
	// kernel accepted, and an error if the daemon refused the
	// configuration or the kernel a change. It is called on Run's
	// goroutine and must not block (lvsctl apply through the socket
	// waits for it).
	OnLoad func(cfg *lvshcl.Config, ops []ipvs.Op, err error)
	// Alerts, if set, is where real server and quorum transitions are
	// mailed, as the configuration's alert_email and smtp_alert say
	// (alert.go). Its Send only queues.
	Alerts *alert.Sender
}

// DefaultCoalesceMax is the default Options.CoalesceMax: with the default
// Coalesce, windows of 50, 100, 200 and 400 ms cover the first 750 ms of a
// storm, so failures spread over a 1 s delay_loop take five reconciles, and
// no transition waits more than half a second, little next to the
// delay_loop x fall it took to detect it.
const DefaultCoalesceMax = 500 * time.Millisecond

// Daemon keeps one namespace's IPVS table. Create it with New and call Run.
type Daemon struct {
	o    Options
	log  *slog.Logger
	pool *checker.Pool

	cfg      *lvshcl.Config
	services map[ipvs.ServiceKey]service
	keys     []ipvs.ServiceKey // of services, sorted
	byTarget map[checker.Target]memberRef
	health   map[checker.Target]health
	applied  map[ipvs.ServiceKey]ipvs.VirtualService // what the kernel holds, as far as we know
	quorumUp map[ipvs.ServiceKey]bool

	dirty map[ipvs.ServiceKey]bool
	// tableKnown is true while applied is what the kernel holds, as far
	// as the latest writes and resync tell: every write since was
	// accepted and the resync found no drift. A reload is written from
	// memory only then (reload.go).
	tableKnown bool
	stats      Stats
	// startDump is the table presumeFromTable read, for the first resync.
	startDump []ipvs.VirtualService
	view      view // snapshots for status and metrics (observe.go)
	// lastOps are the ops the latest resync made (the kernel accepted).
	lastOps []ipvs.Op
	// prev are the services of the previous configuration, for the names
	// of the services a load deletes (nameOf).
	prev map[ipvs.ServiceKey]service
	// requests run on Run's goroutine (preview.go); stopped is closed
	// when Run returns.
	requests chan func(context.Context)
	stopped  chan struct{}
}

type service struct {
	vs   ipvs.VirtualService // as configured, normalized
	pool lvshcl.Pool
}

type memberRef struct {
	svc    ipvs.ServiceKey
	member lvshcl.Member
}

type health struct {
	up     bool
	weight int // dynamic weight or checker.NoWeight
}

// Stats count what the daemon did, for tests and status.
type Stats struct {
	Reconciles int // coalesced health reconciles
	Resyncs    int // full dumps
	// MemoryReloads are reloads written from memory, without a dump.
	MemoryReloads int
	Writes        int // ops the kernel accepted
	Repairs       int // ops that repaired drift
}

// New returns a daemon; nothing happens until Run.
func New(o Options) *Daemon {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = checker.SystemClock{}
	}
	if o.Coalesce <= 0 {
		o.Coalesce = 50 * time.Millisecond
	}
	if o.CoalesceMax == 0 {
		o.CoalesceMax = DefaultCoalesceMax
	}
	o.CoalesceMax = max(o.CoalesceMax, o.Coalesce)
	if o.Hooks == nil {
		o.Hooks = ExecHooks{Logger: o.Logger}
	}
	if o.ReloadResync <= 0 {
		o.ReloadResync = DefaultReloadResync
	}
	return &Daemon{
		o:        o,
		log:      o.Logger,
		pool:     checker.NewPool(checker.Options{Clock: o.Clock, Rand: o.Rand}),
		requests: make(chan func(context.Context)),
		stopped:  make(chan struct{}),
	}
}

// Run applies cfg, starts the checks and keeps the table until ctx is
// cancelled. Each configuration received on reload replaces the current one
// (the caller validates it first). It returns an error only if the first
// apply fails; later kernel errors are logged and retried at the next
// resync.
func (d *Daemon) Run(ctx context.Context, cfg *lvshcl.Config, reload <-chan *lvshcl.Config) (err error) {
	defer close(d.stopped)
	started := false
	defer func() {
		if err != nil && !started {
			d.loaded(cfg, nil, err)
		}
	}()
	poolCtx, stopPool := context.WithCancel(context.WithoutCancel(ctx))
	poolDone := make(chan error, 1)
	go func() { poolDone <- d.pool.Run(poolCtx) }()
	defer func() {
		stopPool()
		<-poolDone
	}()

	presumed, err := d.presumeFromTable(ctx, cfg)
	if err != nil {
		return err
	}
	if err := d.load(cfg, presumed); err != nil {
		return err
	}
	if err := d.resync(ctx, true); err != nil {
		return err
	}
	d.log.Info("running", "services", len(cfg.Services), "checks", len(d.byTarget),
		"presumed_from_table", len(presumed), "writes", d.stats.Writes, "resync", d.resyncEvery())
	d.quorumFromTable(presumed)
	d.loaded(cfg, d.lastOps, nil)
	started = true

	coalesce := d.o.Clock.NewTimer(time.Hour)
	coalesce.Stop()
	window := coalescer{min: d.o.Coalesce, max: d.o.CoalesceMax}
	resync := d.o.Clock.NewTimer(d.resyncEvery())
	defer resync.Stop()
	afterReload := false // the next resync is one a reload brought forward
	onReload := func(next *lvshcl.Config) {
		switch d.reload(ctx, next) {
		case reloadDumped:
			afterReload = false
			resync.Reset(d.resyncEvery())
		case reloadFromMemory:
			// Drift is now the next resync's: soon, off this path.
			afterReload = true
			resync.Reset(min(d.resyncEvery(), d.o.ReloadResync))
		}
	}
	defer coalesce.Stop()
	events := d.pool.Events()
	for {
		select {
		case <-ctx.Done():
			return d.shutdown()
		case ev, ok := <-events:
			if !ok {
				return errors.New("checker pool stopped unexpectedly")
			}
			// The window is armed before observe runs the notify hook:
			// a test that sees the hook knows the timer is set.
			if wait, opened := window.event(d.o.Clock.Now(), ev.At); opened {
				coalesce.Reset(wait)
			}
			d.observe(ev)
		case <-coalesce.C():
			if wait, closes := window.due(d.o.Clock.Now()); !closes {
				if wait > 0 { // transitions keep coming: extend
					coalesce.Reset(wait)
				}
				continue
			}
			d.reconcile(ctx)
		case <-resync.C():
			if window.open {
				// Apply known health changes first, so that what the
				// resync finds is only drift.
				coalesce.Stop()
				window.close()
				d.reconcile(ctx)
			}
			var (
				next      *lvshcl.Config
				got, open bool
				err       error
			)
			if afterReload {
				// Brought forward by a reload: another reload that
				// comes while it dumps goes first (at 100k objects the
				// dump takes longer than an operator's next edit), and
				// this resync runs again ReloadResync after it.
				next, got, open, err = d.resyncUnlessReload(ctx, reload)
			} else {
				err = d.resync(ctx, false)
			}
			afterReload = false
			resync.Reset(d.resyncEvery())
			switch {
			case errors.Is(err, errPreempted):
				afterReload = true
				resync.Reset(min(d.resyncEvery(), d.o.ReloadResync))
			case err != nil:
				d.log.Error("resync failed; retrying at the next one", errAttrs(err)...)
			}
			if got && !open {
				reload = nil
			} else if got {
				onReload(next)
			}
		case f := <-d.requests:
			f(ctx)
		case next, ok := <-reload:
			if !ok {
				reload = nil
				continue
			}
			onReload(next)
		}
	}
}

// reloadOutcome is how a reload reached the kernel.
type reloadOutcome int

const (
	reloadRefused    reloadOutcome = iota // the configuration was not taken
	reloadDumped                          // the kernel was read whole, drift repaired
	reloadFromMemory                      // written from memory: drift is the next resync's
)

// reload makes next current and converges the kernel to it, logging the
// outcome and telling OnLoad.
func (d *Daemon) reload(ctx context.Context, next *lvshcl.Config) reloadOutcome {
	if err := d.load(next, nil); err != nil {
		d.log.Error("reload refused; keeping the running configuration", "err", err)
		d.loaded(next, nil, err)
		return reloadRefused
	}
	dumped, err := d.applyReload(ctx)
	if err != nil {
		d.log.Error("reload: apply failed; retrying at the next resync", errAttrs(err)...)
	}
	d.log.Info("reloaded", "services", len(next.Services), "checks", len(d.byTarget), "dumped", dumped)
	d.loaded(next, d.lastOps, err)
	if dumped {
		return reloadDumped
	}
	return reloadFromMemory
}

// resyncUnlessReload is a resync whose dump a configuration
// arriving on reload cuts short (errPreempted: nothing written). got says
// whether one was received (next, or the channel's close when !open),
// whether or not it came in time to stop the resync; the caller applies it.
func (d *Daemon) resyncUnlessReload(ctx context.Context, reload <-chan *lvshcl.Config) (next *lvshcl.Config, got, open bool, err error) {
	if reload == nil {
		return nil, false, false, d.resync(ctx, false)
	}
	planCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		select {
		case next, open = <-reload:
			got = true
			cancel()
		case <-stop:
		}
	}()
	err = d.resyncPlan(ctx, planCtx, false)
	close(stop)
	<-done
	return next, got, open, err
}

// Stats returns what the daemon has done so far. Only safe to call from the
// goroutine that runs Run, or after Run returned.
func (d *Daemon) Stats() Stats { return d.stats }

// Status returns every checked real server's health.
func (d *Daemon) Status() []checker.Status { return d.pool.Status() }

// load makes cfg current: it hands the checks to the pool (which keeps the
// state of servers that stay) and indexes the configuration. presumed
// gives new servers their state until their first probe (from the kernel's
// table, at start); the others get the pool's default presumption.
func (d *Daemon) load(cfg *lvshcl.Config, presumed map[checker.Target]checker.Presumption) error {
	if len(cfg.Pools) != len(cfg.Services) {
		return fmt.Errorf("configuration has %d services but %d pools", len(cfg.Services), len(cfg.Pools))
	}
	services := make(map[ipvs.ServiceKey]service, len(cfg.Services))
	keys := make([]ipvs.ServiceKey, 0, len(cfg.Services))
	byTarget := map[checker.Target]memberRef{}
	var specs []checker.Spec
	for i, vs := range cfg.Services {
		vs = vs.Normalize()
		p := cfg.Pools[i]
		services[vs.Key] = service{vs: vs, pool: p}
		keys = append(keys, vs.Key)
		for _, m := range p.Members {
			if m.Check == nil {
				continue
			}
			spec := *m.Check
			if p, ok := presumed[spec.Target]; ok {
				spec.Presume = &p
			}
			specs = append(specs, spec)
			byTarget[m.Check.Target] = memberRef{svc: vs.Key, member: m}
		}
	}
	if err := d.pool.Set(specs); err != nil {
		return fmt.Errorf("health checks: %w", err)
	}
	// Names for the ops of the next resync: a deleted service's from the
	// configuration it leaves (the kernel does not keep them).
	d.prev = d.services
	d.cfg = cfg
	for _, r := range cfg.Resolved {
		d.log.Info("real server host name resolved", "host", r.Host, "address", r.Addr, "at", fmt.Sprintf("%s:%d:%d", r.Range.Filename, r.Range.Start.Line, r.Range.Start.Column))
	}
	d.services = services
	// Sorted once per load; files are often in key order already.
	slices.SortFunc(keys, ipvs.ServiceKey.Compare)
	d.keys = slices.Compact(keys)
	d.byTarget = byTarget
	// Health starts from what the pool knows: the presumption for new
	// servers (from the table; otherwise up, or down with alpha or a check
	// that tests a role), the current state for the others.
	old := d.health
	d.health = make(map[checker.Target]health, len(byTarget))
	for t := range byTarget {
		if st, ok := d.pool.Lookup(t); ok {
			d.health[t] = health{up: st.Up, weight: st.Weight}
		} else if h, ok := old[t]; ok {
			d.health[t] = h
		}
	}
	if d.quorumUp == nil {
		d.quorumUp = map[ipvs.ServiceKey]bool{}
	}
	for k := range d.quorumUp {
		if _, ok := services[k]; !ok {
			delete(d.quorumUp, k)
		}
	}
	for _, k := range d.keys {
		if _, ok := d.quorumUp[k]; !ok {
			d.startQuorum(services[k]) // as keepalived starts (desired.go)
		}
	}
	if d.o.OnQuorum != nil {
		for k, s := range services {
			d.o.OnQuorum(s.pool.Name, d.quorumUp[k])
		}
	}
	return nil
}

// nameOf is the name of service k in the current configuration, or else
// in the previous one.
func (d *Daemon) nameOf(k ipvs.ServiceKey) string {
	if s, ok := d.services[k]; ok {
		return s.vs.Name
	}
	return d.prev[k].vs.Name
}

// observe records one transition, logs it and runs its notify hook.
func (d *Daemon) observe(ev checker.Event) {
	ref, ok := d.byTarget[ev.Target]
	if !ok {
		return // a server removed by a reload
	}
	d.health[ev.Target] = health{up: ev.Up, weight: ev.Weight}
	if d.dirty == nil {
		d.dirty = map[ipvs.ServiceKey]bool{}
	}
	d.dirty[ref.svc] = true
	attrs := append(svcAttrs(ev.Target.Service, ref.svc), "real", ev.Target.Addr.String(), "reason", ev.Reason)
	if ev.Check != "" {
		attrs = append(attrs, "check", ev.Check) // which of the server's checks changed it
	}
	d.alertReal(ref, ev) // alert.go
	switch {
	case ev.Up && !ev.WasUp:
		d.log.Info("real server up", attrs...)
		d.hook(ref.member.NotifyUp, "up", ref.svc, ev)
	case !ev.Up && ev.WasUp:
		d.log.Warn("real server down", attrs...)
		d.hook(ref.member.NotifyDown, "down", ref.svc, ev)
	default:
		d.log.Info("real server weight changed", append(attrs, "weight", ev.Weight)...)
	}
}

// reconcile writes the difference for the services touched by transitions
// since the last reconcile, from memory: no dump.
func (d *Daemon) reconcile(ctx context.Context) {
	defer d.passed(PassHealth, d.o.Clock.Now())
	keys := slices.SortedFunc(maps.Keys(d.dirty), ipvs.ServiceKey.Compare)
	clear(d.dirty)
	d.stats.Reconciles++
	var cur, want []ipvs.VirtualService
	for _, k := range keys {
		s, ok := d.services[k]
		if !ok {
			continue
		}
		if a, ok := d.applied[k]; ok {
			cur = append(cur, a)
		}
		d.checkQuorum(s, upWeightIn(s, d.health)) // the table depends on it
		w, _ := d.desired(s)
		want = append(want, w)
	}
	ops := ipvs.Diff(cur, want)
	if len(ops) == 0 {
		return
	}
	n, err := d.o.Kernel.Apply(ctx, ops)
	d.stats.Writes += n
	for _, op := range ops[:n] {
		d.log.Info("applied", opAttrs(op)...)
	}
	if err != nil {
		// What the kernel holds is now uncertain: the next resync dumps it.
		d.log.Error("reconcile failed; the next resync repairs it", errAttrs(err)...)
		d.tableKnown = false
		for _, k := range keys {
			delete(d.applied, k)
		}
		return
	}
	for _, w := range want {
		d.applied[w.Key] = w
	}
}

// resync dumps the kernel once and converges every owned service to the
// desired table. At start and reload every op is expected; later, any op
// is drift that someone else caused, and is logged as a repair.
func (d *Daemon) resync(ctx context.Context, expected bool) error {
	return d.resyncPlan(ctx, ctx, expected)
}

// errPreempted is resyncPlan's when planCtx ended the dump: nothing was
// written and the daemon's view of the table is as it was.
var errPreempted = errors.New("resync preempted")

// resyncPlan is resync with the dump (the plan) under planCtx: when
// planCtx ends first (a reload came, resyncUnlessReload), it returns
// errPreempted, having written nothing, and counts no pass.
func (d *Daemon) resyncPlan(ctx, planCtx context.Context, expected bool) (err error) {
	start := d.o.Clock.Now()
	known, lastOps := d.tableKnown, d.lastOps
	defer func() {
		if errors.Is(err, errPreempted) {
			d.tableKnown, d.lastOps = known, lastOps
			return
		}
		d.stats.Resyncs++
		d.passed(passKind(expected), start)
	}()
	want := make([]ipvs.VirtualService, 0, len(d.services))
	for _, k := range d.keys {
		w, _ := d.desired(d.services[k])
		want = append(want, w)
	}
	k := d.o.Kernel
	if d.startDump != nil {
		// The start's dump, just read to presume health: no second one.
		k = &dumpedKernel{Kernel: k, svcs: d.startDump}
		d.startDump = nil
	}
	r := &ipvs.Reconciler{Kernel: k, Owned: d.o.Owned}
	d.lastOps = nil
	d.tableKnown = false // until the kernel accepted
	p, err := r.Plan(planCtx, want, d.o.Adopt)
	if err != nil {
		if planCtx.Err() != nil && ctx.Err() == nil {
			return errPreempted
		}
		return err
	}
	if len(p.Conflicts) > 0 && !d.o.Adopt {
		return fmt.Errorf("%w: %v (run with --adopt to take them over)", ipvs.ErrConflict, p.Conflicts)
	}
	for i := range p.Ops {
		if s := &p.Ops[i].Service; s.Name == "" {
			s.Name = d.nameOf(s.Key)
		}
	}
	for _, op := range p.Ops {
		if expected {
			d.log.Info("applied", opAttrs(op)...)
		} else {
			d.log.Warn("drift repaired", opAttrs(op)...)
		}
	}
	res, err := r.Apply(ctx, p)
	d.lastOps = p.Ops[:min(res.Applied, len(p.Ops))]
	d.stats.Writes += res.Applied
	if !expected {
		d.stats.Repairs += res.Applied
	}
	if err != nil {
		d.applied = map[ipvs.ServiceKey]ipvs.VirtualService{}
		return err
	}
	// After drift, the next reload dumps too: someone else writes.
	d.tableKnown = expected || len(p.Ops) == 0
	d.applied = make(map[ipvs.ServiceKey]ipvs.VirtualService, len(want))
	for _, w := range want {
		d.applied[w.Key] = w.Normalize()
	}
	return d.setTimeouts(ctx, expected)
}

// setTimeouts sets the configuration's timeouts block where the kernel
// differs (at start, on reload and as drift at a resync), logging the
// previous values.
func (d *Daemon) setTimeouts(ctx context.Context, expected bool) error {
	if d.cfg == nil || d.cfg.Timeouts == nil {
		return nil
	}
	tk, ok := d.rawKernel().(ipvs.TimeoutKernel)
	if !ok {
		return errors.New("timeouts: this kernel handle cannot set IPVS timeouts")
	}
	have, err := tk.Timeouts(ctx)
	if err != nil {
		return fmt.Errorf("timeouts: %w", err)
	}
	cs := ipvs.TimeoutChanges(have, *d.cfg.Timeouts)
	if len(cs) == 0 {
		return nil
	}
	if err := tk.SetTimeouts(ctx, *d.cfg.Timeouts); err != nil {
		return fmt.Errorf("timeouts: %w", err)
	}
	d.stats.Writes++
	line := ipvs.FormatTimeoutChanges(cs)
	if expected {
		d.log.Info("applied", "op", line)
	} else {
		d.stats.Repairs++
		d.log.Warn("drift repaired", "op", line)
	}
	return nil
}

// shutdown leaves the table in place, or deletes what lvsctl owns with
// FlushOnExit.
func (d *Daemon) shutdown() error {
	if !d.o.FlushOnExit {
		d.log.Info("stopping; the IPVS table stays in place")
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := &ipvs.Reconciler{Kernel: d.o.Kernel, Owned: d.o.Owned}
	p, err := r.Plan(ctx, nil, false)
	if err != nil {
		return fmt.Errorf("flush on exit: %w", err)
	}
	if _, err := r.Apply(ctx, p); err != nil {
		return fmt.Errorf("flush on exit: %w", err)
	}
	d.log.Info("stopped; removed the services lvsctl owned", "services", len(p.Ops))
	return nil
}

// delayLoops is the delay_loop of each of cs.
func delayLoops(cs []checker.Check) []time.Duration {
	out := make([]time.Duration, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.Timing.DelayLoop)
	}
	return out
}

// MinDefaultResync and MaxDefaultResync bound the default resync
// interval. A dump reads every service and real server, which at delay_loop
// 1 s cost 6 to 15 % of the daemon's CPU for nothing (docs/BENCHMARKS.md,
// issue 22): drift is someone else's write, rare, and repaired within 10 s.
const (
	MinDefaultResync = 10 * time.Second
	MaxDefaultResync = 60 * time.Second
)

func (d *Daemon) resyncEvery() time.Duration {
	if d.o.Resync > 0 {
		return d.o.Resync
	}
	every := MaxDefaultResync
	for _, s := range d.services {
		for _, m := range s.pool.Members {
			if m.Check == nil {
				continue
			}
			for _, d := range append([]time.Duration{m.Check.Timing.DelayLoop}, delayLoops(m.Check.Also)...) {
				if d > 0 && d < every {
					every = d
				}
			}
		}
	}
	return max(every, MinDefaultResync)
}
