package director

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/vrrp"
)

// Instance is what the runner needs of a *vrrp.Instance; tests fake it.
type Instance interface {
	Run(ctx context.Context) error
	SetTracked(name string, up bool) error
	Status() vrrp.Status
}

// VRRPOptions configure a Runner. Zero fields are the real thing.
type VRRPOptions struct {
	Logger *slog.Logger
	// NewInstance makes an instance; nil is vrrp.New.
	NewInstance func(vrrp.Config) (Instance, error)
	// Links follows the interfaces' link states; nil is NetlinkLinks.
	Links LinkSource
	// Probe runs a vrrp_script once; nil is ExecScript.
	Probe ScriptProber
	// Hooks runs a notify hook; nil is ExecHook.
	Hooks HookRunner
	// RetryMin and RetryMax bound the delay before an instance whose Run
	// failed (no such interface, say) is started again: RetryMin,
	// doubling up to RetryMax (defaults 1 s and 30 s).
	RetryMin, RetryMax time.Duration
	// ShutdownWait bounds how long Run waits, when stopping, for the
	// instances to leave and their notify_stop hooks to finish (default:
	// 30 s).
	ShutdownWait time.Duration
	// FilePoll is how often a track_file is read again, and the processes
	// of track_process are looked for (default 1 s; keepalived uses
	// inotify and the proc connector).
	FilePoll time.Duration
	// ProcRoot is where track_process looks for processes (default
	// /proc).
	ProcRoot string
	// Static installs static_ipaddress, static_routes and static_rules;
	// nil is a *vrrp.Statics in lvsctl's namespace (static.go).
	Static StaticNet
	// OnTransition, if set, is told every instance's state change (the
	// e-mail alerts). It is called under the runner's lock and must not
	// block.
	OnTransition func(in lvshcl.VRRPInstance, t vrrp.Transition)
}

// SyncTrack is the prefix of the tracked object through which the members
// of a vrrp_sync_group follow each other into FAULT: "sync_group:NAME".
const SyncTrack = "sync_group:"

// Runner runs the VRRP instances of a configuration (keepalived's VRRP
// child) and everything around them:
//
//   - track_script: each vrrp_script tracked by an instance runs every
//     interval (one runner per script, whoever tracks it); its state, with
//     rise and fall, goes to the instances with SetTracked. An instance
//     starts once the scripts it tracks have a first result.
//   - track_interface: one rtnetlink subscription follows every link; a
//     tracked interface is up when it is administratively up and has
//     carrier.
//   - track_virtual_server: SetQuorum passes a virtual service's quorum
//     (from the health checks) on.
//   - vrrp_sync_group: when a member is in FAULT for a reason of its own
//     (its interface, or a tracked object with weight 0, is down), every
//     other member is put in FAULT too, through a tracked object of weight
//     0 named SyncTrack+group; they leave FAULT together when it clears.
//     Tracking weights of members are 0 (hcl sees to it, as keepalived
//     does), so tracking never splits a group's priorities. The group's own
//     state is FAULT if a member is, MASTER if all are, else BACKUP; its
//     notify hooks run when it changes.
//   - notify hooks: per instance (and per group) in the order of the
//     transitions, in the background, each bounded by its timeout.
//
// A reload restarts only the instances whose vrrp settings changed (they
// leave gracefully: priority-0 advert, VIPs removed, notify_stop); the
// others keep running, with their state, and pick up new hooks and group
// membership in place. Scripts whose definition changed restart; the
// others keep their state.
type Runner struct {
	o        VRRPOptions
	log      *slog.Logger
	watching bool      // Run's goroutine only
	static   staticNet // Run's goroutine only

	mu         sync.Mutex
	order      []string // instance names in configuration order
	insts      map[string]*instance
	notifiers  map[string]*notifier // by instance name, across restarts
	scripts    map[string]*script
	groups     map[string]*group
	tracked    map[string]bool // script and virtual_server states; absent is up
	links      map[string]bool // interface -> up
	linksKnown bool
}

type instance struct {
	spec   lvshcl.VRRPInstance // as configured
	cfg    vrrp.Config         // as run: with the sync track, without funcs
	vi     Instance
	ready  []chan struct{}
	cancel context.CancelFunc
	done   chan struct{}

	// Under Runner.mu.
	state   vrrp.State
	err     error // why Run last failed, while it is retried
	syncSet bool
	syncUp  bool
}

type group struct {
	spec     lvshcl.VRRPSyncGroup
	notifier *notifier
	state    vrrp.State // StateInit until the members have one
}

// NewRunner returns a runner; nothing happens until Run.
func NewRunner(o VRRPOptions) *Runner {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.NewInstance == nil {
		o.NewInstance = func(c vrrp.Config) (Instance, error) { return vrrp.New(c) }
	}
	if o.Links == nil {
		o.Links = NetlinkLinks{Logger: o.Logger}
	}
	if o.Probe == nil {
		o.Probe = ExecScript
	}
	if o.Hooks == nil {
		o.Hooks = ExecHook
	}
	if o.RetryMin <= 0 {
		o.RetryMin = time.Second
	}
	if o.RetryMax < o.RetryMin {
		o.RetryMax = max(30*time.Second, o.RetryMin)
	}
	if o.ShutdownWait <= 0 {
		o.ShutdownWait = 30 * time.Second
	}
	return &Runner{
		o:         o,
		log:       o.Logger,
		insts:     map[string]*instance{},
		notifiers: map[string]*notifier{},
		scripts:   map[string]*script{},
		groups:    map[string]*group{},
		tracked:   map[string]bool{},
		links:     map[string]bool{},
	}
}

// Run runs cfg's instances until ctx is done, applying each configuration
// received on reload. When ctx is done every instance leaves (a master
// sends a priority-0 advert and removes its VIPs), the notify_stop hooks
// run, and Run returns nil. An instance that cannot run (its interface does
// not exist yet, say) is logged and retried; it never stops the others.
func (r *Runner) Run(ctx context.Context, cfg lvshcl.VRRP, reload <-chan lvshcl.VRRP) error {
	r.static.o = r.o.Static
	r.applyStatic(cfg.Static)
	r.apply(ctx, cfg)
	for {
		select {
		case <-ctx.Done():
			r.shutdown()
			r.clearStatic()
			return nil
		case next, ok := <-reload:
			if !ok {
				reload = nil
				continue
			}
			r.applyStatic(next.Static)
			r.apply(ctx, next)
		}
	}
}

// SetQuorum passes the quorum of virtual_server name on to the instances
// that track it. Safe from any goroutine, before Run too.
func (r *Runner) SetQuorum(name string, up bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.setTrackedLocked(lvshcl.TrackVirtualServer+name, up)
}

// runConfig is the vrrp.Config an instance runs with (without funcs).
func runConfig(spec lvshcl.VRRPInstance) vrrp.Config {
	c := spec.Config
	c.OnTransition, c.Logger, c.Clock = nil, nil, nil
	c.Track = slices.Clone(c.Track)
	if spec.SyncGroup != "" {
		c.Track = append(c.Track, vrrp.Track{Name: SyncTrack + spec.SyncGroup})
	}
	return c
}

// watchLinks starts following the link states, once, when the first
// instance is configured.
func (r *Runner) watchLinks(ctx context.Context) {
	if r.watching {
		return
	}
	r.watching = true
	if err := r.o.Links.Watch(ctx, r.linkChanged); err != nil {
		r.log.Error("cannot follow link states: tracked interfaces count as up", "err", err)
		return
	}
	r.mu.Lock()
	r.linksKnown = true
	r.mu.Unlock()
}

// apply makes cfg the running configuration.
func (r *Runner) apply(ctx context.Context, cfg lvshcl.VRRP) {
	if len(cfg.Instances) > 0 {
		r.watchLinks(ctx)
	}
	r.mu.Lock()

	// Scripts: those some instance tracks.
	specs := map[string]lvshcl.VRRPScript{}
	for _, s := range cfg.Scripts {
		specs[s.Name] = s
	}
	used := map[string]lvshcl.VRRPScript{}
	for _, in := range cfg.Instances {
		for _, t := range in.Config.Track {
			if name, ok := strings.CutPrefix(t.Name, lvshcl.TrackScript); ok {
				if s, ok := specs[name]; ok {
					used[name] = s
				}
			}
		}
	}
	var stopScripts []*script
	for name, sc := range r.scripts {
		if s, ok := used[name]; !ok || !reflect.DeepEqual(s, sc.spec) {
			sc.cancel()
			stopScripts = append(stopScripts, sc)
			delete(r.scripts, name)
			if !ok {
				delete(r.tracked, lvshcl.TrackScript+name)
			}
		}
	}
	var started []string
	for _, s := range cfg.Scripts { // in file order
		if _, ok := used[s.Name]; !ok || r.scripts[s.Name] != nil {
			continue
		}
		sctx, cancel := context.WithCancel(ctx)
		sc := &script{spec: s, cancel: cancel, done: make(chan struct{}), ready: make(chan struct{})}
		r.scripts[s.Name] = sc
		go r.runScript(sctx, sc)
		started = append(started, s.Name)
	}

	// Groups.
	groups := map[string]*group{}
	for _, g := range cfg.Groups {
		old := r.groups[g.Name]
		if old == nil {
			old = &group{notifier: newNotifier(r.log.With("vrrp_sync_group", g.Name), r.o.Hooks)}
		}
		old.spec = g
		groups[g.Name] = old
	}
	for name, g := range r.groups {
		if groups[name] == nil {
			g.notifier.close()
		}
	}
	r.groups = groups

	// Instances: keep the unchanged ones, stop the others.
	want := map[string]lvshcl.VRRPInstance{}
	r.order = r.order[:0]
	for _, in := range cfg.Instances {
		want[in.Config.Name] = in
		r.order = append(r.order, in.Config.Name)
	}
	var stop []*instance
	var kept, restarted, removed []string
	for name, in := range r.insts {
		spec, ok := want[name]
		switch {
		case !ok:
			removed = append(removed, name)
		case !reflect.DeepEqual(runConfig(spec), in.cfg):
			restarted = append(restarted, name)
		default:
			in.spec = spec // new hooks, same virtual router
			kept = append(kept, name)
			continue
		}
		in.cancel()
		stop = append(stop, in)
		delete(r.insts, name)
	}
	r.mu.Unlock()

	// The old instances leave before new ones start, so that a VIP moving
	// from one instance to another is released first.
	for _, in := range stop {
		r.wait(in.done, "vrrp instance "+in.spec.Config.Name+" to stop")
	}
	for _, sc := range stopScripts {
		<-sc.done
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	for name, n := range r.notifiers {
		if _, ok := want[name]; !ok {
			n.close()
			delete(r.notifiers, name)
		}
	}
	var added []string
	for _, spec := range cfg.Instances {
		if _, running := r.insts[spec.Config.Name]; running {
			continue
		}
		if r.startLocked(ctx, spec) && !slices.Contains(restarted, spec.Config.Name) {
			added = append(added, spec.Config.Name)
		}
	}
	r.syncLocked()
	for _, g := range r.groups {
		r.groupStateLocked(g, "configuration loaded")
	}
	if len(cfg.Instances) == 0 && len(stop) == 0 {
		return // no VRRP here: nothing to say
	}
	slices.Sort(kept)
	slices.Sort(restarted)
	slices.Sort(removed)
	r.log.Info("vrrp configuration applied", "instances", len(r.insts), "started", added, "restarted", restarted,
		"kept", kept, "removed", removed, "scripts_started", started)
}

// startLocked creates and starts the instance spec.
func (r *Runner) startLocked(ctx context.Context, spec lvshcl.VRRPInstance) bool {
	name := spec.Config.Name
	in := &instance{spec: spec, cfg: runConfig(spec), done: make(chan struct{})}
	c := in.cfg
	c.Logger = r.log
	c.OnTransition = func(t vrrp.Transition) { r.onTransition(in, t) }
	vi, err := r.o.NewInstance(c)
	if err != nil {
		r.log.Error("cannot create vrrp instance", "vrrp_instance", name, "err", err)
		return false
	}
	in.vi = vi
	for _, t := range in.cfg.Track {
		if strings.HasPrefix(t.Name, SyncTrack) {
			continue // set by syncLocked
		}
		if err := vi.SetTracked(t.Name, r.stateLocked(t.Name)); err != nil {
			r.log.Error("tracking", "vrrp_instance", name, "err", err)
		}
		if s, ok := strings.CutPrefix(t.Name, lvshcl.TrackScript); ok {
			if sc := r.scripts[s]; sc != nil {
				in.ready = append(in.ready, sc.ready)
			}
		}
	}
	if r.notifiers[name] == nil {
		r.notifiers[name] = newNotifier(r.log.With("vrrp_instance", name), r.o.Hooks)
	}
	ictx, cancel := context.WithCancel(ctx)
	in.cancel = cancel
	r.insts[name] = in
	for _, t := range in.cfg.Track {
		if path, ok := strings.CutPrefix(t.Name, lvshcl.TrackFile); ok {
			f := &trackFile{r: r, vi: vi, name: t.Name, path: path, inst: name}
			f.read() // before Run: the first priority counts the file
			go f.watch(ictx, r.filePoll())
		}
		if proc, ok := strings.CutPrefix(t.Name, lvshcl.TrackProcess); ok {
			p := &trackProcess{r: r, vi: vi, name: t.Name, proc: proc, inst: name, root: r.o.ProcRoot}
			if p.root == "" {
				p.root = "/proc"
			}
			p.look() // before Run
			go p.watch(ictx, r.filePoll())
		}
	}
	go r.runInstance(ictx, in)
	return true
}

func (r *Runner) filePoll() time.Duration {
	if r.o.FilePoll > 0 {
		return r.o.FilePoll
	}
	return time.Second
}

// trackProcess follows one track_process of one instance: up while a
// process whose comm (or the base name of whose argv[0]) is proc runs.
type trackProcess struct {
	r                *Runner
	vi               Instance
	name, proc, inst string
	root             string
	up, known        bool
}

// processRunning reports whether a process proc runs under root.
func processRunning(root, proc string) bool {
	ents, err := os.ReadDir(root)
	if err != nil {
		return false
	}
	comm := proc
	if len(comm) > 15 {
		comm = comm[:15] // the kernel's TASK_COMM_LEN - 1
	}
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		if b, err := os.ReadFile(filepath.Join(root, e.Name(), "comm")); err == nil && strings.TrimSpace(string(b)) == comm {
			return true
		}
		if b, err := os.ReadFile(filepath.Join(root, e.Name(), "cmdline")); err == nil {
			argv0, _, _ := strings.Cut(string(b), "\x00")
			if argv0 != "" && filepath.Base(argv0) == proc {
				return true
			}
		}
	}
	return false
}

func (p *trackProcess) look() {
	up := processRunning(p.root, p.proc)
	if p.known && up == p.up {
		return
	}
	p.known, p.up = true, up
	p.r.log.Info("track_process", "vrrp_instance", p.inst, "process", p.proc, "running", up)
	if err := p.vi.SetTracked(p.name, up); err != nil {
		p.r.log.Error("tracking", "vrrp_instance", p.inst, "err", err)
	}
}

func (p *trackProcess) watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.look()
		}
	}
}

// valueSetter is what a track_file needs of an instance (vrrp.Instance
// has it).
type valueSetter interface {
	SetTrackedValue(name string, v int) error
}

// trackFile follows one track_file of one instance: the number in the
// file (keepalived reads it as text; unreadable or not a number is 0,
// logged once per change of reason).
type trackFile struct {
	r          *Runner
	vi         Instance
	name, path string
	inst       string
	last       int
	lastErr    string
	known      bool
}

func (f *trackFile) read() {
	v := 0
	why := ""
	b, err := os.ReadFile(f.path)
	if err != nil {
		why = err.Error()
	} else if v, err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil {
		v, why = 0, fmt.Sprintf("%s does not hold a number: %v", f.path, err)
	}
	if why != "" && why != f.lastErr {
		f.r.log.Warn("track_file: counted as 0", "vrrp_instance", f.inst, "file", f.path, "err", why)
	}
	f.lastErr = why
	if f.known && v == f.last {
		return
	}
	f.known, f.last = true, v
	vs, ok := f.vi.(valueSetter)
	if !ok {
		f.r.log.Error("track_file: this instance takes no values", "vrrp_instance", f.inst)
		return
	}
	f.r.log.Info("track_file", "vrrp_instance", f.inst, "file", f.path, "value", v)
	if err := vs.SetTrackedValue(f.name, v); err != nil {
		f.r.log.Error("tracking", "vrrp_instance", f.inst, "err", err)
	}
}

func (f *trackFile) watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f.read()
		}
	}
}

// runInstance runs in until ctx is done, restarting it when Run fails.
func (r *Runner) runInstance(ctx context.Context, in *instance) {
	defer close(in.done)
	name := in.spec.Config.Name
	// keepalived keeps an instance in INIT until its scripts have a
	// result; each first run is bounded by the script's timeout.
	for _, ch := range in.ready {
		select {
		case <-ch:
		case <-ctx.Done():
			return
		}
	}
	delay := r.o.RetryMin
	for {
		err := in.vi.Run(ctx)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = errors.New("stopped without being asked to")
		}
		r.mu.Lock()
		in.err = err
		r.mu.Unlock()
		r.log.Error("vrrp instance cannot run; retrying", "vrrp_instance", name, "err", err, "retry_in", delay)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, r.o.RetryMax)
	}
}

// onTransition is every instance's OnTransition: it records the state,
// queues the notify hooks and updates the sync group.
func (r *Runner) onTransition(in *instance, t vrrp.Transition) {
	r.mu.Lock()
	defer r.mu.Unlock()
	in.state = t.To
	in.err = nil
	name := in.spec.Config.Name
	if n := r.notifiers[name]; n != nil {
		n.post(notifyCalls(in.spec.Notify, "INSTANCE", name, t.From, t.To, t.Priority, t.Reason))
	}
	if r.o.OnTransition != nil {
		r.o.OnTransition(in.spec, t)
	}
	if g := r.groups[in.spec.SyncGroup]; g != nil && r.insts[name] == in {
		r.groupStateLocked(g, name+" "+t.To.String()+": "+t.Reason)
		r.forceGroupLocked(in, t)
	}
}

// syncReason starts the reason of a transition forced by a sync group.
const syncReason = "vrrp_sync_group "

// forcer is what a sync group needs of an instance to move it along
// (vrrp.Instance has it).
type forcer interface {
	Force(to vrrp.State, reason string) error
}

// forceGroupLocked does what keepalived's sync groups do when a member
// changes by itself: one becoming MASTER takes the members in BACKUP to
// MASTER with it, one leaving MASTER for BACKUP takes the masters to
// BACKUP. (FAULT is syncLocked's.) Changes a group forced are not passed
// on again.
func (r *Runner) forceGroupLocked(in *instance, t vrrp.Transition) {
	if strings.HasPrefix(t.Reason, syncReason) {
		return
	}
	var from, to vrrp.State
	switch {
	case t.To == vrrp.StateMaster && t.From == vrrp.StateBackup:
		from, to = vrrp.StateBackup, vrrp.StateMaster
	case t.From == vrrp.StateMaster && t.To == vrrp.StateBackup:
		from, to = vrrp.StateMaster, vrrp.StateBackup
	default:
		return
	}
	g := in.spec.SyncGroup
	for _, other := range r.membersLocked(g) {
		if other == in || other.state != from {
			continue
		}
		f, ok := other.vi.(forcer)
		if !ok {
			continue
		}
		why := fmt.Sprintf("%s%s: %s became %v", syncReason, g, in.spec.Config.Name, to)
		r.log.Info("vrrp_sync_group: moving a member along", "vrrp_sync_group", g, "vrrp_instance", other.spec.Config.Name, "to", to.String(), "because", in.spec.Config.Name)
		if err := f.Force(to, why); err != nil {
			r.log.Error("vrrp_sync_group", "vrrp_instance", other.spec.Config.Name, "err", err)
		}
	}
}

// members are the running instances of group g.
func (r *Runner) membersLocked(g string) []*instance {
	var out []*instance
	for _, name := range r.order {
		if in := r.insts[name]; in != nil && in.spec.SyncGroup == g {
			out = append(out, in)
		}
	}
	return out
}

// groupState is the state of a sync group from its members': FAULT if one
// is, MASTER if all are, BACKUP if one is backup or master, STOP when all
// stopped, INIT otherwise.
func groupState(states []vrrp.State) vrrp.State {
	count := map[vrrp.State]int{}
	for _, s := range states {
		count[s]++
	}
	switch n := len(states); {
	case n == 0:
		return vrrp.StateInit
	case count[vrrp.StateFault] > 0:
		return vrrp.StateFault
	case count[vrrp.StateMaster] == n:
		return vrrp.StateMaster
	case count[vrrp.StateBackup]+count[vrrp.StateMaster] > 0:
		return vrrp.StateBackup
	case count[vrrp.StateStop] == n:
		return vrrp.StateStop
	}
	return vrrp.StateInit
}

func (r *Runner) groupStateLocked(g *group, why string) {
	var states []vrrp.State
	for _, in := range r.membersLocked(g.spec.Name) {
		states = append(states, in.state)
	}
	st := groupState(states)
	if st == g.state || st == vrrp.StateInit {
		return
	}
	from := g.state
	g.state = st
	r.log.Info("vrrp_sync_group entering "+st.String()+" state", "vrrp_sync_group", g.spec.Name, "from", from.String(), "reason", why)
	g.notifier.post(notifyCalls(g.spec.Notify, "GROUP", g.spec.Name, from, st, 0, why))
}

// stateLocked is the state of a tracked object.
func (r *Runner) stateLocked(name string) bool {
	if iface, ok := strings.CutPrefix(name, lvshcl.TrackInterface); ok {
		return !r.linksKnown || r.links[iface]
	}
	up, ok := r.tracked[name]
	return !ok || up
}

// setTrackedLocked records the state of a script or virtual service and
// passes it on.
func (r *Runner) setTrackedLocked(name string, up bool) {
	if old, ok := r.tracked[name]; ok && old == up {
		return
	}
	r.tracked[name] = up
	r.passLocked(name, up)
}

// passLocked tells every instance tracking name its state.
func (r *Runner) passLocked(name string, up bool) {
	for _, in := range r.insts {
		if !tracks(in.cfg, name) {
			continue
		}
		if err := in.vi.SetTracked(name, up); err != nil {
			r.log.Error("tracking", "vrrp_instance", in.spec.Config.Name, "err", err)
		}
	}
	r.syncLocked()
}

func tracks(c vrrp.Config, name string) bool {
	return slices.ContainsFunc(c.Track, func(t vrrp.Track) bool { return t.Name == name })
}

// linkChanged is the LinkSource callback.
func (r *Runner) linkChanged(iface string, up bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old, had := r.links[iface]
	r.links[iface] = up
	if !r.linksKnown || (had && old == up) {
		return
	}
	name := lvshcl.TrackInterface + iface
	for _, in := range r.insts {
		if tracks(in.cfg, name) || in.cfg.Interface == iface {
			r.log.Info("link state", "interface", iface, "up", up)
			break
		}
	}
	r.passLocked(name, up)
}

// ownFaultLocked says why in is in FAULT for a reason of its own ("" if
// it is not): its interface, or a tracked object of weight 0, is down.
func (r *Runner) ownFaultLocked(in *instance) string {
	var why []string
	if r.linksKnown && !r.links[in.cfg.Interface] {
		why = append(why, "interface "+in.cfg.Interface+" down")
	}
	for _, t := range in.cfg.Track {
		if t.Weight == 0 && !strings.HasPrefix(t.Name, SyncTrack) && !r.stateLocked(t.Name) {
			why = append(why, t.Name+" down")
		}
	}
	return strings.Join(why, ", ")
}

// syncLocked puts the members of each sync group in FAULT while another
// member is in FAULT for a reason of its own.
func (r *Runner) syncLocked() {
	for gname := range r.groups {
		members := r.membersLocked(gname)
		own := map[*instance]string{}
		for _, in := range members {
			if why := r.ownFaultLocked(in); why != "" {
				own[in] = why
			}
		}
		for _, in := range members {
			var faulty []string
			for _, other := range members {
				if other != in && own[other] != "" {
					faulty = append(faulty, other.spec.Config.Name+" ("+own[other]+")")
				}
			}
			up := len(faulty) == 0
			if in.syncSet && in.syncUp == up {
				continue
			}
			if in.syncSet || !up {
				if up {
					r.log.Info("vrrp_sync_group: the other members are out of FAULT", "vrrp_instance", in.spec.Config.Name, "vrrp_sync_group", gname)
				} else {
					r.log.Warn("vrrp_sync_group: following a member into FAULT", "vrrp_instance", in.spec.Config.Name, "vrrp_sync_group", gname, "faulty", faulty)
				}
			}
			in.syncSet, in.syncUp = true, up
			if err := in.vi.SetTracked(SyncTrack+gname, up); err != nil {
				r.log.Error("tracking", "vrrp_instance", in.spec.Config.Name, "err", err)
			}
		}
	}
}

// wait waits for done, logging if it takes long.
func (r *Runner) wait(done <-chan struct{}, what string) bool {
	select {
	case <-done:
		return true
	case <-time.After(r.o.ShutdownWait):
		r.log.Error("gave up waiting for " + what)
		return false
	}
}

// shutdown waits for the instances to leave (Run's ctx is done, and so is
// theirs), stops the scripts and lets the hooks finish.
func (r *Runner) shutdown() {
	r.mu.Lock()
	var insts []*instance
	for _, in := range r.insts {
		in.cancel()
		insts = append(insts, in)
	}
	var scripts []*script
	for _, sc := range r.scripts {
		sc.cancel()
		scripts = append(scripts, sc)
	}
	r.mu.Unlock()
	deadline := time.After(r.o.ShutdownWait)
	waitAll := func(chs []<-chan struct{}, what string) {
		for _, ch := range chs {
			select {
			case <-ch:
			case <-deadline:
				r.log.Error("gave up waiting for " + what)
				return
			}
		}
	}
	var chs []<-chan struct{}
	for _, in := range insts {
		chs = append(chs, in.done)
	}
	waitAll(chs, "the vrrp instances to stop")
	chs = chs[:0]
	for _, sc := range scripts {
		chs = append(chs, sc.done)
	}
	waitAll(chs, "the vrrp scripts to stop")

	r.mu.Lock()
	chs = chs[:0]
	for name, n := range r.notifiers {
		n.close()
		chs = append(chs, n.done)
		delete(r.notifiers, name)
	}
	for name, g := range r.groups {
		g.notifier.close()
		chs = append(chs, g.notifier.done)
		delete(r.groups, name)
	}
	r.insts = map[string]*instance{}
	r.scripts = map[string]*script{}
	r.mu.Unlock()
	waitAll(chs, "the notify hooks to finish")
}

// InstanceStatus is the status of one instance.
type InstanceStatus struct {
	vrrp.Status
	SyncGroup string
	// Err is why the instance last failed to run, while it is retried.
	Err string
}

// ScriptStatus is the state of one running vrrp_script.
type ScriptStatus struct {
	Name   string
	Up     bool
	Known  bool   // false until its first result
	Detail string // of the last run
	Runs   uint64
}

// GroupStatus is the state of one vrrp_sync_group.
type GroupStatus struct {
	Name    string
	State   vrrp.State
	Members []string
}

// VRRPStatus is what the runner runs, for `lvsctl status`.
type VRRPStatus struct {
	Instances []InstanceStatus // in configuration order
	Scripts   []ScriptStatus   // by name
	Groups    []GroupStatus    // by name
}

// Status returns a snapshot; safe from any goroutine.
func (r *Runner) Status() VRRPStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	var st VRRPStatus
	for _, name := range r.order {
		in := r.insts[name]
		if in == nil {
			continue
		}
		is := InstanceStatus{Status: in.vi.Status(), SyncGroup: in.spec.SyncGroup}
		if in.err != nil {
			is.Err = in.err.Error()
		}
		st.Instances = append(st.Instances, is)
	}
	for _, name := range slices.Sorted(maps.Keys(r.scripts)) {
		sc := r.scripts[name]
		st.Scripts = append(st.Scripts, ScriptStatus{Name: name, Up: sc.up, Known: sc.known, Detail: sc.detail, Runs: sc.runs})
	}
	for _, name := range slices.Sorted(maps.Keys(r.groups)) {
		g := r.groups[name]
		gs := GroupStatus{Name: name, State: g.state}
		for _, in := range r.membersLocked(name) {
			gs.Members = append(gs.Members, in.spec.Config.Name)
		}
		st.Groups = append(st.Groups, gs)
	}
	return st
}
